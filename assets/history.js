// Back / Forward on a page that keeps its filters in the address bar (Spending). Such a page marks its
// root with data-popstate-store (a dcc.Store's id) and data-popstate-path; on a popstate that stays on
// that page, the store gets the new query string, and the page's clientside callback puts it into the
// controls. The page's own changes (its dcc.Location pushes the new address) fire nothing, so a filter
// change costs no extra callback.
(function () {
  "use strict";
  window.addEventListener("popstate", function () {
    var holder = document.querySelector("[data-popstate-store]");
    var clientside = window.dash_clientside;
    if (!holder || !clientside || typeof clientside.set_props !== "function") {
      return;
    }
    var path = holder.getAttribute("data-popstate-path") || "";
    var here = window.location.pathname.replace(/\/+$/, "");
    if (!path || here.slice(-path.length) !== path) {
      return;   // Back to another page: Dash's router draws it
    }
    clientside.set_props(holder.getAttribute("data-popstate-store"), { data: window.location.search });
  });
})();
