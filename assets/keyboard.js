// Ledgerlens keyboard shortcuts (the list the "?" overlay shows: dashboard/components/shortcuts.py).
//   n        new transaction (opens Transactions' add dialog, from any page)
//   /        focus the navbar search (Enter opens Transactions filtered by the text)
//   g x      go to a page (the letters come from #ll-goto, written by the server)
//   ?        the shortcut overlay;  Escape closes it (Bootstrap's modals close on Escape themselves)
// Keys typed into an input, a select, a text area or an editable grid cell are left alone.
(function () {
  "use strict";
  var NEW_BUTTONS = { "/accounts": "accounts-new", "/transactions": "transactions-add", "/goals": "goals-new" };
  var pendingG = 0;

  function typing(target) {
    if (!target || !target.tagName) {
      return false;
    }
    var tag = target.tagName.toLowerCase();
    if (tag === "input" || tag === "textarea" || tag === "select" || target.isContentEditable) {
      return true;
    }
    // AG Grid: a cell being edited, or any key the grid itself handles (arrows, Enter) in a focused cell
    return !!(target.closest && target.closest(".ag-cell-inline-editing, .ag-popup, .modal.show, .dash-dropdown"));
  }

  function gotoTargets() {
    var holder = document.getElementById("ll-goto");
    try {
      return holder ? JSON.parse(holder.getAttribute("data-goto")) : [];
    } catch (e) {
      return [];
    }
  }

  function dashNavigate(href) {
    // Dash's router listens for this event after a pushState (what dcc.Link does); /settings is a Flask page.
    if (href.indexOf("/settings") === 0 || !window.dash_clientside) {
      window.location.assign(href);
      return;
    }
    window.history.pushState({}, "", href);
    window.dispatchEvent(new CustomEvent("_dashprivate_pushstate"));
    window.scrollTo(0, 0);
  }

  function clickWhenThere(id, tries) {
    var button = document.getElementById(id);
    if (button && !button.disabled) {
      button.click();
      return;
    }
    if (tries > 0) {
      window.setTimeout(function () {
        clickWhenThere(id, tries - 1);
      }, 100);
    }
  }

  // "#new" in an address (the first-run links use it) opens that page's add dialog once the page is there.
  function openNewFromHash() {
    if (window.location.hash !== "#new") {
      return;
    }
    var id = NEW_BUTTONS[window.location.pathname];
    if (id) {
      window.history.replaceState({}, "", window.location.pathname + window.location.search);
      clickWhenThere(id, 50);
    }
  }

  function newTransaction() {
    if (window.location.pathname === "/transactions") {
      clickWhenThere("transactions-add", 50);
    } else {
      dashNavigate("/transactions#new");
      openNewFromHash();
    }
  }

  function showShortcuts(open) {
    if (window.dash_clientside && window.dash_clientside.set_props) {
      window.dash_clientside.set_props("shortcuts-modal", { is_open: open });
    }
  }

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) {
      return;
    }
    if (event.key === "Escape" && document.activeElement && document.activeElement.id === "nav-search") {
      document.activeElement.blur();
      return;
    }
    if (typing(event.target)) {
      return;
    }
    var key = event.key;
    if (pendingG && Date.now() - pendingG < 1500) {
      pendingG = 0;
      var target = gotoTargets().filter(function (t) {
        return t.key === key.toLowerCase();
      })[0];
      if (target) {
        event.preventDefault();
        dashNavigate(target.path);
      }
      return;
    }
    pendingG = 0;
    if (key === "g") {
      pendingG = Date.now();
    } else if (key === "n") {
      event.preventDefault();
      newTransaction();
    } else if (key === "/") {
      var search = document.getElementById("nav-search");
      if (search) {
        event.preventDefault();
        var toggler = document.getElementById("nav-toggler");
        var collapse = document.getElementById("nav-collapse");
        if (toggler && collapse && toggler.offsetParent !== null && !collapse.classList.contains("show")) {
          toggler.click(); // a phone: open the menu so the search box can be seen
          window.setTimeout(function () {
            search.focus();
          }, 350);
        } else {
          search.focus();
        }
      }
    } else if (key === "?") {
      event.preventDefault();
      showShortcuts(true);
    }
  });

  // The navbar search: move within the app instead of reloading the page (the form still works without
  // this script, as a plain GET to /transactions?q=...).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form || form.id !== "nav-search-form") {
      return;
    }
    event.preventDefault();
    var input = document.getElementById("nav-search");
    var text = input ? input.value.trim() : "";
    dashNavigate("/transactions" + (text ? "?q=" + encodeURIComponent(text) : ""));
    if (input) {
      input.blur();
    }
  });

  window.addEventListener("_dashprivate_pushstate", openNewFromHash);
  window.addEventListener("popstate", openNewFromHash);
  document.addEventListener("DOMContentLoaded", openNewFromHash);
  if (document.readyState !== "loading") {
    openNewFromHash();
  }
})();
