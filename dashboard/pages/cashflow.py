"""Cash flow: where the income of a period went (a Sankey diagram: income sources -> categories -> saved,
one category drilled into its children), and why a budget is off (the difference against the previous
period or the 3-period average, split into parts that each link to the explorer's rows)."""
from __future__ import annotations

from datetime import date

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, callback, dcc, html

from dashboard.components import empty
from dashboard.components.cards import conversion_note, graph_card, page_header
from dashboard.context import current_viewer, require_viewer
from dashboard.figures.forecast import budget_off_figure, sankey_figure
from dashboard.formatting import format_date_range, format_money, format_number
from dashboard.services import flows as svc
from dashboard.services.budgets import Period, budget_frame
from dashboard.services.categories import category_frame
from dashboard.services.errors import ServiceError
from dashboard.services.onboarding import first_run
from dashboard.services.periods import add_months
from dashboard.services.spending import PRESETS, preset_range
from dashboard.services.validation import parse_id
from models import db

dash.register_page(__name__, path="/cashflow", name="Cash flow", title="Cash flow · Ledgerlens", order=7)

P = "cashflow"
NONE = "none"


def _budget_options(user_id: int, today: date) -> list[dict]:
    """Budgets of last month and this one, the most overspent first."""
    ranked = []
    for period in (Period.containing("monthly", add_months(today, -1)), Period.containing("monthly", today)):
        frame = budget_frame(db.session, user_id, period, today)
        for r in frame.itertuples():
            state = "over" if r.remaining_cents < 0 else "within"
            ranked.append((int(r.remaining_cents), {"label": f"{r.category} · {period.label} ({state})",
                                                    "value": str(int(r.id))}))
    ranked.sort(key=lambda item: item[0])
    return [option for _, option in ranked]


def layout(**query):
    viewer = current_viewer()
    if viewer is None:
        return html.Div(page_header("Cash flow"))
    start = first_run(db.session, viewer.user_id)
    if not start.done:
        return html.Div([page_header("Cash flow"), empty.needs_data(
            "No cash flow to show yet", "Cash flow follows your income to where it went, from your transactions.",
            start.step, id=f"{P}-empty")])
    today = date.today()
    cats = category_frame(db.session, viewer.user_id)
    tops = cats[(cats["parent_id"].isna()) & (cats["kind"] == "expense")]
    budgets = _budget_options(viewer.user_id, today)
    return html.Div([
        page_header("Cash flow", "Where the income went, and why a budget is off."),
        dbc.Card(dbc.CardBody(dbc.Row([
            dbc.Col([dbc.Label("Period", html_for=f"{P}-preset"),
                     dbc.Select(id=f"{P}-preset", value=query.get("preset", "last_month"),
                                options=[{"label": v, "value": k} for k, v in PRESETS.items() if k != "custom"])],
                    md=4),
            dbc.Col([dbc.Label("Open up a category", html_for=f"{P}-drill-category"),
                     dbc.Select(id=f"{P}-drill-category", value=NONE,
                                options=[{"label": "None", "value": NONE}]
                                + [{"label": r.name, "value": str(int(r.id))} for r in tops.itertuples()])], md=4),
        ], className="g-3")), className="shadow-sm mb-3"),
        html.Div(id=f"{P}-totals", className="mb-2"),
        dbc.Row([dbc.Col(graph_card(f"{P}-sankey", height=480))], className="g-3 mb-3"),
        dbc.Card(dbc.CardBody([
            html.H5("Why is a budget off?", className="card-title"),
            dbc.Row([
                dbc.Col([dbc.Label("Budget", html_for=f"{P}-budget"),
                         dbc.Select(id=f"{P}-budget", options=budgets,
                                    value=budgets[0]["value"] if budgets else None,
                                    placeholder="No budgets this month or last")], md=6),
                dbc.Col([dbc.Label("Compared with"),
                         dbc.RadioItems(id=f"{P}-compare", inline=True, value="previous",
                                        options=[{"label": "The previous period", "value": "previous"},
                                                 {"label": "The 3-period average", "value": "average3"}])], md=6),
            ], className="g-3 mb-2"),
            dbc.Row([dbc.Col(dcc.Loading(dcc.Graph(id=f"{P}-why", config={"displayModeBar": False,
                                                                          "responsive": True}),
                                         type="dot", color="#3459e6"), lg=7),
                     dbc.Col(html.Div(id=f"{P}-why-parts"), lg=5)]),
        ]), className="shadow-sm mb-3"),
    ])


@callback(
    Output(f"{P}-sankey", "figure"),
    Output(f"{P}-totals", "children"),
    Input(f"{P}-preset", "value"),
    Input(f"{P}-drill-category", "value"),
)
def update_sankey(preset, drill):
    viewer = require_viewer()
    today = date.today()
    preset = preset if preset in PRESETS and preset != "custom" else "last_month"
    start, end = preset_range(preset, today)
    try:
        drill_id = None if drill in (None, "", NONE) else parse_id(drill, field="category")
    except ServiceError:
        drill_id = None
    data = svc.cashflow_sankey(db.session, viewer.user_id, start, end, drill_id)
    # The dates alone (the period's name is in the picker above): short enough for a phone's width.
    title = f"Cash flow, {format_date_range(start, end, today=today)}"
    figure = sankey_figure(data.labels, data.colors, data.sources, data.targets, data.values, viewer.currency,
                           title=title)
    saved = data.saved_cents
    totals = html.P([f"Income {format_money(data.income_cents, viewer.currency, cents=True)} · spending "
                     f"{format_money(data.spending_cents, viewer.currency, cents=True)} · ",
                     html.Strong(("saved " if saved >= 0 else "taken from savings ")
                                 + format_money(abs(saved), viewer.currency, cents=True),
                                 className="text-success" if saved >= 0 else "text-danger")], className="mb-0")
    note = conversion_note(data.conversion, id=f"{P}-conversion", what="Income and spending")
    return figure, html.Div([totals, note]) if note is not None else totals


def part_detail(part: svc.Part, currency: str) -> str:
    """The part's sentence with its amounts and counts written in the user's locale."""
    values = {k: format_money(v, currency, cents=True) for k, v in part.money.items()}
    values.update({k: format_number(v) for k, v in part.numbers.items()})
    return part.detail.format(**values)


def parts_children(explanation: svc.Explanation, currency: str):
    rows = []
    for part in explanation.parts:
        payees = [html.Li([dcc.Link(p, href=href), f" {format_money(v, currency, cents=True, signed=True)}"])
                  for p, v, href in part.payees]
        rows.append(html.Li([
            html.Div([dcc.Link(part.label, href=part.href, className="fw-semibold"), " ",
                      html.Span(format_money(part.cents, currency, cents=True, signed=True),
                                className="money " + ("text-danger" if part.cents > 0 else "text-success"))]),
            html.Small(part_detail(part, currency), className="text-muted"),
            html.Ul(payees, className="small mb-0") if payees else None,
        ], className="mb-2"))
    head = html.P([f"{explanation.category}: {format_money(explanation.current_cents, currency, cents=True)} against "
                   f"{format_money(explanation.usual_cents, currency, cents=True)} for {explanation.compare_label}",
                   (f" (budget {format_money(explanation.budget_cents, currency, cents=True)})"
                    if explanation.budget_cents is not None else ""), "."], className="mb-2")
    return [head, html.Ul(rows, className="list-unstyled mb-0", id=f"{P}-why-list")]


@callback(
    Output(f"{P}-why", "figure"),
    Output(f"{P}-why-parts", "children"),
    Input(f"{P}-budget", "value"),
    Input(f"{P}-compare", "value"),
)
def update_why(budget, compare):
    viewer = require_viewer()
    from dashboard.figures.theme import empty_figure
    if budget in (None, ""):
        return empty_figure("Pick a budget.", height=300), ""
    compare = compare if compare in ("previous", "average3") else "previous"
    try:
        explanation = svc.explain_budget_id(db.session, viewer.user_id, budget, compare=compare)
    except ServiceError as exc:
        return empty_figure(exc.message, height=300), dbc.Alert(exc.message, color="warning", className="py-2")
    parts = svc.parts_frame(explanation)
    label = "Previous period" if compare == "previous" else "3-period average"
    figure = budget_off_figure(explanation.usual_cents, parts, explanation.current_cents, viewer.currency,
                               title=f"{explanation.category}: what changed", usual_label=label)
    return figure, parts_children(explanation, viewer.currency)

