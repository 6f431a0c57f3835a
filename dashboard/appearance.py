"""What wraps every page: the colour theme (light, dark, or the system's), the navbar's theme toggle and
search box, the keyboard-shortcut overlay, and messages flashed by the login views (the welcome after
registering shows on the first page, not on a later visit to /settings).

The theme is applied in the browser by assets/theme.js, which runs in <head> (before the first paint):
it reads the person's choice from <html data-ll-theme="system|light|dark"> (written here, per request)
and sets Bootstrap's data-bs-theme and AG Grid's data-ag-theme-mode to "light" or "dark".
"""
from __future__ import annotations

import json

import dash_bootstrap_components as dbc
from dash import ClientsideFunction, Dash, Input, Output, State, dcc, html
from dash.exceptions import PreventUpdate
from flask import get_flashed_messages, has_request_context
from flask_login import current_user

from dashboard.components.empty import first_run_card
from dashboard.components.shortcuts import shortcuts_modal
from dashboard.context import require_viewer
from dashboard.figures.theme import client_templates
from dashboard.services import onboarding
from dashboard.services import users as users_svc
from dashboard.static_assets import asset_url
from dashboard.unit_of_work import unit_of_work
from models import db

# Dash's page, with the theme script in <head> (so the first paint already has the right colours) and
# the language and theme choice on <html>. assets/theme.js is kept out of Dash's own script list
# (assets_ignore) so that it runs once, early.
THEME_SCRIPT = "theme.js"
ASSETS_IGNORE = r"(^|/)theme\.js$"
INDEX_STRING = """<!DOCTYPE html>
<html lang="en" data-ll-theme="{%ll_theme%}">
    <head>
        {%metas%}
        <title>{%title%}</title>
        {%favicon%}
        <script src="/assets/theme.js"></script>
        {%css%}
    </head>
    <body>
        {%app_entry%}
        <footer>
            {%config%}
            {%scripts%}
            {%renderer%}
        </footer>
    </body>
</html>"""


def theme_for_request() -> str:
    """The logged-in person's theme choice, "system" when nobody is logged in."""
    if has_request_context() and current_user.is_authenticated:
        return users_svc.theme_of(current_user)
    return "system"


def install_index(app: Dash) -> None:
    """Write the theme choice into every page Dash serves, and load theme.js by an address that carries
    a hash of its content (dashboard/static_assets.py), so a new version is never taken from a stale cache."""
    app.index_string = (INDEX_STRING.replace("{%ll_theme%}", "{%ll_theme_placeholder%}")
                        .replace('src="/assets/theme.js"', f'src="{asset_url(THEME_SCRIPT)}"'))
    original = app.interpolate_index

    def interpolate_index(**kwargs):
        page = original(**kwargs)
        return page.replace("{%ll_theme_placeholder%}", theme_for_request(), 1)

    app.interpolate_index = interpolate_index


def theme_toggle() -> html.Button:
    """The navbar's sun / moon button; assets/theme.js keeps its label in step with the theme shown."""
    return html.Button([html.Span("☾", className="theme-icon-dark", **{"aria-hidden": "true"}),
                        html.Span("☀", className="theme-icon-light", **{"aria-hidden": "true"}),
                        html.Span("Switch theme", className="visually-hidden", id="theme-toggle-label")],
                       id="theme-toggle", n_clicks=0, type="button", className="nav-link btn btn-link theme-toggle",
                       title="Switch between light and dark (saved for your account)")


def nav_search() -> html.Form:
    """Search every transaction from any page: opens Transactions filtered by the text (``/`` focuses it).
    A plain GET form, so it works without scripts too; assets/keyboard.js turns it into an in-app move."""
    return html.Form([
        html.Label("Search transactions", htmlFor="nav-search", className="visually-hidden"),
        dcc.Input(id="nav-search", type="search", name="q", placeholder="Search  /",
                  className="form-control form-control-sm nav-search-input", autoComplete="off",
                  maxLength=200, debounce=True),
    ], id="nav-search-form", action="/transactions", method="get", role="search", className="nav-search")


def flash_messages() -> html.Div:
    """Messages the login views left for the next page (the welcome after registering)."""
    messages = get_flashed_messages() if has_request_context() else []
    return html.Div([dbc.Alert(message, color="success", dismissable=True, className="py-2 mb-3",
                               id="app-flash") for message in messages], id="app-flash-area", role="status")


def first_run_area() -> html.Div:
    """Where the first-run steps show, on every page, until the person has an account and transactions
    (then once more, pointing at Spending, until they have been there)."""
    return html.Div([dcc.Store(id="first-run-seen", storage_type="session"),
                     html.Div(id="first-run-banner")])


def first_run_view(user_id: int, display_name: str, pathname, seen) -> tuple:
    progress = onboarding.first_run(db.session, user_id)
    compact = pathname not in ("/", None)
    if not progress.done:
        return first_run_card(progress.step, name=display_name, compact=compact), True
    if seen is True and pathname != "/spending":
        return first_run_card(3, compact=compact), True
    return None, None


def chrome_stores() -> list:
    """Stores and hidden pieces every page carries: the theme choice, the figure templates for the browser,
    the shortcut overlay."""
    return [
        dcc.Store(id="theme-choice", data=None),
        dcc.Store(id="theme-saved", data=None),
        html.Div(id="ll-figure-templates", hidden=True,
                 **{"data-templates": json.dumps(client_templates(), separators=(",", ":"))}),
        shortcuts_modal(),
    ]


def register_callbacks(app: Dash) -> None:
    # The click flips the theme in the browser at once (no round trip), and hands the new choice to the
    # server, which keeps it for the person's next visit on any device.
    app.clientside_callback(
        ClientsideFunction(namespace="ledgerlens", function_name="toggleTheme"),
        Output("theme-choice", "data"),
        Input("theme-toggle", "n_clicks"),
        prevent_initial_call=True,
    )

    @app.callback(Output("first-run-banner", "children"), Output("first-run-seen", "data"),
                  Input("_pages_location", "pathname"), State("first-run-seen", "data"))
    def first_run_banner(pathname, seen):
        viewer = require_viewer()
        return first_run_view(viewer.user_id, viewer.display_name, pathname, seen)

    @app.callback(Output("theme-saved", "data"), Input("theme-choice", "data"), prevent_initial_call=True)
    def save_theme(choice):
        viewer = require_viewer()
        if not unit_of_work(users_svc.set_theme, db.session, viewer.user_id, choice).ok:
            raise PreventUpdate  # an unknown theme: nothing saved
        return choice
