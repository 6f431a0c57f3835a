// The address bar of a page that keeps its filters in it (Spending).
//
// Forward: a filter change's new address comes in the callback's answer and is pushed from there
// (ledgerlensHistory below): no callback runs for it.
// Back / Forward: such a page marks its root with data-popstate-store (a dcc.Store's id) and
// data-popstate-path; on a popstate that stays on that page, the store gets the new query string, and
// the page's clientside callback puts it into the controls.
(function () {
  "use strict";
  function canonical(search) {
    var params = new URLSearchParams(search), out = new URLSearchParams();
    Array.from(params.keys()).sort().forEach(function (key) {
      out.set(key, params.get(key));
    });
    return out.toString();
  }

  // A filter change's new address (components/address.py), straight from the callback's answer (the
  // Dash renderer's request_post hook): a history entry, unless the address already says the same.
  window.ledgerlensHistory = {
    fromResponse: function (response) {
      if (!response || typeof response !== "object") {
        return;
      }
      Object.keys(response).forEach(function (id) {
        var data = response[id] && response[id].data;
        var query = data && typeof data === "object" ? data.ledgerlensAddress : null;
        if (!query || typeof query !== "object") {
          return;
        }
        var params = new URLSearchParams();
        Object.keys(query).sort().forEach(function (key) {
          params.set(key, query[key]);
        });
        if (canonical(params.toString()) !== canonical(window.location.search)) {
          var search = params.toString();
          window.history.pushState({}, "", window.location.pathname + (search ? "?" + search : "") +
            window.location.hash);
        }
      });
    },
  };

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
