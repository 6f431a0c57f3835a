// Functions the AG Grids call by name (dash-ag-grid looks them up in this namespace).
var dagfuncs = (window.dashAgGridFunctions = window.dashAgGridFunctions || {});

// Integer cents -> "$1,234.50" in the user's currency. Display only: amounts stay cents on the server.
dagfuncs.formatCents = function (cents, currency, locale) {
  if (cents === null || cents === undefined || cents === "") {
    return "";
  }
  var value = Number(cents) / 100;
  try {
    return new Intl.NumberFormat(locale || undefined, { style: "currency", currency: currency || "USD" }).format(value);
  } catch (e) {
    return (currency || "") + " " + value.toFixed(2);
  }
};

// ISO date "2026-11-27" -> locale date, without time-zone shifts.
dagfuncs.formatIsoDate = function (iso, locale) {
  if (!iso) {
    return "";
  }
  var parts = String(iso).split("-");
  var d = new Date(Number(parts[0]), Number(parts[1]) - 1, Number(parts[2]));
  return d.toLocaleDateString(locale || undefined, { year: "numeric", month: "short", day: "numeric" });
};
