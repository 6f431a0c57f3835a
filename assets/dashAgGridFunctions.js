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

// Infinite grids: new filters, rows again from the top. ``first`` (components/grid.py first_block: the
// first block's rows, sent by the server with the filter change) answers the grid's first request at
// once, when it asks for exactly that block in that order with no column filter; every other request
// goes to the server through dash-ag-grid's own datasource (getRowsRequest -> getRowsResponse).
// ``fromResponse`` is the Dash renderer's request_post hook (dashboard/__init__.py): it finds a first
// block in a callback's answer and refreshes its grid before the answer's charts are drawn.
window.ledgerlensGrid = {
  fromResponse: function (response) {
    if (!response || typeof response !== "object") {
      return;
    }
    Object.keys(response).forEach(function (id) {
      var data = response[id] && response[id].data;
      if (data && typeof data === "object" && typeof data.ledgerlensFirstBlock === "string") {
        window.ledgerlensGrid.refresh(data.ledgerlensFirstBlock, data);
      }
    });
  },

  refresh: function (gridId, first) {
    var api = null;
    try {
      api = window.dash_ag_grid && window.dash_ag_grid.getApi ? window.dash_ag_grid.getApi(gridId) : null;
    } catch (e) {
      api = null;
    }
    if (!api) {
      return false;
    }
    var server = api.__llServerDatasource || api.getGridOption("datasource");
    if (!server || !first) {
      api.purgeInfiniteCache();
      return true;
    }
    api.__llServerDatasource = server;
    var pending = first;
    var sameOrder = function (a, b) {
      var norm = function (model) {
        return JSON.stringify((model || []).map(function (m) { return [m.colId, m.sort]; }));
      };
      return norm(a) === norm(b);
    };
    var noFilter = function (model) {
      return !model || Object.keys(model).length === 0;
    };
    api.setGridOption("datasource", {
      getRows: function (params) {
        var answer = pending;
        pending = null;
        if (answer && params.startRow === answer.startRow && params.endRow === answer.endRow &&
            sameOrder(params.sortModel, answer.sortModel) && noFilter(params.filterModel)) {
          params.successCallback(answer.rowData, answer.rowCount);
        } else {
          server.getRows(params);
        }
      },
      destroy: function () {},
    });
    return true;
  },
};
