"""Spending explorer: where the money goes, filtered, drilled into, and listed row by row.

The filter state lives in the URL query string (shared links, reload and back all work). One server
callback per change: it reads every control (and a chart click), settles the one filter state, and
answers with what changed: the figures, the totals, the breadcrumb, the grid's first block of rows and
the new address. The browser takes the rows and the address from the answer itself (the Dash
renderer's request_post hook: components/grid.py first_block, components/address.py), so a change is
one round trip and no callback runs after it. It stays thin: parse the filters, ask services.spending,
hand frames to figures.spending.

Breadcrumb clicks are turned into a Categories value in the browser, and only for a real click
(``n_clicks`` > 0): buttons that are drawn anew never fire a filter change (they once reset the drill).
"""
from __future__ import annotations

from datetime import date

import dash
import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, callback, clientside_callback, ctx, dcc, html, no_update

from dashboard.components.address import address_entry
from dashboard.components.cards import conversion_note, graph_card, page_header, stat_card
from dashboard.components.empty import IMPORT, NEW_TRANSACTION, NO_MATCHES, empty_state
from dashboard.components.filters import filter_bar
from dashboard.components.grid import (
    INFINITE_BLOCK,
    date_column,
    first_block,
    infinite_response,
    infinite_window,
    ledger_grid,
    money_column,
    text_column,
)
from dashboard.context import current_viewer, require_viewer
from dashboard.figures import spending as figs
from dashboard.formatting import format_date_range, format_money, format_number, format_percent
from dashboard.services import spending as svc
from dashboard.services.accounts import list_accounts
from dashboard.services.categories import category_frame, children_map, parents_map
from dashboard.services.errors import ServiceError
from dashboard.services.tags import tag_choices
from models import db

dash.register_page(__name__, path="/spending", name="Spending", title="Spending · Ledgerlens", order=1)

P = "spending"


def _options(user_id: int) -> tuple[list[dict], list[dict]]:
    accounts = list_accounts(db.session, user_id)
    account_options = [{"label": r.name + (" (archived)" if r.archived else ""), "value": int(r.id)}
                       for r in accounts.itertuples()]
    cats = category_frame(db.session, user_id)
    names = dict(zip(cats["id"].astype(int), cats["name"], strict=True))
    kinds = dict(zip(cats["id"].astype(int), cats["kind"], strict=True))
    parents = parents_map(cats)
    children = children_map(parents)
    category_options = []

    def walk(node: int, trail: list[str]):
        label = " › ".join(trail + [names[node]])
        category_options.append({"label": f"{label} (all)" if children.get(node) else label, "value": node})
        for child in sorted(children.get(node, ()), key=lambda c: names[c].lower()):
            walk(child, trail + [names[node]])

    for kind in ("expense", "income"):
        for root in sorted((c for c, p in parents.items() if p is None and kinds[c] == kind),
                           key=lambda c: names[c].lower()):
            walk(root, [])
    category_options.append({"label": "Uncategorized", "value": svc.UNCATEGORIZED})
    return account_options, category_options


def _grid_columns(currency: str) -> list[dict]:
    return [
        # Amount third, so that a phone shows date, payee and amount without scrolling sideways.
        date_column("date", "Date", sort="desc", minWidth=104),
        text_column("payee", "Payee", minWidth=110),
        money_column("amount_cents", "Amount", currency, currency_field="currency", minWidth=96),
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
        # The grid's first block, sent with a filter change; the browser takes it from the answer itself
        # (components/grid.py first_block).
        dcc.Store(id=f"{P}-grid-first"),
        # The address bar: a new entry per filter change (written by the browser from the answer itself,
        # assets/history.js), and the query string of a Back or Forward.
        dcc.Store(id=f"{P}-address"),
        dcc.Store(id=f"{P}-popstate"),
        page_header("Spending", "Where the money goes. Click a category or a bar to drill in.",
                    actions=[html.A("Download CSV", id=f"{P}-download", className="btn btn-outline-primary btn-sm",
                                    href="/export/spending.csv" + svc.query_string(filters))]),
        filter_bar(P, filters, account_options, category_options, tag_choices(db.session, viewer.user_id)),
        html.Div(id=f"{P}-breadcrumb", className="mb-2", style={"minHeight": "1.5rem"}),
        dcc.Loading(dbc.Row(id=f"{P}-totals", className="g-3 mb-3"), type="dot", color="#3459e6", delay_show=150),
        dbc.Row([
            dbc.Col(dbc.Card(dbc.CardBody([
                dbc.RadioItems(id=f"{P}-cat-view", value="treemap", inline=True, className="btn-group mb-1",
                               inputClassName="btn-check", labelClassName="btn btn-outline-secondary btn-sm",
                               labelCheckedClassName="active",
                               options=[{"label": "Treemap", "value": "treemap"}, {"label": "Bars", "value": "bars"}]),
                dcc.Loading(dcc.Graph(id=f"{P}-by-category", config={"displaylogo": False, "displayModeBar": False, "responsive": True},
                                      style={"minHeight": "380px"}), type="dot", color="#3459e6", delay_show=150),
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
            ledger_grid(f"{P}-grid", _grid_columns(viewer.currency), infinite=True, height="460px",
                        empty=NO_MATCHES),
        ]), className="shadow-sm"),
    ], **{"data-popstate-store": f"{P}-popstate", "data-popstate-path": "/spending"})


# --- callbacks -----------------------------------------------------------------------------------

VIEW_OUTPUTS = ("totals", "by-category", "over-time", "comparison", "payees", "breadcrumb", "grid-summary",
                "download")
# The grid's rows in their first order: the date column's own sort (_grid_columns).
GRID_SORT = [{"colId": "date", "sort": "desc"}]


@callback(
    Output(f"{P}-state", "data"),
    Output(f"{P}-preset", "value"),
    Output(f"{P}-dates", "start_date"),
    Output(f"{P}-dates", "end_date"),
    Output(f"{P}-categories", "value"),
    Output(f"{P}-filter-error", "children"),
    Output(f"{P}-totals", "children"),
    Output(f"{P}-by-category", "figure"),
    Output(f"{P}-over-time", "figure"),
    Output(f"{P}-comparison", "figure"),
    Output(f"{P}-payees", "figure"),
    Output(f"{P}-breadcrumb", "children"),
    Output(f"{P}-grid-summary", "children"),
    Output(f"{P}-download", "href"),
    Output(f"{P}-grid-first", "data"),
    Output(f"{P}-address", "data"),
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
    Input(f"{P}-tags", "value"),
    Input(f"{P}-by-category", "clickData"),
    Input(f"{P}-over-time", "clickData"),
    Input(f"{P}-cat-view", "value"),
    State(f"{P}-state", "data"),
    State(f"{P}-filter-error", "children"),
)
def update(preset, start, end, accounts, categories, text, min_amount, max_amount, flow, grain, tags,
           category_click, time_click, cat_view, state, error_shown):
    """Any control or chart click -> the one filter state, and everything drawn from it, at once.

    Only what changed is sent: a control already showing its value is left alone, the breadcrumb only
    when the drill changed, a new grain redraws the one chart it changes, and the grid gets its first
    block of rows in this same answer (``grid-first``) only when the rows it lists changed."""
    viewer = require_viewer()
    today = date.today()
    # One control changed (a pick, a click), or several at once (Back put a whole URL into them);
    # none on the page's first call, which draws everything.
    changed = {prop.rsplit(".", 1)[0] for prop in (ctx.triggered_prop_ids or {})}
    trigger = ctx.triggered_id if len(changed) == 1 else None
    filters, error = filters_from_controls(
        trigger, today, preset=preset, start=start, end=end, accounts=accounts, categories=categories,
        text=text, min_amount=min_amount, max_amount=max_amount, flow=flow, grain=grain, tags=tags,
        category_click=category_click, time_click=time_click)
    if error is not None:
        return (no_update,) * 5 + (error,) + (no_update,) * (len(VIEW_OUTPUTS) + 2)
    new_state = svc.filters_to_query(filters)
    old_state = state if isinstance(state, dict) else {}
    controls = (new_state if new_state != state else no_update,
                _unless_shown(filters.preset, preset),
                _unless_shown(filters.start.isoformat(), start),
                _unless_shown(filters.end.isoformat(), end),
                _unless_shown(list(filters.category_ids), _ids_shown(categories)),
                "" if error_shown else no_update)
    address = address_entry(new_state) if new_state != state else no_update
    result = svc.explore(db.session, viewer.user_id, filters, today)
    if trigger == f"{P}-cat-view":  # only the category chart changes
        return controls + (no_update, category_figure(result, viewer.currency, cat_view)) + (no_update,) * 7 + (address,)
    if trigger == f"{P}-grain" and changed and _rows_key(new_state) == _rows_key(old_state):
        # Month or week: only the chart over time is drawn by the grain.
        return (controls + (no_update,) * 2 + (over_time_figure(result, viewer.currency),) + (no_update,) * 6
                + (address,))
    drawn = views(result, viewer.currency, cat_view, today)
    if changed and old_state.get("categories") == new_state.get("categories"):
        drawn = drawn[:5] + (no_update,) + drawn[6:]   # the same drill: the same breadcrumb
    first = no_update
    if changed and _rows_key(new_state) != _rows_key(old_state):
        # No row matches, none in the grid: a search that matches nothing in a drilled category would
        # walk a year of its rows to find so (SQLite uniform, 1M: 150 ms).
        rows = [] if result.lists_nothing else svc.page_records(db.session, viewer.user_id, filters, 0,
                                                                INFINITE_BLOCK, GRID_SORT)
        first = first_block(f"{P}-grid", rows, GRID_SORT)
    return controls + drawn + (first, address)


def _unless_shown(value, shown):
    """``value`` for a control, or no_update when it already shows it (no redraw of the box)."""
    return no_update if value == shown else value


def _ids_shown(values):
    try:
        return [int(v) for v in values or []]
    except (TypeError, ValueError):
        return None


def _rows_key(state: dict) -> dict:
    """The part of a filter state the grid's rows depend on (the grain only groups the chart)."""
    return {k: v for k, v in state.items() if k != "grain"}


def filters_from_controls(trigger, today: date, *, preset, start, end, accounts, categories, text, min_amount,
                          max_amount, flow, grain, tags=None, category_click=None, time_click=None):
    """(filters, None) from the controls and the click that triggered, or (None, message)."""
    query = {"preset": preset, "accounts": accounts, "categories": categories, "q": text,
             "min": min_amount, "max": max_amount, "flow": flow, "grain": grain, "tags": tags}
    if trigger == f"{P}-dates":
        query.update({"preset": "custom", "from": start, "to": end})
    elif preset == "custom":
        query.update({"from": start, "to": end})
    try:
        filters = svc.parse_filters(query, today, strict=True)
    except ServiceError as error:
        return None, error.message
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
    return filters, None


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


def _palette(result: svc.Exploration):
    filters = result.filters
    mapping = svc.display_level(result.categories, filters)
    drilled = svc.drilled_node(result.categories, filters)
    colors = figs.node_colors(result.by_category, result.categories, mapping, drilled=drilled)
    return mapping, drilled, colors


def category_figure(result: svc.Exploration, currency: str, cat_view: str):
    noun = "Spending" if result.filters.flow == "spending" else "Income"
    mapping, drilled, colors = _palette(result)
    if cat_view == "bars":
        return figs.category_bars(result.by_category, result.categories, mapping, currency,
                                  title=f"{noun} by category", colors=colors)
    return figs.category_treemap(result.by_category, result.categories, currency, title=f"{noun} by category",
                                 drilled=drilled, colors=colors, mapping=mapping)


def over_time_figure(result: svc.Exploration, currency: str):
    filters = result.filters
    noun = "Spending" if filters.flow == "spending" else "Income"
    mapping, _drilled, colors = _palette(result)
    grain = filters.effective_grain
    return figs.over_time(result.over_time, result.categories, mapping, currency, grain=grain, colors=colors,
                          period=(filters.start, filters.end), title=f"{noun} by {grain} · click a bar to zoom in")


def views(result: svc.Exploration, currency: str, cat_view: str, today: date) -> tuple:
    """Every view of one exploration, in VIEW_OUTPUTS order."""
    filters = result.filters
    noun = "Spending" if filters.flow == "spending" else "Income"
    mapping, _drilled, _colors = _palette(result)
    comparison = result.comparison
    return (
        _totals(result, currency, noun, today),
        category_figure(result, currency, cat_view),
        over_time_figure(result, currency),
        figs.comparison(result.by_category, result.previous, result.categories, mapping, currency, flow=filters.flow,
                        title=_comparison_title(comparison, today)),
        figs.top_payees(result.payees, currency, title="Top payees"),
        _breadcrumb(result, filters),
        f"{format_number(result.row_count)} row{'' if result.row_count == 1 else 's'} · "
        f"total {format_money(result.total_cents, currency, cents=True)}",
        "/export/spending.csv" + svc.query_string(filters),
    )


def _comparison_title(comparison, today: date) -> str:
    previous = format_date_range(*comparison.previous, today=today)
    if comparison.partial:
        return f"Change, {format_date_range(*comparison.current, today=today)} vs {previous}"
    return f"Change vs {previous}"


def _totals(result: svc.Exploration, currency: str, noun: str, today: date) -> list:
    f = result.filters
    if result.empty:
        if not f.category_ids and not f.account_ids and not f.row_filtered:
            message = empty_state("Nothing spent in these dates", "Import a bank statement or add a "
                                  "transaction, or widen the dates.",
                                  [("Import a statement", IMPORT), ("Add a transaction", NEW_TRANSACTION)])
        else:
            message = "Nothing matches these filters. Widen the dates or clear a filter."
        note = conversion_note(result.conversion, id=f"{P}-conversion")
        return [dbc.Col(dbc.Alert(message, color="light", className="mb-0 border", id=f"{P}-empty"), xs=12)] + \
            ([dbc.Col(note, xs=12, className="mt-2")] if note is not None else [])
    comparison = result.comparison
    previous_total = int(result.previous["total_cents"].sum()) if not result.previous.empty else 0
    change = result.total_cents - previous_total
    current_label = format_date_range(*comparison.current, today=today)
    previous_label = format_date_range(*comparison.previous, today=today)
    if previous_total:
        detail = html.Span([format_percent(change / abs(previous_total), signed=True),
                            f" · {current_label} vs {previous_label} "
                            f"({format_money(previous_total, currency, cents=True)})"],
                           id=f"{P}-total-change")
    else:
        detail = html.Span(f"nothing in {previous_label}", id=f"{P}-total-change")
    days = comparison.days
    day_word = "day" if days == 1 else "days"
    per_day_detail = (f"over the {days} {day_word} so far ({current_label})" if comparison.partial
                      else f"over {days} {day_word}")
    cards = [
        stat_card(f"{noun}, {format_date_range(f.start, f.end, today=today)}",
                  format_money(result.total_cents, currency, cents=True), id=f"{P}-total", detail=detail),
        stat_card("Transactions", format_number(result.row_count), id=f"{P}-count",
                  detail=f"average {format_money(result.total_cents // max(result.row_count, 1), currency, cents=True)}"),
        stat_card("Per day", format_money(result.total_cents // days, currency, cents=True), id=f"{P}-per-day",
                  detail=per_day_detail),
    ]
    note = conversion_note(result.conversion, id=f"{P}-conversion")
    return [dbc.Col(card, xs=12, md=4) for card in cards] + ([dbc.Col(note, xs=12)] if note is not None else [])


def _breadcrumb(result: svc.Exploration, filters: svc.SpendingFilters):
    trail = svc.breadcrumb(result.categories, filters)
    items = []
    for i, (label, ids) in enumerate(trail):
        last = i == len(trail) - 1
        if last:
            items.append(html.Span(label, className="fw-semibold", **{"aria-current": "page"}))
        else:
            items.append(html.Button(label, id={"type": f"{P}-crumb", "index": ",".join(map(str, ids))},
                                     className="btn btn-link btn-sm p-0 align-baseline", n_clicks=0))
            items.append(html.Span(" › ", className="text-muted mx-1"))
    return html.Nav(items, **{"aria-label": "Category drill-down"}, className="small")


# A breadcrumb click sets the Categories box (which runs `update`): in the browser, and only for a
# click. Buttons drawn anew by `update` also "trigger" a pattern-matching input, with n_clicks 0.
clientside_callback(
    """
    function(clicks) {
        const triggered = (window.dash_clientside.callback_context || {}).triggered || [];
        const hit = triggered.find(function(t) { return t && t.value; });
        if (!hit) { return window.dash_clientside.no_update; }
        let id;
        try { id = JSON.parse(hit.prop_id.slice(0, hit.prop_id.lastIndexOf("."))); }
        catch (e) { return window.dash_clientside.no_update; }
        const index = String(id.index || "");
        return index ? index.split(",").map(Number) : [];
    }
    """,
    Output(f"{P}-categories", "value", allow_duplicate=True),
    Input({"type": f"{P}-crumb", "index": ALL}, "n_clicks"),
    prevent_initial_call=True,
)


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
    rows = svc.page_records(db.session, viewer.user_id, filters, start_row, end_row, sort_model)
    return infinite_response(rows, start_row, end_row)


# Back / Forward: the address bar holds other filters than the page shows. assets/history.js hands the
# new query string to the page's popstate store on a real Back or Forward only (the page's own changes,
# pushed by the same script from the callback's answer, fire nothing here); this puts it into the controls (in the browser),
# which runs `update` once; the server re-reads and checks every value.
clientside_callback(
    """
    function(search, state) {
        const nothing = window.dash_clientside.no_update;
        if (typeof search !== "string") { return Array(11).fill(nothing); }
        const canonical = function(params) {
            const out = new URLSearchParams();
            Array.from(params.keys()).sort().forEach(function(k) { out.set(k, params.get(k)); });
            return out.toString();
        };
        const current = new URLSearchParams();
        Object.keys(state || {}).forEach(function(k) { current.set(k, state[k]); });
        const asked = new URLSearchParams(search);
        if (canonical(asked) === canonical(current)) { return Array(11).fill(nothing); }
        const ids = function(key) {
            const text = asked.get(key);
            return text ? text.split(",").map(Number).filter(function(n) { return Number.isInteger(n); }) : [];
        };
        return [asked.get("preset") || "this_month", asked.get("from") || nothing, asked.get("to") || nothing,
                ids("accounts"), ids("categories"), asked.get("q") || "", asked.get("min") || "",
                asked.get("max") || "", asked.get("flow") || "spending", asked.get("grain") || "auto",
                ids("tags")];
    }
    """,
    Output(f"{P}-preset", "value", allow_duplicate=True),
    Output(f"{P}-dates", "start_date", allow_duplicate=True),
    Output(f"{P}-dates", "end_date", allow_duplicate=True),
    Output(f"{P}-accounts", "value"),
    Output(f"{P}-categories", "value", allow_duplicate=True),
    Output(f"{P}-text", "value"),
    Output(f"{P}-min", "value"),
    Output(f"{P}-max", "value"),
    Output(f"{P}-flow", "value"),
    Output(f"{P}-grain", "value"),
    Output(f"{P}-tags", "value"),
    Input(f"{P}-popstate", "data"),
    State(f"{P}-state", "data"),
    prevent_initial_call=True,
)
