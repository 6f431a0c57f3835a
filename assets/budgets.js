// Budgets page: grid helpers. Display only: amounts are parsed, checked and stored on the server.
var dagfuncs = (window.dashAgGridFunctions = window.dashAgGridFunctions || {});
var dagcomps = (window.dashAgGridComponentFunctions = window.dashAgGridComponentFunctions || {});

var PLAIN_AMOUNT = /^-?\d+(\.\d+)?$/;

// "1234.50" (the plain amount the server sends) -> "$1,234.50". Anything else (what was just typed,
// before the server answers) is shown as typed.
dagfuncs.budgetAmountText = function (value, currency) {
  if (value === null || value === undefined) {
    return "";
  }
  var text = String(value);
  if (!PLAIN_AMOUNT.test(text)) {
    return text;
  }
  return dagfuncs.formatCents(Math.round(Number(text) * 100), currency);
};

dagfuncs.budgetAmountCompare = function (a, b) {
  var x = Number(a), y = Number(b);
  if (isNaN(x)) { x = -Infinity; }
  if (isNaN(y)) { y = -Infinity; }
  return x === y ? 0 : (x < y ? -1 : 1);
};

// Percent of the budget used, as a bar and a number; red when the budget is overspent.
dagcomps.BudgetUsedBar = function (props) {
  var pct = props.value;
  var data = props.data || {};
  var over = data.remaining_cents < 0;
  var width = pct === null || pct === undefined ? (over ? 100 : 0) : Math.max(0, Math.min(100, pct));
  var label = pct === null || pct === undefined ? (over ? "over" : "–") : Math.round(pct) + "%";
  return React.createElement("div", {className: "budget-bar" + (over ? " over" : "")},
    React.createElement("div", {className: "budget-bar-track"},
      React.createElement("div", {className: "budget-bar-fill", style: {width: width + "%"}})),
    React.createElement("span", {className: "budget-bar-label"}, label));
};

// Category: the category's own name first, its parent after it in grey ("Groceries  Food"), so a
// narrow column cuts the parent, not the name. The full "Food › Groceries" is the tooltip.
dagcomps.BudgetCategory = function (props) {
  var data = props.data || {};
  return React.createElement("span", {className: "budget-cat"},
    React.createElement("span", {className: "budget-cat-name"}, data.name || props.value),
    data.parent ? React.createElement("span", {className: "budget-cat-parent"}, data.parent) : null);
};
