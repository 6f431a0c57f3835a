"""The Overview's upcoming list: scheduled bills and income of the next 30 days, paid ones marked."""
from __future__ import annotations

import dash_bootstrap_components as dbc
import pandas as pd
from dash import dcc, html

from dashboard.formatting import format_day, format_money

STATUS = {"paid": ("paid", "success"), "expected": ("due", "secondary"), "overdue": ("overdue", "danger"),
          "skipped": ("skipped", "light")}


def upcoming_list(frame: pd.DataFrame, currency: str):
    """A table of occurrences (name, occurs_on, amount_cents, status, paid_on, paid_cents) and the totals
    still to come and already paid."""
    if frame.empty:
        return html.P(["Nothing scheduled in the next 30 days. ",
                       dcc.Link("Find your recurring payments →", href="/recurring")], className="text-muted mb-0")
    rows = []
    for r in frame.itertuples():
        label, color = STATUS.get(r.status, (r.status, "secondary"))
        paid = (f" on {format_day(r.paid_on)}" if r.status == "paid" and r.paid_on is not None else "")
        amount = r.paid_cents if r.status == "paid" and r.paid_cents is not None else r.amount_cents
        rows.append(html.Tr([
            html.Td(f"{r.occurs_on:%a %d %b}", className="text-nowrap"),
            html.Td(r.name),
            html.Td([dbc.Badge(label, color=color, className="me-1"), html.Small(paid, className="text-muted")]),
            html.Td(format_money(amount, currency, cents=True, signed=amount > 0),
                    className="text-end money" + (" text-success" if amount > 0 else "")),
        ], className="text-muted" if r.status in ("paid", "skipped") else None))
    due = frame[frame["status"].isin(["expected", "overdue"])]
    paid = frame[frame["status"] == "paid"]
    out = int(due.loc[due["amount_cents"] < 0, "amount_cents"].sum())
    incoming = int(due.loc[due["amount_cents"] > 0, "amount_cents"].sum())
    paid_amounts = paid["paid_cents"].fillna(paid["amount_cents"]) if not paid.empty else paid["amount_cents"]
    paid_out = int(-paid_amounts[paid_amounts < 0].sum())
    paid_in = int(paid_amounts[paid_amounts > 0].sum())
    summary = html.P([f"Still to come: {format_money(-out, currency, cents=True)} out, "
                      f"{format_money(incoming, currency, cents=True)} in · already paid: "
                      f"{format_money(paid_out, currency, cents=True)} out, "
                      f"{format_money(paid_in, currency, cents=True)} in"], className="small mb-2",
                     id="overview-upcoming-summary")
    return [summary, dbc.Table(html.Tbody(rows), size="sm", hover=True, className="mb-0",
                               id="overview-upcoming-table")]
