// Ledgerlens colour theme. Loaded in <head> (before the first paint) by the Dash index page and the login /
// settings templates; Dash does not load it a second time (assets_ignore).
//
// <html data-ll-theme="system|light|dark"> is the person's choice, written by the server. This script turns
// it into data-bs-theme (Bootstrap 5.3's dark colours) and data-ag-theme-mode (AG Grid's dark mode params)
// = "light" or "dark", follows the system preference while the choice is "system", swaps the Plotly
// template of every chart (templates from dashboard/figures/theme.py, in #ll-figure-templates), and gives
// every chart a text alternative: a label and a hidden table of its numbers for screen readers.
(function () {
  "use strict";
  var root = document.documentElement;
  var media = window.matchMedia ? window.matchMedia("(prefers-color-scheme: dark)") : null;
  var templates = null;

  function choice() {
    var value = root.getAttribute("data-ll-theme");
    return value === "light" || value === "dark" ? value : "system";
  }

  function resolved() {
    var value = choice();
    if (value === "system") {
      return media && media.matches ? "dark" : "light";
    }
    return value;
  }

  function figureTemplates() {
    if (templates) {
      return templates;
    }
    var holder = document.getElementById("ll-figure-templates");
    if (!holder) {
      return null;
    }
    try {
      templates = JSON.parse(holder.getAttribute("data-templates"));
    } catch (e) {
      templates = null;
    }
    return templates;
  }

  function themeOf(gd) {
    var t = gd && gd.layout && gd.layout.template;
    var meta = t && t.layout && t.layout.meta;
    return meta && meta.ledgerlens_theme;
  }

  // -- charts: template and text alternative ------------------------------------------------------
  function textOf(value) {
    if (value === null || value === undefined) {
      return "";
    }
    if (typeof value === "number") {
      return value.toLocaleString(undefined, { maximumFractionDigits: 2 });
    }
    return String(value).replace(/<[^>]*>/g, " ").replace(/\s+/g, " ").trim();
  }

  function titleOf(gd) {
    var title = gd.layout && gd.layout.title;
    var text = title && (typeof title === "string" ? title : title.text);
    if (text) {
      return textOf(text);
    }
    var annotations = (gd.layout && gd.layout.annotations) || [];
    return annotations.length ? textOf(annotations[0].text) : "Chart";
  }

  function describe(gd) {
    // A short summary for aria-label, and a table (first 24 points of each series) for screen readers.
    var data = gd.data || [];
    var title = titleOf(gd);
    var names = [];
    // The hidden box is a div around the table: a table ignores the 1px width of .visually-hidden and
    // would widen the page on a phone.
    var wrapper = document.createElement("div");
    wrapper.className = "visually-hidden ll-chart-table";
    var table = document.createElement("table");
    wrapper.appendChild(table);
    var caption = document.createElement("caption");
    caption.textContent = title + " (data table)";
    table.appendChild(caption);
    var body = document.createElement("tbody");
    data.forEach(function (trace) {
      if (trace.visible === false) {
        return;
      }
      var name = textOf(trace.name) || textOf(trace.type) || "Series";
      names.push(name);
      var labels = trace.labels || (trace.orientation === "h" ? trace.y : trace.x) || [];
      var values = trace.values || (trace.orientation === "h" ? trace.x : trace.y) || [];
      if (trace.type === "indicator") {
        labels = [name];
        values = [trace.value];
      }
      var shown = Math.min(24, Math.max(labels.length || 0, values.length || 0));
      for (var i = 0; i < shown; i++) {
        var row = document.createElement("tr");
        [name, textOf(labels[i]), textOf(values && values[i])].forEach(function (text, column) {
          var cell = document.createElement(column === 0 ? "th" : "td");
          if (column === 0) {
            cell.setAttribute("scope", "row");
          }
          cell.textContent = text;
          row.appendChild(cell);
        });
        body.appendChild(row);
      }
    });
    table.appendChild(body);
    var label = title + (names.length ? ". Series: " + names.join(", ") + "." : "") +
      " The numbers are in the table that follows.";
    return { label: label, table: wrapper };
  }

  function labelChart(gd) {
    try {
      var summary = describe(gd);
      gd.setAttribute("role", "img");
      gd.setAttribute("aria-label", summary.label);
      var holder = gd.parentNode;
      var old = holder && holder.querySelector(":scope > .ll-chart-table");
      if (old) {
        old.remove();
      }
      if (holder) {
        holder.appendChild(summary.table);
      }
    } catch (e) {
      /* a chart without its text alternative still works */
    }
  }

  function restyle(gd) {
    var all = figureTemplates();
    var want = resolved();
    if (!all || !all[want] || !window.Plotly || !gd.layout || themeOf(gd) === want) {
      return;
    }
    var layout = Object.assign({}, gd.layout, { template: all[want] });
    window.Plotly.react(gd, gd.data, layout);
  }

  // dcc.Graph redraws a chart whenever its box changes size (Plotly.Plots.resize, 100 ms later, a whole
  // second drawing). A chart whose figure sets its height changes height when new data comes (a bar
  // chart with fewer rows): that is no reason to draw it again. Resize only when the width changed.
  function sparingResize() {
    var Plots = window.Plotly && window.Plotly.Plots;
    if (!Plots || Plots.__llSparing || typeof Plots.resize !== "function") {
      return;
    }
    var resize = Plots.resize;
    Plots.resize = function (gd) {
      var el = typeof gd === "string" ? document.getElementById(gd) : gd;
      var full = el && el._fullLayout;
      if (full && el.layout && el.layout.height && !el.layout.width &&
          Math.abs(el.getBoundingClientRect().width - full.width) < 1) {
        return Promise.resolve(el);
      }
      return resize.apply(this, arguments);
    };
    Plots.__llSparing = true;
  }

  // Plotly clears a hover label when the mouse leaves its point, or when its own treemap zoom starts. A drill
  // does neither: the click goes to Dash (below) and the server's chart replaces the boxes under a mouse that
  // has not moved, so the clicked box's label would linger until the mouse moves. Clear it with the click.
  function clearHover(gd) {
    var Fx = window.Plotly && window.Plotly.Fx;
    if (Fx && typeof Fx.unhover === "function" && gd._fullLayout && gd._fullLayout._hoverlayer) {
      Fx.unhover(gd);
    }
  }

  function watch(gd) {
    if (gd.__llWatched || typeof gd.on !== "function") {
      return;
    }
    gd.__llWatched = true;
    sparingResize();
    // A treemap drills through the app (the server sends the chart of the clicked box, with the
    // filters, the URL and the grid): Plotly's own 750 ms zoom would run first, only to be replaced.
    // Hand the click to Dash at once instead, as the clickData Plotly would have given it.
    gd.on("plotly_treemapclick", function (event) {
      var graph = gd.closest("[id]");
      var point = event && event.points && event.points[0];
      var clientside = window.dash_clientside;
      if (!graph || !point || !clientside || typeof clientside.set_props !== "function") {
        return true;   // Plotly's own behaviour
      }
      clientside.set_props(graph.id, { clickData: { points: [{
        curveNumber: point.curveNumber, pointNumber: point.pointNumber, id: point.id, label: point.label,
        value: point.value, customdata: point.customdata }] } });
      clearHover(gd);
      return false;
    });
    gd.on("plotly_afterplot", function () {
      if (themeOf(gd) !== resolved()) {
        restyle(gd);
      } else if (gd.__llLabelled !== gd.data) {
        gd.__llLabelled = gd.data;
        labelChart(gd);
      }
    });
    restyle(gd);
    labelChart(gd);
  }

  function everyChart(fn) {
    var charts = document.querySelectorAll(".js-plotly-plot");
    for (var i = 0; i < charts.length; i++) {
      fn(charts[i]);
    }
  }

  // -- the page ------------------------------------------------------------------------------------
  function syncToggle() {
    var button = document.getElementById("theme-toggle");
    if (!button) {
      return;
    }
    var dark = resolved() === "dark";
    var text = dark ? "Switch to light theme" : "Switch to dark theme";
    // Called on every change of the page: write only what differs (a write of the same value is still a
    // change every MutationObserver of the page hears).
    if (button.getAttribute("aria-label") !== text) {
      button.setAttribute("aria-label", text);
      button.setAttribute("aria-pressed", dark ? "true" : "false");
      button.title = text + " (saved for your account)";
    }
  }

  function apply() {
    var value = resolved();
    root.setAttribute("data-bs-theme", value);
    root.setAttribute("data-ag-theme-mode", value);
    if (document.body) {
      syncToggle();
      // The page's colours flip at once; the charts follow one by one, without holding up that paint.
      everyChart(function (gd) {
        window.setTimeout(function () {
          restyle(gd);
        }, 0);
      });
    }
  }

  function setChoice(value) {
    root.setAttribute("data-ll-theme", value === "light" || value === "dark" ? value : "system");
    apply();
  }

  apply();
  if (media) {
    var onChange = function () {
      if (choice() === "system") {
        apply();
      }
    };
    if (media.addEventListener) {
      media.addEventListener("change", onChange);
    } else if (media.addListener) {
      media.addListener(onChange);
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    apply();
    // Charts and the navbar arrive later (React renders them): watch for them.
    new MutationObserver(function () {
      syncToggle();
      everyChart(watch);
    }).observe(document.body, { childList: true, subtree: true });
  });

  window.ledgerlensTheme = { choice: choice, resolved: resolved, set: setChoice, apply: apply };

  // Dash clientside callback (dashboard/appearance.py): the navbar button flips light <-> dark and
  // returns the new choice for the server to keep.
  window.dash_clientside = window.dash_clientside || {};
  window.dash_clientside.ledgerlens = Object.assign(window.dash_clientside.ledgerlens || {}, {
    toggleTheme: function (nClicks) {
      if (!nClicks) {
        return window.dash_clientside.no_update;
      }
      var next = resolved() === "dark" ? "light" : "dark";
      setChoice(next);
      return next;
    },
  });
})();
