"""The Dash app, mounted on the Flask server that carries the models and the login."""
from __future__ import annotations

import json
from pathlib import Path

import dash
import dash_bootstrap_components as dbc
from dash import Dash, html
from flask import Flask

from dashboard import appearance
from dashboard.components import nav
from dashboard.guard import APP_ALERT_ID, guard_dash_routes, on_callback_error

ROOT = Path(__file__).resolve().parent.parent


def navbar() -> dbc.Navbar:
    """The everyday pages, the Plan and Manage menus (dashboard/components/nav.py), search, theme, Settings,
    Log out. Below 1200 px it folds into one menu behind the toggler."""
    return dbc.Navbar(
        dbc.Container([
            dbc.NavbarBrand([html.Span("◈ ", className="brand-mark"), "Ledgerlens"], href="/"),
            dbc.NavbarToggler(id="nav-toggler", n_clicks=0),
            dbc.Collapse(
                dbc.Nav(nav.nav_items() + [
                    dbc.NavItem(appearance.nav_search(), className="d-flex align-items-center"),
                    dbc.NavItem(appearance.theme_toggle()),
                    dbc.NavItem(html.A("Settings", href="/settings", className="nav-link",
                                       id="nav-settings")),
                    dbc.NavItem(html.A("Log out", href="/logout", className="nav-link",
                                       id="nav-logout")),
                ], navbar=True, className="ms-auto align-items-xl-center"),
                id="nav-collapse", navbar=True, is_open=False,
            ),
        ], fluid=True),
        color="primary", dark=True, expand="xl", className="mb-3 shadow-sm",
    )


def init_dashboard(server: Flask) -> Dash:
    app = Dash(
        __name__,
        server=server,
        use_pages=True,
        pages_folder=str(ROOT / "dashboard" / "pages"),
        assets_folder=str(ROOT / "assets"),
        assets_ignore=appearance.ASSETS_IGNORE,  # theme.js is loaded in <head> by the index page
        title="Ledgerlens",
        update_title="Ledgerlens · loading…",
        suppress_callback_exceptions=True,
        serve_locally=True,
        compress=True,  # gzip for scripts and callback responses (flask-compress)
        meta_tags=[{"name": "viewport", "content": "width=device-width, initial-scale=1"}],
        on_error=on_callback_error,   # bad input: a message, not a 500 (dashboard/guard.py)
        # A grid's first block of rows that came with a callback's answer fills the grid at once, before
        # the answer's charts are drawn (components/grid.py first_block, assets/dashAgGridFunctions.js);
        # a new address is written to the address bar (components/address.py, assets/history.js).
        hooks={"request_post": "function(payload, response) {"
                               " if (window.ledgerlensGrid) { window.ledgerlensGrid.fromResponse(response); }"
                               " if (window.ledgerlensHistory) { window.ledgerlensHistory.fromResponse(response); } }"},
    )
    appearance.install_index(app)

    def serve_layout():
        # A function, so that a message flashed by the login views (the welcome after registering)
        # shows on the first page the person sees.
        return html.Div([
            html.A("Skip to content", href="#main-content", className="visually-hidden-focusable skip-link"),
            navbar(),
            html.Main(dbc.Container([
                appearance.flash_messages(),
                dbc.Alert(id=APP_ALERT_ID, is_open=False, dismissable=True, color="warning"),
                appearance.first_run_area(),
                dash.page_container,
            ], fluid="xxl", className="pb-5"), id="main-content", tabIndex="-1"),
            *appearance.chrome_stores(),
        ])

    app.layout = serve_layout
    appearance.register_callbacks(app)
    guard_dash_routes(server, app)

    @app.callback(
        dash.Output("nav-collapse", "is_open"),
        dash.Input("nav-toggler", "n_clicks"),
        dash.State("nav-collapse", "is_open"),
        prevent_initial_call=True,
    )
    def _toggle_nav(n_clicks, is_open):
        return not is_open

    # The phone menu closes when the page changes (a link in it moves without reloading, and the open
    # menu would cover the new page).
    app.clientside_callback(
        "function(pathname) { return false; }",
        dash.Output("nav-collapse", "is_open", allow_duplicate=True),
        dash.Input("_pages_location", "pathname"),
        prevent_initial_call=True,
    )
    # The menu that holds the page shown is marked, and the page in it, as the bar's own links are
    # (active="exact").
    groups = [s for s in nav.nav_sections() if "group" in s]
    paths = json.dumps([[p["path"] for p in s["pages"]] for s in groups])
    app.clientside_callback(
        "function(pathname) { var groups = " + paths + ";"
        " return groups.map(function(paths) {"
        "   return 'nav-group-toggle' + (paths.indexOf(pathname) >= 0 ? ' active' : ''); })"
        " .concat([].concat.apply([], groups).map(function(path) {"
        "   return 'nav-menu-item' + (path === pathname ? ' active' : ''); })); }",
        [dash.Output(f"nav-group-{s['group']}", "toggle_class_name") for s in groups]
        + [dash.Output(nav.item_id(p["path"]), "class_name") for s in groups for p in s["pages"]],
        dash.Input("_pages_location", "pathname"),
    )

    server.extensions["ledgerlens_dash"] = app
    return app
