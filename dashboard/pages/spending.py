"""Spending explorer: where the money goes, filtered, drilled into, and listed row by row.

The filter state lives in the URL query string (shared links, reload and back all work). Callbacks
are thin: parse the filters, ask services.spending, hand frames to figures.spending.
"""
from __future__ import annotations

from datetime import date

import dash
import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, callback, clientside_callback, ctx, dcc, html, no_update

from dashboard.components.cards import graph_card, page_header, stat_card
from dashboard.components.empty import IMPORT, NEW_TRANSACTION, empty_state
from dashboard.components.filters import filter_bar
from dashboard.components.grid import (
    date_column,
    infinite_response,
    infinite_window,
    ledger_grid,
    money_column,
    text_column,
)
from dashboard.context import current_viewer, require_viewer
from dashboard.figures import spending as figs
from dashboard.formatting import format_money, format_percent
from dashboard.services import spending as svc
from dashboard.services.accounts import list_accounts
from dashboard.services.categories import category_frame
from dashboard.services.errors import ServiceError
from models import db

dash.register_page(__name__, path="/spending", name="Spending", title="Spending · Ledgerlens", order=1)

P = "spending"


def _options(user_id: int) -> tuple[list[dict], list[dict]]:
    accounts = list_accounts(db.session, user_id)
    account_options = [{"label": r.name + (" (archived)" if r.archived else ""), "value": int(r.id)}
                       for r in accounts.itertuples()]
    cats = category_frame(db.session, user_id)
    category_options = []
    for kind in ("expense", "income"):
        subset = cats[cats["kind"] == kind]
        for parent in subset[subset["parent_id"].isna()].itertuples():
            category_options.append({"label": f"{parent.name} (all)", "value": int(parent.id)})
            for child in subset[subset["parent_id"] == parent.id].itertuples():
                category_options.append({"label": f"{parent.name} › {child.name}", "value": int(child.id)})
    category_options.append({"label": "Uncategorized", "value": svc.UNCATEGORIZED})
    return account_options, category_options


def _grid_columns(currency: str) -> list[dict]:
    return [
        # Amount third, so that a phone shows date, payee and amount without scrolling sideways.
        date_column("date", "Date", sort="desc", minWidth=104),
        text_column("payee", "Payee", minWidth=110),
        money_column("amount_cents", "Amount", currency, minWidth=96),
        text_column("category", "Category", minWidth=150),
        text_column("description", "Description", minWidth=140),
        text_column("account", "Account", minWidth=110),
    ]


def layout(**query):
    viewer = current_viewer()
    if viewer is None:
        return html.Div(page_header("Spending"))
    filters = svc.parse_filters(query, date.today())
    account_options, category_options = _options(viewer.user_id)
    return html.Div([
        dcc.Store(id=f"{P}-state", data=svc.filters_to_query(filters)),
        dcc.Store(id=f"{P}-url-sync"),
        page_header("Spending", "Where the money goes. Click a category or a bar to drill in.",
                    actions=[html.A("Download CSV", id=f"{P}-download", className="btn btn-outline-primary btn-sm",
                                    href="/export/spending.csv" + svc.query_string(filters))]),
        filter_bar(P, filters, account_options, category_options),
        html.Div(id=f"{P}-breadcrumb", className="mb-2"),
        dcc.Loading(dbc.Row(id=f"{P}-totals", className="g-3 mb-3"), type="dot", color="#3459e6"),
        dbc.Row([
            dbc.Col(dbc.Card(dbc.CardBody([
                dbc.RadioItems(id=f"{P}-cat-view", value="treemap", inline=True, className="btn-group mb-1",
                               inputClassName="btn-check", labelClassName="btn btn-outline-secondary btn-sm",
                               labelCheckedClassName="active",
                               options=[{"label": "Treemap", "value": "treemap"}, {"label": "Bars", "value": "bars"}]),
                dcc.Loading(dcc.Graph(id=f"{P}-by-category", config={"displaylogo": False, "displayModeBar": False, "responsive": True},
                                      style={"minHeight": "380px"}), type="dot", color="#3459e6"),
            ]), className="shadow-sm h-100"), lg=6),
            dbc.Col(graph_card(f"{P}-over-time", height=380), lg=6),
        ], className="g-3 mb-3"),
        dbc.Row([
            dbc.Col(graph_card(f"{P}-comparison"), lg=6),
            dbc.Col(graph_card(f"{P}-payees"), lg=6),
        ], className="g-3 mb-3"),
        dbc.Card(dbc.CardBody([
            html.Div([html.H5("Transactions", className="card-title mb-0"),
                      html.Div(id=f"{P}-grid-summary", className="text-muted small")],
                     className="d-flex justify-content-between align-items-baseline flex-wrap gap-2 mb-2"),
            ledger_grid(f"{P}-grid", _grid_columns(viewer.currency), infinite=True, height="460px"),
        ]), className="shadow-sm"),
    ])


# --- callbacks -----------------------------------------------------------------------------------

@callback(
    Output(f"{P}-state", "data"),
    Output(f"{P}-preset", "value"),
    Output(f"{P}-dates", "start_date"),
    Output(f"{P}-dates", "end_date"),
    Output(f"{P}-categories", "value"),
    Output(f"{P}-filter-error", "children"),
    Input(f"{P}-preset", "value"),
    Input(f"{P}-dates", "start_date"),
    Input(f"{P}-dates", "end_date"),
    Input(f"{P}-accounts", "value"),
    Input(f"{P}-categories", "value"),
    Input(f"{P}-text", "value"),
    Input(f"{P}-min", "value"),
    Input(f"{P}-max", "value"),
    Input(f"{P}-flow", "value"),
    Input(f"{P}-grain", "value"),
    Input(f"{P}-by-category", "clickData"),
    Input(f"{P}-over-time", "clickData"),
    Input({"type": f"{P}-crumb", "index": ALL}, "n_clicks"),
    State({"type": f"{P}-crumb", "index": ALL}, "id"),
    State(f"{P}-state", "data"),
    prevent_initial_call=True,
)
def update_filters(preset, start, end, accounts, categories, text, min_amount, max_amount, flow, grain,
                   category_click, time_click, _crumb_clicks, crumb_ids, state):
    """Any control or chart click -> the one canonical filter state (and the controls it implies)."""
    require_viewer()
    trigger = ctx.triggered_id
    today = date.today()
    query = {"preset": preset, "accounts": accounts, "categories": categories, "q": text,
             "min": min_amount, "max": max_amount, "flow": flow, "grain": grain}
    if trigger == f"{P}-dates":
        query.update({"preset": "custom", "from": start, "to": end})
    elif preset == "custom":
        query.update({"from": start, "to": end})
    try:
        filters = svc.parse_filters(query, today, strict=True)
    except ServiceError as error:
        return no_update, no_update, no_update, no_update, no_update, error.message
    if trigger == f"{P}-by-category" and category_click:
        clicked = _clicked_custom(category_click)
        if isinstance(clicked, int):
            filters = svc.with_drill(filters, (clicked,))
    elif trigger == f"{P}-over-time" and time_click:
        clicked = _clicked_custom(time_click)
        if isinstance(clicked, str):
            try:
                filters = svc.with_month(filters, date.fromisoformat(clicked))
            except ValueError:
                pass
    elif isinstance(trigger, dict) and trigger.get("type") == f"{P}-crumb":
        filters = svc.with_drill(filters, svc.parse_filters({"categories": trigger.get("index")}, today).category_ids)
    new_state = svc.filters_to_query(filters)
    return (new_state, filters.preset, filters.start.isoformat(), filters.end.isoformat(),
            list(filters.category_ids), "")


def _clicked_custom(click_data):
    try:
        custom = click_data["points"][0]["customdata"]
    except (KeyError, IndexError, TypeError):
        return None
    if isinstance(custom, list) and custom:
        custom = custom[0]
    if isinstance(custom, bool):
        return None
    if isinstance(custom, (int, float)) and float(custom).is_integer():
        return int(custom)
    return custom if isinstance(custom, str) else None


@callback(
    Output(f"{P}-totals", "children"),
    Output(f"{P}-by-category", "figure"),
    Output(f"{P}-over-time", "figure"),
    Output(f"{P}-comparison", "figure"),
    Output(f"{P}-payees", "figure"),
    Output(f"{P}-breadcrumb", "children"),
    Output(f"{P}-grid-summary", "children"),
    Output(f"{P}-download", "href"),
    Input(f"{P}-state", "data"),
    Input(f"{P}-cat-view", "value"),
)
def update_views(state, cat_view):
    viewer = require_viewer()
    filters = svc.parse_filters(state if isinstance(state, dict) else {}, date.today())
    result = svc.explore(db.session, viewer.user_id, filters)
    cur = viewer.currency
    noun = "Spending" if filters.flow == "spending" else "Income"
    mapping = svc.display_level(result.categories, filters)
    if cat_view == "bars":
        by_category = figs.category_bars(result.by_category, result.categories, mapping, cur, title=f"{noun} by category")
    else:
        by_category = figs.category_treemap(result.by_category, result.categories, cur, title=f"{noun} by category")
    grain = filters.effective_grain
    prev_start, prev_end = result.previous_range
    return (
        _totals(result, cur, noun),
        by_category,
        figs.over_time(result.over_time, result.categories, mapping, cur, grain=grain,
                       title=f"{noun} by {grain} · click a bar to zoom in"),
        figs.comparison(result.by_category, result.previous, result.categories, mapping, cur, flow=filters.flow,
                        title=f"Change vs {prev_start:%d %b %Y} – {prev_end:%d %b %Y}"),
        figs.top_payees(result.payees, cur, title="Top payees"),
        _breadcrumb(result, filters),
        f"{result.row_count:,} rows · total {format_money(result.total_cents, cur, cents=True)}",
        "/export/spending.csv" + svc.query_string(filters),
    )


def _totals(result: svc.Exploration, currency: str, noun: str) -> list:
    f = result.filters
    if result.empty:
        if not f.category_ids and not f.account_ids and not f.row_filtered:
            message = empty_state("Nothing spent in these dates", "Import a bank statement or add a "
                                  "transaction, or widen the dates.",
                                  [("Import a statement", IMPORT), ("Add a transaction", NEW_TRANSACTION)])
        else:
            message = "Nothing matches these filters. Widen the dates or clear a filter."
        return [dbc.Col(dbc.Alert(message, color="light", className="mb-0 border", id=f"{P}-empty"), xs=12)]
    previous_total = int(result.previous["total_cents"].sum()) if not result.previous.empty else 0
    change = result.total_cents - previous_total
    days = (f.end - f.start).days + 1
    detail = (html.Span([format_percent(change / previous_total, signed=True) if previous_total else "new",
                         f" vs previous period ({format_money(previous_total, currency, cents=True)})"])
              if previous_total else "nothing in the previous period")
    cards = [
        stat_card(f"{noun}, {f.start:%d %b %Y} – {f.end:%d %b %Y}",
                  format_money(result.total_cents, currency, cents=True), id=f"{P}-total", detail=detail),
        stat_card("Transactions", f"{result.row_count:,}", id=f"{P}-count",
                  detail=f"average {format_money(result.total_cents // max(result.row_count, 1), currency, cents=True)}"),
        stat_card("Per day", format_money(result.total_cents // days, currency, cents=True),
                  detail=f"over {days} days"),
    ]
    return [dbc.Col(card, xs=12, md=4) for card in cards]


def _breadcrumb(result: svc.Exploration, filters: svc.SpendingFilters):
    trail = svc.breadcrumb(result.categories, filters)
    items = []
    for i, (label, ids) in enumerate(trail):
        last = i == len(trail) - 1
        if last:
            items.append(html.Span(label, className="fw-semibold", **{"aria-current": "page"}))
        else:
            items.append(html.Button(label, id={"type": f"{P}-crumb", "index": ",".join(map(str, ids))},
                                     className="btn btn-link btn-sm p-0 align-baseline"))
            items.append(html.Span(" › ", className="text-muted mx-1"))
    return html.Nav(items, **{"aria-label": "Category drill-down"}, className="small")


@callback(
    Output(f"{P}-grid", "getRowsResponse"),
    Input(f"{P}-grid", "getRowsRequest"),
    State(f"{P}-state", "data"),
    prevent_initial_call=True,
)
def grid_rows(request, state):
    viewer = require_viewer()
    window = infinite_window(request)
    if window is None:
        return no_update
    start_row, end_row, sort_model = window
    filters = svc.parse_filters(state if isinstance(state, dict) else {}, date.today())
    page = svc.rows_page(db.session, viewer.user_id, filters, start_row, end_row, sort_model)
    return infinite_response(page.to_dict("records"), start_row, end_row)


# Keep the address bar in step (a new history entry per change, so Back steps through views), and
# make the grid fetch its rows again for the new filters.
clientside_callback(
    """
    function(state) {
        if (!state) { return window.dash_clientside.no_update; }
        const params = new URLSearchParams();
        Object.keys(state).sort().forEach(function(k) { params.set(k, state[k]); });
        const search = params.toString() ? "?" + params.toString() : "";
        if (window.location.search !== search) {
            window.history.pushState({}, "", window.location.pathname + search);
        }
        if (window.dash_ag_grid && window.dash_ag_grid.getApi) {
            try { window.dash_ag_grid.getApi("spending-grid").purgeInfiniteCache(); } catch (e) {}
        }
        return search;
    }
    """,
    Output(f"{P}-url-sync", "data"),
    Input(f"{P}-state", "data"),
    prevent_initial_call=True,
)
