"""The Dash app, mounted on the Flask server that carries the models and the login."""
from __future__ import annotations

from pathlib import Path

import dash
import dash_bootstrap_components as dbc
from dash import Dash, html
from flask import Flask

from dashboard import appearance
from dashboard.guard import APP_ALERT_ID, guard_dash_routes, on_callback_error

ROOT = Path(__file__).resolve().parent.parent


def navbar() -> dbc.Navbar:
    links = [
        dbc.NavItem(dbc.NavLink(page["name"], href=page["relative_path"], active="exact"))
        for page in sorted(dash.page_registry.values(), key=lambda p: p.get("order", 99))
        if page.get("nav", True)
    ]
    return dbc.Navbar(
        dbc.Container([
            dbc.NavbarBrand([html.Span("◈ ", className="brand-mark"), "Ledgerlens"], href="/"),
            dbc.NavbarToggler(id="nav-toggler", n_clicks=0),
            dbc.Collapse(
                dbc.Nav(links + [
                    dbc.NavItem(appearance.nav_search(), className="d-flex align-items-center"),
                    dbc.NavItem(appearance.theme_toggle()),
                    dbc.NavItem(html.A("Settings", href="/settings", className="nav-link",
                                       id="nav-settings")),
                    dbc.NavItem(html.A("Log out", href="/logout", className="nav-link",
                                       id="nav-logout")),
                ], navbar=True, className="ms-auto"),
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

    server.extensions["ledgerlens_dash"] = app
    return app
