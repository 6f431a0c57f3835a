"""Empty states and the first-run path: every empty place says what to do next and links there.
No callbacks here (the first-run banner's callback is in dashboard/appearance.py)."""
from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

# Links that open a page's "add" dialog at once (assets/keyboard.js clicks the page's add button).
NEW_ACCOUNT = "/accounts#new"
NEW_TRANSACTION = "/transactions#new"
NEW_GOAL = "/goals#new"
IMPORT = "/import"
SPENDING = "/spending"

# AG Grid's "No Rows To Show", said usefully (the grids' overlays cannot hold links: the page's own
# button is named instead).
NO_ACCOUNTS = "No accounts yet. Press “New account” above to add your first one."
NO_TRANSACTIONS = ("No transactions to show. Press “Add transaction” above (or the n key), import a "
                   "bank statement on the Import page, or clear the filters.")
NO_GOALS = "No goals yet. Press “New goal” above to set one."
NO_MATCHES = "No transactions match these filters. Widen the dates, or clear the search or the amounts."


def no_rows(text: str) -> dict:
    """dashGridOptions for a grid's empty overlay."""
    return {"localeText": {"noRowsToShow": text}}


def _link(label: str, href: str, *, primary: bool = False, id: str | None = None):
    props = {"id": id} if id else {}
    return dcc.Link(label, href=href, className="btn btn-sm " + ("btn-primary" if primary else "btn-outline-primary"),
                    **props)


def empty_state(title: str, text: str, links: list[tuple[str, str]] = (), *, id: str | None = None) -> html.Div:
    """A short title, one sentence of what to do, and links to where to do it (the first is primary)."""
    props = {"id": id} if id else {}
    return html.Div([
        html.Div(title, className="empty-title"),
        html.P(text, className="text-muted mb-2"),
        html.Div([_link(label, href, primary=i == 0) for i, (label, href) in enumerate(links)],
                 className="d-flex gap-2 justify-content-center flex-wrap") if links else None,
    ], className="empty-state", **props)


def needs_data(title: str, why: str, step: int, *, id: str) -> html.Div:
    """A page that has nothing true to show before the first account and transactions (a forecast of
    $0.00, a cash flow of nothing): say why, and link to the first-run step to do now (1: an account,
    2: transactions)."""
    if step <= 1:
        text = f"{why} Add an account first, then import a statement or add transactions."
        links = [("Add an account", NEW_ACCOUNT)]
    else:
        text = f"{why} Import a statement or add a transaction to get started."
        links = [("Import a statement", IMPORT), ("Add a transaction", NEW_TRANSACTION)]
    return html.Div(dbc.Card(dbc.CardBody(empty_state(title, text, links)), className="shadow-sm"), id=id,
                    **{"data-step": str(step)})


def _step(number: int, title: str, text, links, *, state: str) -> html.Div:
    return html.Div([
        html.Div("✓" if state == "done" else str(number), className="step-number", **{"aria-hidden": "true"}),
        html.Div([
            html.Div([html.Span(f"Step {number}: ", className="visually-hidden"), title,
                      html.Span(" (done)", className="visually-hidden") if state == "done" else None],
                     className="fw-semibold"),
            html.Div(text, className="small text-muted mb-1") if text else None,
            html.Div(links, className="d-flex gap-2 flex-wrap mt-1") if links and state != "done" else None,
        ]),
    ], className=f"step {state}", **{"data-step": str(number), "data-state": state})


def first_run_card(step: int, *, name: str | None = None, compact: bool = False) -> html.Div:
    """The three steps of a new person's first minutes; ``step`` is the one to do now. ``compact``: only
    the step to do now, in one line (on the pages where that step is done)."""
    def state(n: int) -> str:
        return "done" if n < step else ("current" if n == step else "later")

    steps = [
        _step(1, "Add your first account",
              "A checking account, a card, cash: whatever the money lives in, with today's balance.",
              [_link("Add an account", NEW_ACCOUNT, primary=True, id="first-run-account")], state=state(1)),
        _step(2, "Import a statement or add a transaction",
              "A CSV, OFX or QFX file from your bank brings months at once; or type one in.",
              [_link("Import a statement", IMPORT, primary=step == 2, id="first-run-import"),
               _link("Add a transaction", NEW_TRANSACTION, id="first-run-transaction")], state=state(2)),
        _step(3, "See where your money goes",
              "Spending by category, month by month, with every filter.",
              [_link("Open Spending", SPENDING, primary=step == 3, id="first-run-spending")], state=state(3)),
    ]
    if compact:
        current = steps[step - 1]
        return html.Div(dbc.Card(dbc.CardBody([
            html.Div(f"Getting started · step {step} of 3", className="small text-muted mb-1"),
            current,
        ], className="py-2"), className="shadow-sm mb-3 first-run first-run-compact"), id="first-run-card",
            **{"data-step": str(step)})
    heading = f"Welcome{', ' + name if name else ''}! Three steps to your first spending view"
    if step >= 3:
        heading = "You're set up: one step left"
    return html.Div(dbc.Card(dbc.CardBody([
        html.H2(heading, className="h5 card-title mb-2"),
        html.Div(steps),
    ]), className="shadow-sm mb-3 first-run"), id="first-run-card", **{"data-step": str(step)})
