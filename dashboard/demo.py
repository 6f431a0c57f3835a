"""A deterministic demo user: 24 months of believable personal finances, or a million rows of them.

``load_demo(session)`` creates one user with four accounts (Checking, Savings, Credit Card, Cash),
the monthly budgets of the last six months, three goals, and the transactions of the 24 calendar
months that end on ``end`` (the last one partial). The same ``seed`` and ``end`` give the same rows.

How the transactions are made:

- a *plan* of scheduled events, drawn first: salary, bonuses, interest, rent, utilities, phone and
  internet, subscriptions, insurance, weekly groceries (more in November and December), a Costco
  run every six weeks (a split: groceries, household, sometimes pharmacy), two trips a year,
  a refund every three months, and the transfers: monthly savings, the credit-card payment, ATM
  withdrawals into Cash;
- *purchases* on each day (coffee, restaurants, fuel, shopping...), a random handful per day; with
  ``n_transactions`` the same purchases are spread over the days so that the total is exact;
- a *ledger* that follows the balances, so the card payment pays what was charged (plus a little of
  the card's old debt) and ATM withdrawals top Cash up.

Events are written by the one bulk writer (:mod:`dashboard.services.bulk`: chunks, ``COPY`` on
PostgreSQL, budgets assigned by the rule every write uses, the roll-up refreshed), with the invariants
of :mod:`dashboard.services.transactions`. The vacation goal's saved amount is the sum of its
``goal_contributions``.

Money is integer cents here, from the random draws to the rows (the columns store cents);
``models.from_cents`` turns them into ``Decimal`` for the ORM rows and the returned totals.
"""
from __future__ import annotations

import random
import time
import uuid
from bisect import bisect
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from datetime import time as dt_time
from decimal import Decimal
from fractions import Fraction
from itertools import accumulate
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from models import Account, Budget, Category, Goal, GoalContribution, User, from_cents

from .demo_account import DEMO_EMAIL, DEMO_NAME, DEMO_PASSWORD
from .services.bulk import NewTransaction, write_transactions
from .services.passwords import hash_password
from .services.periods import add_months, month_end, month_start
from .services.users import delete_user

MONTHS = 24            # calendar months of activity, the last one ending on `end`
BUDGET_MONTHS = 6      # monthly budgets for the last six months, the current one included

# key, name, type, opening balance (cents)
ACCOUNTS = (
    ("checking", "Checking", "checking", 2_480_00),
    ("savings", "Savings", "savings", 1_200_00),
    ("card", "Credit Card", "credit_card", -4_800_00),
    ("cash", "Cash", "cash", 60_00),
)
ACCOUNT_NAMES = {key: name for key, name, _, _ in ACCOUNTS}
CARD_EXTRA = 150_00    # paid each month towards the card's old debt, on top of the new charges
CASH_FLOAT = 160_00    # ATM withdrawals top Cash up to this plus the last fortnight's cash spending

HOLIDAY_MONTHS = (11, 12)
GROCERY_SEASON_PCT = {11: 125, 12: 140, 1: 95, 7: 92, 8: 92}
ELECTRIC_DOLLARS = {1: 165, 2: 150, 3: 120, 4: 95, 5: 85, 6: 110, 7: 150, 8: 160, 9: 115, 10: 90,
                    11: 120, 12: 160}

# payee, category, cents, day of month, account
BILLS = (
    ("iCloud+", "Entertainment > Subscriptions", 2_99, 3, "card"),
    ("Comcast Xfinity", "Housing > Internet & Phone", 79_99, 5, "card"),
    ("GEICO", "Financial > Insurance", 128_00, 8, "checking"),
    ("Netflix", "Entertainment > Subscriptions", 15_49, 9, "card"),
    ("Spotify", "Entertainment > Subscriptions", 10_99, 14, "card"),
    ("Planet Fitness", "Health > Fitness", 24_99, 17, "card"),
    ("Verizon Wireless", "Housing > Internet & Phone", 65_00, 20, "card"),
)
REFUNDS = (("Amazon", "Shopping > Electronics"), ("REI", "Shopping > Clothing"),
           ("Nordstrom", "Shopping > Clothing"), ("Best Buy", "Shopping > Electronics"),
           ("Target", "Shopping > Household"))
DESTINATIONS = ("Lisbon", "Denver", "Montreal", "San Diego", "Mexico City", "Chicago", "Asheville",
                "New Orleans", "Vancouver", "Austin")
AIRLINES = ("Delta Air Lines", "United Airlines", "Southwest Airlines", "Alaska Airlines")
LODGING = ("Airbnb", "Marriott", "Hilton", "Hyatt")

VACATION_MONTHS = 6     # the vacation goal: one deposit a month for the last months
VACATION_DEPOSIT = 225_00

# category name of each budget, monthly cents, rollover
BUDGETS = (
    ("Food > Groceries", 700_00, False),
    ("Food", 420_00, False),                      # restaurants and coffee
    ("Housing > Utilities", 200_00, False),
    ("Housing > Internet & Phone", 150_00, False),
    ("Transportation > Fuel", 160_00, False),
    ("Transportation", 90_00, False),             # transit and parking
    ("Entertainment > Subscriptions", 35_00, False),
    ("Shopping", 380_00, False),
    ("Health", 150_00, False),
    ("Travel", 300_00, True),
    ("Gifts & Donations > Gifts", 120_00, False),
)


class Habit(NamedTuple):
    """A kind of everyday purchase: how often (weight), where, how much (cents, skewed low)."""
    weight: int
    category: str
    payees: tuple[str, ...]
    low: int
    high: int
    accounts: tuple[str, ...] = ("card",)
    holiday_weight: int | None = None           # weight in November and December, if different
    split_with: tuple[str, ...] = ()            # a split: lines spread over these categories too


HABITS = (
    Habit(30, "Food > Coffee", ("Starbucks", "Blue Bottle Coffee", "Peet's Coffee", "Corner Café"),
          3_25, 7_50, ("card", "card", "cash")),
    Habit(22, "Food > Restaurants", ("Chipotle", "Sweetgreen", "Olive Garden", "Pho 99", "Shake Shack",
                                     "Thai Basil", "Domino's", "Joe's Pizza", "DoorDash"), 12_00, 85_00),
    Habit(8, "Food > Groceries", ("Trader Joe's", "Whole Foods Market", "Safeway", "Farmers Market"),
          8_00, 45_00, ("card", "card", "cash")),
    Habit(9, "Transportation > Fuel", ("Shell", "Chevron", "Exxon", "Costco Gas"), 30_00, 65_00),
    Habit(7, "Transportation > Public Transit", ("Metro Transit", "Uber", "Lyft"), 2_75, 32_00),
    Habit(3, "Transportation > Parking", ("City Parking", "SpotHero"), 5_00, 25_00, ("card", "cash")),
    Habit(7, "Shopping > Household", ("Amazon", "Target", "Home Depot", "IKEA"), 12_00, 90_00,
          holiday_weight=12),
    Habit(4, "Shopping > Clothing", ("Uniqlo", "Nordstrom", "Old Navy", "REI"), 25_00, 120_00,
          holiday_weight=8),
    Habit(1, "Shopping > Electronics", ("Best Buy", "Apple Store", "Amazon"), 20_00, 400_00,
          holiday_weight=3),
    Habit(2, "Shopping > Household", ("Target", "Walmart"), 30_00, 150_00, holiday_weight=4,
          split_with=("Shopping > Clothing", "Health > Pharmacy")),
    Habit(3, "Health > Pharmacy", ("CVS Pharmacy", "Walgreens"), 6_00, 45_00),
    Habit(1, "Health > Medical", ("City Medical Group", "Bright Smile Dental"), 25_00, 180_00),
    Habit(3, "Entertainment > Movies & Events", ("AMC Theatres", "Ticketmaster", "Fandango"),
          14_00, 120_00),
    Habit(2, "Entertainment > Hobbies", ("Barnes & Noble", "Guitar Center", "Steam"), 10_00, 60_00),
    Habit(1, "Gifts & Donations > Gifts", ("Etsy", "Amazon", "Macy's"), 20_00, 90_00, holiday_weight=8),
    Habit(1, "Gifts & Donations > Charity", ("Red Cross", "Local Food Bank"), 10_00, 50_00),
)
# Purchases a day without a volume target: one of these, drawn (weekday, weekend), and one more
# on HOLIDAY_EXTRA_PCT percent of the days of the holiday months.
PURCHASES_PER_DAY = ((0, 1, 1, 1, 2, 2, 3), (1, 2, 2, 3, 3, 4))
HOLIDAY_EXTRA_PCT = 35
PAY_CATEGORIES = ("Income > Salary", "Income > Bonus")


class Event(NamedTuple):
    """One transaction to write (a transfer is one event, two legs).

    ``cents`` is signed on ``account`` for income and expenses (negative = money out, positive
    expense = refund) and the amount moved for a transfer (``account`` -> ``to_account``); None
    means "decided on the day" by the ledger. ``lines`` splits an expense: (category, cents spent).
    A transfer's payees ("Transfer to Savings" / "Transfer from Checking") are made by the writer.
    """
    day: str
    kind: str
    account: str
    cents: int | None
    payee: str
    category: str | None = None
    lines: tuple[tuple[str, int], ...] = ()
    to_account: str | None = None
    description: str = ""

    @property
    def legs(self) -> int:
        return 2 if self.kind == "transfer" else 1


# ---------------------------------------------------------------------------------------------------
# The generator
# ---------------------------------------------------------------------------------------------------

def _below(rng: random.Random, n: int) -> int:
    """A uniform integer in [0, n) from 32 random bits: several times faster than ``randrange`` on
    the hot path of a million purchases (its bias, under n / 2**32, does not matter here)."""
    return n * rng.getrandbits(32) >> 32


def _pick(rng: random.Random, options: tuple):
    return options[_below(rng, len(options))]


def _draw(rng: random.Random, low: int, high: int) -> int:
    """Cents between low and high, small amounts more likely than large ones."""
    return low + ((high - low + 1) * min(rng.getrandbits(32), rng.getrandbits(32)) >> 32)


def _split(rng: random.Random, total: int, categories: tuple[str, ...]) -> tuple[tuple[str, int], ...]:
    """``total`` cents spread over 2 or 3 of ``categories`` (each line at least a dollar)."""
    chosen = rng.sample(categories, rng.randint(2, min(3, len(categories))))
    cuts = sorted(rng.sample(range(100, total - 99, 100), len(chosen) - 1))
    bounds = [0, *cuts, total]
    return tuple((cat, bounds[i + 1] - bounds[i]) for i, cat in enumerate(chosen))


def _last_weekday(first: date) -> date:
    day = month_end(first)
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


def _plan(rng: random.Random, start: date, end: date) -> dict[date, list[Event]]:
    """The scheduled events between ``start`` and ``end``, by day (see the module docstring)."""
    plan: dict[date, list[Event]] = defaultdict(list)

    def add(day: date, kind: str, account: str, cents: int | None, payee: str, category=None, **extra):
        if start <= day <= end:
            plan[day].append(Event(day.isoformat(), kind, account, cents, payee, category, **extra))

    for index in range(MONTHS):
        first = add_months(start, index)
        raise_cents = 250_00 if index >= 12 else 0
        add(_last_weekday(first), "income", "checking", 5_400_00 + raise_cents,
            "Northwind Payroll", "Income > Salary", description="Salary")
        if first.month == 3:
            add(first.replace(day=15), "income", "checking", rng.randint(2_500_00, 4_500_00),
                "Northwind Payroll", "Income > Bonus", description="Annual bonus")
        elif rng.randrange(100) < 8:
            add(first.replace(day=rng.randint(10, 25)), "income", "checking",
                rng.randint(3_00, 10_00) * 100, "Northwind Payroll", "Income > Bonus",
                description="Spot bonus")
        add(month_end(first), "income", "savings", rng.randint(12_00, 34_00), "Harbor Savings Bank",
            "Income > Interest & Dividends", description="Interest")
        add(first, "expense", "checking", -(1_850_00 + raise_cents * 3 // 10), "Maple Court Apartments",
            "Housing > Rent", description="Rent")
        add(first.replace(day=12), "expense", "checking",
            -(ELECTRIC_DOLLARS[first.month] * 100 + rng.randint(-15_00, 15_00)), "City Power & Light",
            "Housing > Utilities")
        if first.month % 2 == 0:
            add(first.replace(day=18), "expense", "checking", -rng.randint(45_00, 78_00),
                "Metro Water District", "Housing > Utilities")
        for payee, category, cents, day, account in BILLS:
            add(first.replace(day=day), "expense", account, -cents, payee, category)
        add(first.replace(day=2), "transfer", "checking", 300_00, "",
            to_account="savings", description="Monthly savings")
        add(first.replace(day=22), "transfer", "checking", None, "",
            to_account="card", description="Credit card payment")
        if index % 3 == 1:
            payee, category = rng.choice(REFUNDS)
            add(first.replace(day=rng.randint(3, 27)), "expense", "card", rng.randint(15_00, 130_00),
                payee, category, description="Refund: returned item")   # positive: money back

    saturday = start + timedelta(days=(5 - start.weekday()) % 7)
    for week in range((end - saturday).days // 7 + 1):
        day = saturday + timedelta(weeks=week)
        pct = GROCERY_SEASON_PCT.get(day.month, 100)
        add(day, "expense", "card", -(rng.randint(95_00, 165_00) * pct // 100),
            rng.choice(("Trader Joe's", "Whole Foods Market", "Safeway")), "Food > Groceries",
            description="Weekly groceries")
        if week % 2 == 0:
            add(day - timedelta(days=1), "transfer", "checking", None, "",
                to_account="cash", description="ATM withdrawal")
        if week % 6 == 3:
            lines = [("Food > Groceries", rng.randint(80_00, 220_00) * pct // 100),
                     ("Shopping > Household", rng.randint(25_00, 120_00))]
            if rng.randrange(100) < 40:
                lines.append(("Health > Pharmacy", rng.randint(8_00, 40_00)))
            add(day + timedelta(days=1), "expense", "card", -sum(c for _, c in lines), "Costco",
                lines=tuple(lines), description="Costco run")

    for year in range(start.year, end.year + 1):
        for months in ((6, 7, 8), (2, 3, 12)):
            place = rng.choice(DESTINATIONS)
            leave = date(year, rng.choice(months), rng.randint(1, 20))
            nights = rng.randint(3, 7)
            add(leave - timedelta(days=rng.randint(30, 75)), "expense", "card",
                -2 * rng.randint(180_00, 480_00), rng.choice(AIRLINES), "Travel > Flights",
                description=f"Flights to {place}")
            add(leave + timedelta(days=nights), "expense", "card", -nights * rng.randint(120_00, 260_00),
                rng.choice(LODGING), "Travel > Lodging", description=f"Stay in {place}")
    return plan


def _purchases_per_day(rng: random.Random, days: list[date], total: int | None) -> list[int]:
    """How many everyday purchases each day gets: drawn, or ``total`` spread exactly over the days
    (weekends and the holiday months busier)."""
    if total is None:
        counts = []
        for day in days:
            count = rng.choice(PURCHASES_PER_DAY[day.weekday() >= 5])
            if day.month in HOLIDAY_MONTHS and rng.randrange(100) < HOLIDAY_EXTRA_PCT:
                count += 1
            counts.append(count)
        return counts
    weights = [(14 if day.weekday() >= 5 else 10) * (6 if day.month in HOLIDAY_MONTHS else 5)  # +40%, +20%
               for day in days]
    bounds = [0, *accumulate(weights)]
    return [bounds[i + 1] * total // bounds[-1] - bounds[i] * total // bounds[-1] for i in range(len(days))]


def _schedule(rng: random.Random, days: list[date], n_transactions: int | None):
    """The plan, the number of purchases of each day, and the volume scales (empty by default)."""
    plan = _plan(rng, days[0], days[-1])
    if n_transactions is None:
        return plan, _purchases_per_day(rng, days, None), {}
    scheduled = sum(event.legs for events in plan.values() for event in events)
    if n_transactions < scheduled:
        raise ValueError(f"n_transactions must be at least {scheduled} (the scheduled transactions)")
    purchases = _purchases_per_day(rng, days, n_transactions - scheduled)
    scales = _volume_scales(plan, days, n_transactions - scheduled)
    _scale_pay(plan, scales["Income"])
    return plan, purchases, scales


def _usual_purchases(days: list[date]) -> Fraction:
    """The expected number of everyday purchases over ``days`` in the default demo."""
    total = Fraction(0)
    for day in days:
        choices = PURCHASES_PER_DAY[day.weekday() >= 5]
        total += Fraction(sum(choices), len(choices))
        if day.month in HOLIDAY_MONTHS:
            total += Fraction(HOLIDAY_EXTRA_PCT, 100)
    return total


def _expected_spending(plan: dict[date, list[Event]], purchases: Fraction) -> Counter:
    """Expected spending (cents) by category: the plan's expenses plus ``purchases`` everyday ones."""
    spending: Counter = Counter()
    for events in plan.values():
        for event in events:
            if event.kind == "expense":
                for category, cents in event.lines or ((event.category, -event.cents),):
                    spending[category] += cents
    weights = sum(habit.weight for habit in HABITS)
    for habit in HABITS:
        mean = habit.low + Fraction(habit.high - habit.low, 3)   # of _draw: the smaller of two draws
        spending[habit.category] += purchases * habit.weight / weights * mean
    return spending


def _volume_scales(plan: dict[date, list[Event]], days: list[date], purchases: int) -> dict[str, int]:
    """Percentages for a volume run: its pay ("Income") and each budget (by category) grow with the
    spending they go with, so that the proportions of the default demo hold."""
    usual = _expected_spending(plan, _usual_purchases(days))
    volume = _expected_spending(plan, Fraction(purchases))

    def pct(categories) -> int:
        return max(1, round(100 * sum(volume[c] for c in categories) / sum(usual[c] for c in categories)))

    budgeted = {category for category, _, _ in BUDGETS}
    scales = {"Income": pct(list(usual))}
    for category, _, _ in BUDGETS:   # a parent's budget covers its children without their own
        covered = [c for c in usual
                   if c == category or (c.startswith(f"{category} > ") and c not in budgeted)]
        scales[category] = pct(covered) if covered else 100
    return scales


def _scale_pay(plan: dict[date, list[Event]], pct: int) -> None:
    for events in plan.values():
        events[:] = [event._replace(cents=event.cents * pct // 100) if event.category in PAY_CATEGORIES
                     else event for event in events]


class _Ledger:
    """Running balances (cents) for the amounts decided on the day."""

    def __init__(self):
        self.balance = {key: opening for key, _, _, opening in ACCOUNTS}
        self.old_debt = -self.balance["card"]
        self.cash_spent = 0   # since the last ATM withdrawal

    def settle(self, event: Event) -> Event:
        if event.to_account == "card":   # pay the new charges and a little of the old debt
            self.old_debt -= min(CARD_EXTRA, self.old_debt)
            cents = -self.balance["card"] - self.old_debt
        else:                            # top Cash up in $20 notes
            cents = -((self.balance["cash"] - CASH_FLOAT - self.cash_spent) // 20_00) * 20_00
            self.cash_spent = 0
        return event._replace(cents=max(cents, 20_00))

    def book(self, event: Event) -> None:
        if event.kind == "transfer":
            self.balance[event.account] -= event.cents
            self.balance[event.to_account] += event.cents
        else:
            self.balance[event.account] += event.cents
            if event.account == "cash":
                self.cash_spent -= event.cents


def _events(rng: random.Random, plan: dict[date, list[Event]], days: list[date],
            purchases: list[int]) -> Iterator[Event]:
    """Every event in date order: the day's scheduled ones, then its purchases."""
    cum_weights = {holiday: list(accumulate(
        (h.holiday_weight or h.weight) if holiday else h.weight for h in HABITS))
        for holiday in (False, True)}
    ledger = _Ledger()
    for day, count in zip(days, purchases, strict=True):
        for event in plan.get(day, ()):
            if event.cents is None:
                event = ledger.settle(event)
            ledger.book(event)
            yield event
        iso = day.isoformat()
        weights = cum_weights[day.month in HOLIDAY_MONTHS]
        for _ in range(count):
            habit = HABITS[bisect(weights, _below(rng, weights[-1]))]
            cents = _draw(rng, habit.low, habit.high)
            lines = _split(rng, cents, (habit.category, *habit.split_with)) if habit.split_with else ()
            event = Event(iso, "expense", _pick(rng, habit.accounts), -cents, _pick(rng, habit.payees),
                          habit.category, lines)
            ledger.book(event)
            yield event


# ---------------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------------

def _transactions(events: Iterator[Event], *, account_ids: dict[str, int], category_ids: dict[str, int],
                  transfer_namespace: uuid.UUID) -> Iterator[NewTransaction]:
    """Events as rows for the bulk writer (a transfer is two legs sharing a transfer group)."""
    transfers = 0
    day = None
    for event in events:
        if day is None or day.isoformat() != event.day:
            day = date.fromisoformat(event.day)
        if event.kind == "transfer":
            transfers += 1
            group = str(uuid.uuid5(transfer_namespace, str(transfers)))
            yield NewTransaction(account_ids[event.account], day, -event.cents, "transfer", None,
                                 f"Transfer to {ACCOUNT_NAMES[event.to_account]}", event.description,
                                 transfer_group=group)
            yield NewTransaction(account_ids[event.to_account], day, event.cents, "transfer", None,
                                 f"Transfer from {ACCOUNT_NAMES[event.account]}", event.description,
                                 transfer_group=group)
        elif event.kind == "income":
            yield NewTransaction(account_ids[event.account], day, event.cents, "income",
                                 category_ids[event.category], event.payee, event.description)
        else:
            lines = event.lines or ((event.category, -event.cents),)
            header = category_ids[lines[0][0]] if len(lines) == 1 else None
            yield NewTransaction(account_ids[event.account], day, event.cents, "expense", header, event.payee,
                                 event.description,
                                 lines=tuple((category_ids[category], cents, "") for category, cents in lines))


# ---------------------------------------------------------------------------------------------------
# The rows around the transactions
# ---------------------------------------------------------------------------------------------------

def _builtin_categories(session: Session) -> dict[str, int]:
    """The built-in categories by "Parent > Child" (and "Parent") name."""
    parent = aliased(Category)
    rows = session.execute(select(Category.id, Category.name, Category.parent_id, parent.name)
                           .outerjoin(parent, parent.id == Category.parent_id)
                           .where(Category.user_id.is_(None))).all()
    ids = {(f"{parent_name} > {name}" if parent_name else name): cid for cid, name, _, parent_name in rows}
    if not ids:
        raise LookupError("no built-in categories: run the migrations first")
    return ids


def _budgets(session: Session, user_id: int, end: date, category_ids: dict[str, int],
             scales: dict[str, int]) -> list[Budget]:
    """The monthly budgets of the last months (the bulk writer puts the expenses in them)."""
    budgets = []
    for back in range(BUDGET_MONTHS - 1, -1, -1):
        first = add_months(month_start(end), -back)
        for category, cents, rollover in BUDGETS:
            budgets.append(Budget(user_id=user_id, category_id=category_ids[category],
                                  amount=from_cents(cents * scales.get(category, 100) // 100),
                                  period_type="monthly", start_date=first, end_date=month_end(first),
                                  rollover=rollover, created_at=_morning(first)))
    session.add_all(budgets)
    session.flush()
    return budgets


def _goals(session: Session, user_id: int, start: date, end: date,
           accounts: dict[str, Account]) -> list[Goal]:
    """The emergency fund follows Savings and the debt goal the card, both set when the demo starts
    (a debt goal's progress is the debt paid off since it was set); the vacation fund is saved by
    hand, one contribution a month for the last months."""
    deposits = [add_months(end, -back) for back in range(VACATION_MONTHS - 1, -1, -1)]
    vacation = Goal(user_id=user_id, name="Vacation", kind="savings", target_amount=Decimal("3500.00"),
                    saved_amount=from_cents(VACATION_DEPOSIT * len(deposits)),
                    target_date=month_start(add_months(end, 10)), created_at=_morning(deposits[0]))
    goals = [
        Goal(user_id=user_id, name="Emergency fund", kind="savings", account_id=accounts["savings"].id,
             target_amount=Decimal("10000.00"), target_date=month_start(add_months(end, 12)),
             created_at=_morning(start)),
        vacation,
        Goal(user_id=user_id, name="Pay off credit card", kind="debt", account_id=accounts["card"].id,
             target_amount=from_cents(-ACCOUNTS[2][3]), target_date=month_start(add_months(end, 9)),
             created_at=_morning(start)),
    ]
    session.add_all(goals)
    session.flush()
    session.add_all(GoalContribution(user_id=user_id, goal_id=vacation.id, date=day,
                                     amount=from_cents(VACATION_DEPOSIT), note="Monthly deposit",
                                     created_at=_morning(day))
                    for day in deposits)
    return goals


def _morning(day: date) -> datetime:
    """A fixed creation time for the rows the demo dates (not the wall clock: same seed, same rows)."""
    return datetime.combine(day, dt_time(9))


# ---------------------------------------------------------------------------------------------------
# The entry point
# ---------------------------------------------------------------------------------------------------

def load_demo(session: Session, *, seed: int = 42, end: date | None = None, email: str = DEMO_EMAIL,
              n_transactions: int | None = None, replace: bool = False,
              progress: Callable[[str], None] | None = None) -> dict:
    """Create the demo user (the caller commits). See the module docstring for what it contains.

    ``n_transactions`` asks for exactly that many transactions (a transfer counts its two legs) over
    the same 24 months: the everyday purchases are multiplied, and the pay and the budgets scaled with
    the spending they go with (the amount of each row stays believable). It must be at least the
    number of scheduled transactions (about 650).
    An existing user with ``email`` is an error unless ``replace``: then that user is deleted first.
    ``progress`` receives a status line per chunk written.
    Returns counts and totals (Decimal) of what was written, and the seconds it took.
    """
    started = time.perf_counter()
    say = progress or (lambda message: None)
    end = end or date.today()
    email = email.strip().lower()
    if n_transactions is not None and n_transactions <= 0:
        raise ValueError("n_transactions must be positive")

    existing = session.scalar(select(User.id).where(User.email == email))
    if existing is not None:
        if not replace:
            raise ValueError(f"a user with the email {email} already exists (use replace=True)")
        delete_user(session, existing)
        say(f"Deleted the previous {email} ({time.perf_counter() - started:.1f} s).")
    category_ids = _builtin_categories(session)

    rng = random.Random(seed)
    start = month_start(add_months(end, -(MONTHS - 1)))
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    plan, purchases, scales = _schedule(rng, days, n_transactions)
    total = sum(event.legs for events in plan.values() for event in events) + sum(purchases)

    user = User(email=email, display_name=DEMO_NAME, currency="USD",
                password_hash=hash_password(DEMO_PASSWORD), created_at=_morning(start))
    session.add(user)
    session.flush()
    accounts = {key: Account(user_id=user.id, name=name, type=type_, opening_balance=from_cents(opening),
                             created_at=_morning(start))
                for key, name, type_, opening in ACCOUNTS}
    session.add_all(accounts.values())
    session.flush()
    budgets = _budgets(session, user.id, end, category_ids, scales)
    goals = _goals(session, user.id, start, end, accounts)
    session.flush()

    say(f"Writing {total:,} transactions from {start} to {end}...")
    written = write_transactions(
        session, user.id,
        _transactions(_events(rng, plan, days, purchases), account_ids={key: a.id for key, a in accounts.items()},
                      category_ids=category_ids,
                      transfer_namespace=uuid.uuid5(uuid.NAMESPACE_URL, f"ledgerlens-demo:{email}:{seed}")),
        progress=lambda done: say(f"  {done:,} / {total:,} transactions ({time.perf_counter() - started:.1f} s)"))
    seconds = time.perf_counter() - started
    say(f"  budgets assigned, roll-up rebuilt ({seconds:.1f} s)")
    return {
        "user_id": user.id,
        "email": email,
        "start": start,
        "end": end,
        "accounts": len(accounts),
        "transactions": written.transactions,
        "expenses": written.expense_count,
        "budgets": len(budgets),
        "goals": len(goals),
        "by_kind": {kind: {"count": written.count[kind], "total": from_cents(written.cents[kind])}
                    for kind in ("expense", "income", "transfer")},
        "expense_total": from_cents(written.expense_cents),
        "seconds": seconds,
    }

