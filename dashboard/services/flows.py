"""Where the money went, as flows: the cash-flow diagram (income sources -> categories -> saved) and
"why a budget is off" (the difference against the previous period or the 3-period average, split into
new payees, one-off large purchases, more purchases and higher prices, each with an explorer link).

Both read through the explorer's aggregate (services/spending.py): whole months from the roll-up, the
rest from the raw rows, GROUP BY in SQL. Money in integer cents.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from fractions import Fraction

import pandas as pd

from . import fx
from .cache import cached
from .categories import category_frame
from .errors import ServiceError
from .spending import UNCATEGORIZED, SpendingFilters, aggregate, query_string

SAVED = "Saved"
FROM_SAVINGS = "From savings"
INCOME = "Income"


def _filters(flow: str, start: date, end: date, **extra) -> SpendingFilters:
    return SpendingFilters(start=start, end=end, preset="custom", flow=flow, grain="month", **extra)


# ---------------------------------------------------------------------------------------------------
# The cash-flow diagram
# ---------------------------------------------------------------------------------------------------

@dataclass
class SankeyData:
    labels: list[str]
    colors: list[str | None]
    sources: list[int]
    targets: list[int]
    values: list[int]               # cents
    income_cents: int
    spending_cents: int
    node_category: list[int | None] = field(default_factory=list)   # category id of a node (for drilling)
    # Accounts in other currencies: what was converted into the base and what had no rate (else None)
    conversion: fx.Conversion | None = None

    @property
    def saved_cents(self) -> int:
        return self.income_cents - self.spending_cents


@cached
def cashflow_sankey(session, user_id: int, start: date, end: date, drill: int | None = None) -> SankeyData:
    """Income categories (the sources: Salary, Interest) -> Income -> spending categories (top level; the
    ``drill`` one split into its children) and Saved (or From savings on the left when spending was
    larger)."""
    if end < start:
        raise ServiceError("The end date is before the start date.", "end")
    cats = category_frame(session, user_id).set_index("id")
    currencies = fx.account_currencies(session, user_id)
    conversion = None if currencies.single else fx.Conversion(currencies.base)
    income = aggregate(session, user_id, _filters("income", start, end), ["category_id"], conversion=conversion)
    spending = aggregate(session, user_id, _filters("spending", start, end), ["category_id"], conversion=conversion)

    def top(cid: int) -> int:
        return int(cats["top_id"].get(cid, cid)) if cid != UNCATEGORIZED else UNCATEGORIZED

    def name(cid: int) -> str:
        return str(cats["name"].get(cid, "Uncategorized")) if cid != UNCATEGORIZED else "Uncategorized"

    def color(cid: int):
        value = cats["color"].get(cid) if cid != UNCATEGORIZED else None
        return value if isinstance(value, str) else None

    # Income sources at the leaf level (Salary, Interest), not their common parent "Income".
    income_by_top: dict[int, int] = {}
    for row in income.itertuples():
        income_by_top[int(row.category_id)] = income_by_top.get(int(row.category_id), 0) + int(row.total_cents)
    spend_by_top: dict[int, int] = {}
    children: dict[int, dict[int, int]] = {}
    for row in spending.itertuples():
        cid = int(row.category_id)
        parent = top(cid)
        spend_by_top[parent] = spend_by_top.get(parent, 0) + int(row.total_cents)
        if drill is not None and parent == drill:
            children.setdefault(parent, {})
            children[parent][cid] = children[parent].get(cid, 0) + int(row.total_cents)
    income_total = sum(v for v in income_by_top.values() if v > 0)
    spend_total = sum(v for v in spend_by_top.values() if v > 0)

    labels: list[str] = []
    colors: list[str | None] = []
    node_cat: list[int | None] = []
    index: dict[tuple, int] = {}

    def node(key: tuple, label: str, colour=None, category=None) -> int:
        if key not in index:
            index[key] = len(labels)
            labels.append(label)
            colors.append(colour)
            node_cat.append(category)
        return index[key]

    sources, targets, values = [], [], []

    def link(a: int, b: int, cents_value: int) -> None:
        if cents_value > 0:
            sources.append(a)
            targets.append(b)
            values.append(int(cents_value))

    hub = node(("hub",), INCOME, "#2e9d5b")
    for cid, total in sorted(income_by_top.items(), key=lambda kv: -kv[1]):
        link(node(("in", cid), name(cid), color(cid) or "#2e9d5b", cid), hub, total)
    if spend_total > income_total:
        link(node(("from_savings",), FROM_SAVINGS, "#adb5bd"), hub, spend_total - income_total)
    for cid, total in sorted(spend_by_top.items(), key=lambda kv: -kv[1]):
        target = node(("out", cid), name(cid), color(cid), cid)
        link(hub, target, total)
        for child, amount in sorted(children.get(cid, {}).items(), key=lambda kv: -kv[1]):
            label = name(child) if child != cid else f"{name(cid)} (itself)"
            link(target, node(("child", child), label, color(child), child), amount)
    if income_total > spend_total:
        link(hub, node(("saved",), SAVED, "#3459e6"), income_total - spend_total)
    return SankeyData(labels, colors, sources, targets, values, income_total, spend_total, node_cat, conversion)


# ---------------------------------------------------------------------------------------------------
# Why a budget is off
# ---------------------------------------------------------------------------------------------------

@dataclass
class Part:
    key: str
    label: str
    cents: int
    detail: str          # a template: {name} is filled from ``money`` (cents) or ``numbers``, formatted by the page
    href: str
    payees: list[tuple[str, int, str]] = field(default_factory=list)   # (payee, cents, href)
    money: dict[str, int] = field(default_factory=dict)
    numbers: dict[str, float] = field(default_factory=dict)


@dataclass
class Explanation:
    category_id: int
    category: str
    start: date
    end: date
    compare_label: str
    current_cents: int
    usual_cents: int
    budget_cents: int | None
    threshold_cents: int
    parts: list[Part]

    @property
    def difference_cents(self) -> int:
        return self.current_cents - self.usual_cents


def _link(category_id: int, start: date, end: date, **extra) -> str:
    filters = SpendingFilters(start=start, end=end, preset="custom", category_ids=(category_id,), **extra)
    return "/spending" + query_string(filters)


def previous_periods(start: date, end: date, count: int) -> list[tuple[date, date]]:
    """The ``count`` periods of the same shape just before [start, end] (whole months stay whole)."""
    from .spending import previous_range
    out = []
    current = _filters("spending", start, end)
    for _ in range(count):
        prev_start, prev_end = previous_range(current)
        out.append((prev_start, prev_end))
        current = _filters("spending", prev_start, prev_end)
    return out


def _by_payee(session, user_id: int, category_id: int, periods, threshold: int | None = None) -> dict:
    """payee -> [total, count] summed over the periods (lines at or above ``threshold`` only, if given)."""
    out: dict[str, list[int]] = {}
    for start, end in periods:
        extra = {"min_amount": Decimal(threshold) / 100} if threshold is not None else {}
        frame = aggregate(session, user_id, _filters("spending", start, end, category_ids=(category_id,), **extra),
                          ["payee"])
        for row in frame.itertuples():
            entry = out.setdefault(row.payee or "", [0, 0])
            entry[0] += int(row.total_cents)
            entry[1] += int(row.row_count)
    return out


@cached
def explain_budget(session, user_id: int, category_id: int, start: date, end: date, *, compare: str = "previous",
                   budget_cents: int | None = None) -> Explanation:
    """Split (spending in [start, end]) - (usual spending) for a category and its children, where usual is
    the previous period (``compare="previous"``) or the average of the three before (``"average3"``):

    - new payees: payees with no purchase in the comparison period(s), all their spending;
    - payees not seen this time: the usual spending at payees with no purchase now (negative);
    - one-off large purchases: lines of at least three times the usual average purchase (and 1.00), now
      against usually, at the other payees;
    - more purchases: (purchases now - usually) x the usual average purchase, at the other payees;
    - higher prices: what is left, (average purchase now - usually) x purchases now.

    The parts add up to the difference to the cent. Each part links to the explorer with the filters
    that show its rows."""
    if compare not in ("previous", "average3"):
        raise ServiceError("Compare with the previous period or the 3-period average.", "compare")
    cats = category_frame(session, user_id)
    row = cats[cats["id"] == category_id]
    if row.empty:
        raise ServiceError("Unknown category.", "category")
    name = str(row["full_name"].iloc[0])
    periods = previous_periods(start, end, 1 if compare == "previous" else 3)
    k = len(periods)
    now = _by_payee(session, user_id, category_id, [(start, end)])
    before = _by_payee(session, user_id, category_id, periods)
    usual_total = Fraction(sum(v[0] for v in before.values()), k)
    usual_count = Fraction(sum(v[1] for v in before.values()), k)
    usual_avg = usual_total / usual_count if usual_count else Fraction(0)
    threshold = max(100, int(-(-3 * usual_avg // 100)) * 100) if usual_avg > 0 else None
    large_now = _by_payee(session, user_id, category_id, [(start, end)], threshold) if threshold else {}
    large_before = _by_payee(session, user_id, category_id, periods, threshold) if threshold else {}

    current_total = sum(v[0] for v in now.values())
    new_payees = sorted(((p, v[0]) for p, v in now.items() if p not in before and v[1] > 0), key=lambda x: -x[1])
    gone = sorted(((p, Fraction(v[0], k)) for p, v in before.items() if p not in now and v[1] > 0),
                  key=lambda x: x[1])
    both = [p for p in now if p in before]
    large_delta = Fraction(0)
    regular_now = [0, 0]
    regular_before = [Fraction(0), Fraction(0)]
    for payee in both:
        ln = large_now.get(payee, [0, 0])
        lb = large_before.get(payee, [0, 0])
        large_delta += ln[0] - Fraction(lb[0], k)
        regular_now[0] += now[payee][0] - ln[0]
        regular_now[1] += now[payee][1] - ln[1]
        regular_before[0] += Fraction(before[payee][0] - lb[0], k)
        regular_before[1] += Fraction(before[payee][1] - lb[1], k)
    avg_before = regular_before[0] / regular_before[1] if regular_before[1] else Fraction(0)
    more = (regular_now[1] - regular_before[1]) * avg_before
    difference = current_total - usual_total
    parts_exact = {
        "new": Fraction(sum(v for _, v in new_payees)),
        "gone": -sum((v for _, v in gone), Fraction(0)),
        "large": large_delta,
        "more": more,
    }
    rounded = {key: round(value) for key, value in parts_exact.items()}
    rounded["price"] = round(difference) - sum(rounded.values())   # the rest: the parts add up exactly

    prev_start = periods[-1][0]
    prev_end = periods[0][1]
    money_max = {"max_amount": (Decimal(threshold) - Decimal(1)) / 100} \
        if threshold else {}
    avg_now = Fraction(regular_now[0], regular_now[1]) if regular_now[1] else Fraction(0)
    compare_label = "the previous period" if compare == "previous" else "the 3-period average"
    parts = [
        Part("new", "New payees", rounded["new"],
             f"{len(new_payees)} payee{'s' if len(new_payees) != 1 else ''} with no purchase in {compare_label}",
             _link(category_id, start, end),
             [(p, v, _link(category_id, start, end, text=p[:100])) for p, v in new_payees[:5]]),
        Part("gone", "Payees not seen this time", rounded["gone"],
             f"{len(gone)} usual payee{'s' if len(gone) != 1 else ''} with no purchase now",
             _link(category_id, prev_start, prev_end),
             [(p, -round(v), _link(category_id, prev_start, prev_end, text=p[:100])) for p, v in gone[:5]]),
        Part("large", "One-off large purchases", rounded["large"],
             ("purchases of {threshold} or more (three times the usual average purchase)"
              if threshold else "no usual purchases to compare with"),
             _link(category_id, start, end, min_amount=Decimal(threshold) / 100)
             if threshold else _link(category_id, start, end), money={"threshold": threshold or 0}),
        Part("more", "More purchases", rounded["more"], "{now} purchases against {usual} usually",
             _link(category_id, start, end, **money_max),
             numbers={"now": float(regular_now[1]), "usual": round(float(regular_before[1]), 1)}),
        Part("price", "Higher prices", rounded["price"], "{now} a purchase against {usual} usually",
             _link(category_id, start, end, **money_max), money={"now": round(avg_now), "usual": round(avg_before)}),
    ]
    return Explanation(category_id, name, start, end, compare_label, current_total, round(usual_total),
                       budget_cents, threshold or 0, parts)


def explain_budget_id(session, user_id: int, budget_id, *, compare: str = "previous") -> Explanation:
    """The explanation for one of the user's budgets (its category and period)."""
    from .budgets import get_budget
    budget = get_budget(session, user_id, budget_id)
    amount = int(budget.amount * 100)
    return explain_budget(session, user_id, int(budget.category_id), budget.start_date, budget.end_date,
                          compare=compare, budget_cents=amount)


def parts_frame(explanation: Explanation) -> pd.DataFrame:
    return pd.DataFrame([(p.key, p.label, p.cents, p.detail, p.href) for p in explanation.parts],
                        columns=["key", "label", "cents", "detail", "href"])


__all__ = ["Explanation", "Part", "SankeyData", "cashflow_sankey", "explain_budget", "explain_budget_id",
           "parts_frame", "previous_periods"]
