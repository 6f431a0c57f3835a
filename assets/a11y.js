// Accessibility repairs for markup that Dash 4's own components render (checked by axe in the browser
// tests), applied whenever React adds them:
// - a dropdown's keyboard focus target is focusable but aria-hidden: it gets the dropdown's name instead;
// - a date range's wrapper <div> carries button-only ARIA (aria-expanded, aria-haspopup) and an
//   aria-labelledby naming "undefined": those go;
// - a date picker's clear <a> has no href or role: it becomes a keyboard-reachable button.
(function () {
  "use strict";

  function labelFor(button) {
    var id = button.id;
    var label = id && document.querySelector('label[for="' + (window.CSS && CSS.escape ? CSS.escape(id) : id) + '"]');
    var name = label ? label.textContent.trim() : button.getAttribute("aria-label") || "Choose";
    var value = button.querySelector(".dash-dropdown-value");
    var shown = value ? value.textContent.trim() : "";
    return name + (shown ? ": " + shown : "");
  }

  function repair(scope) {
    var i;
    var targets = scope.querySelectorAll(".dash-dropdown-focus-target[aria-hidden]");
    for (i = 0; i < targets.length; i++) {
      var target = targets[i];
      var button = target.parentNode && target.parentNode.querySelector("button.dash-dropdown");
      target.removeAttribute("aria-hidden");
      target.setAttribute("aria-label", button ? labelFor(button) : "Choose");
    }
    var wrappers = scope.querySelectorAll(".dash-datepicker-input-wrapper[aria-expanded], .dash-datepicker-input-wrapper[aria-labelledby]");
    for (i = 0; i < wrappers.length; i++) {
      ["aria-expanded", "aria-haspopup", "aria-disabled", "aria-labelledby", "type"].forEach(function (name) {
        wrappers[i].removeAttribute(name);
      });
    }
    var clears = scope.querySelectorAll("a.dash-datepicker-clear:not([role])");
    for (i = 0; i < clears.length; i++) {
      clears[i].setAttribute("role", "button");
      clears[i].setAttribute("tabindex", "0");
    }
    var files = scope.querySelectorAll('input[type="file"]:not([aria-label])');
    for (i = 0; i < files.length; i++) {
      files[i].setAttribute("aria-label", "Choose a file");
    }
    var bars = scope.querySelectorAll('[role="progressbar"]:not([aria-label]):not([aria-labelledby])');
    for (i = 0; i < bars.length; i++) {
      var holder = bars[i].closest("[data-progress-label]");
      bars[i].setAttribute("aria-label", holder ? holder.getAttribute("data-progress-label") : "Progress");
    }
  }

  var queued = false;
  function schedule() {
    if (queued) {
      return;
    }
    queued = true;
    window.requestAnimationFrame(function () {
      queued = false;
      repair(document);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    repair(document);
    new MutationObserver(schedule).observe(document.body, { childList: true, subtree: true, attributes: true,
      attributeFilter: ["aria-hidden", "aria-expanded"] });
  });
  // Keep the focus target's name in step when the value changes.
  document.addEventListener("focusin", function (event) {
    var target = event.target;
    if (target && target.classList && target.classList.contains("dash-dropdown-focus-target")) {
      var button = target.parentNode && target.parentNode.querySelector("button.dash-dropdown");
      if (button) {
        target.setAttribute("aria-label", labelFor(button));
      }
    }
  });
})();
