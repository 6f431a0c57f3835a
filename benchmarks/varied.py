"""A benchmark user with the variety of real life (issue 14), written through the demo's bulk path.

    load_varied(session, email=..., n_transactions=1_000_000, seed=11)

Unlike the uniform demo volume set (72 payees, ~30 built-in categories, 4 accounts, 24 months), this
user has:

- **8 accounts** (two checking, two savings, two credit cards, cash, a brokerage account);
- **a three-level category tree of their own** (``categories.user_id`` set, ``parent_id`` chains:
  Food > Groceries > Supermarkets), 70+ expense categories and a few income ones;
- **thousands of payees with a long tail**: payee ``k`` (1-based) is drawn with weight ``1 / k**1.1``
  (Zipf-like), so a few dozen payees carry most rows and thousands are seen a handful of times. Each
  payee has a home category (10 % of them a second one), one or two usual accounts and an amount
  scale of its own; descriptions look like bank memo lines (card, city, order numbers);
- **10 years** (120 calendar months ending today), salaries, rent, bills, ~3 % split purchases, refunds,
  and transfers (savings, card payments, ATM withdrawals, brokerage contributions).

Rows are written by :func:`dashboard.services.bulk.write_transactions`, the one bulk path (COPY on
PostgreSQL, executemany on SQLite), which also rebuilds the roll-ups of the months it touched.
"""
from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable
from datetime import date, timedelta
from itertools import accumulate

from sqlalchemy import select
from sqlalchemy.orm import Session

from dashboard.demo import DEMO_PASSWORD, Event
from dashboard.services.bulk import NewTransaction, write_transactions
from dashboard.services.passwords import hash_password
from dashboard.services.periods import add_months, month_start
from dashboard.services.users import delete_user
from models import Account, Category, User, from_cents

MONTHS = 120
N_PAYEES = 6000
ZIPF_S = 1.1

ACCOUNTS = (
    ("checking", "Everyday Checking", "checking", 3_200_00),
    ("joint", "Joint Checking", "checking", 5_100_00),
    ("savings", "Savings", "savings", 8_000_00),
    ("hysa", "High-Yield Savings", "savings", 12_000_00),
    ("visa", "Visa Rewards", "credit_card", -1_200_00),
    ("amex", "Amex Gold", "credit_card", -600_00),
    ("cash", "Wallet", "cash", 120_00),
    ("brokerage", "Brokerage", "investment", 20_000_00),
)
ACCOUNT_NAMES = {key: name for key, name, _, _ in ACCOUNTS}
SPENDING_ACCOUNTS = ("visa", "visa", "amex", "checking", "joint", "cash")

# Top > middle > leaves, each leaf with (suffixes for payee names, low, high cents, weight).
TREE = {
    "Food": {
        "Groceries": {"Supermarkets": (("Market", "Foods", "Grocery", "Supermarket"), 15_00, 180_00, 30),
                      "Specialty Stores": (("Butcher", "Bakery", "Deli", "Cheese Shop"), 6_00, 60_00, 6),
                      "Farmers Markets": (("Farm Stand", "Orchard", "Farmers Market"), 5_00, 45_00, 3)},
        "Dining Out": {"Restaurants": (("Grill", "Bistro", "Kitchen", "Trattoria", "Taqueria"), 18_00, 140_00, 18),
                       "Fast Food": (("Burger", "Pizza", "Tacos", "Chicken"), 7_00, 28_00, 12),
                       "Delivery": (("Eats", "Delivery", "Dash"), 15_00, 60_00, 6)},
        "Coffee & Snacks": {"Coffee Shops": (("Coffee", "Café", "Roasters", "Espresso Bar"), 3_00, 12_00, 22),
                            "Bakeries": (("Donuts", "Patisserie", "Bagels"), 3_00, 20_00, 5)},
    },
    "Home": {
        "Housing": {"Rent": (("Apartments",), 0, 0, 0),
                    "Repairs": (("Plumbing", "Handyman", "Electric Co-op", "Roofing"), 80_00, 900_00, 1),
                    "Furnishings": (("Furniture", "Home Goods", "Lighting"), 25_00, 600_00, 2)},
        "Utilities": {"Electricity": (("Power & Light",), 0, 0, 0),
                      "Water": (("Water District",), 0, 0, 0),
                      "Internet": (("Fiber", "Broadband"), 0, 0, 0),
                      "Phone": (("Wireless", "Mobile"), 0, 0, 0)},
        "Household": {"Supplies": (("Hardware", "Home Center", "Supply Co"), 8_00, 120_00, 7),
                      "Cleaning": (("Cleaners", "Laundry"), 10_00, 80_00, 2),
                      "Garden": (("Garden Center", "Nursery"), 10_00, 150_00, 2)},
    },
    "Transport": {
        "Car": {"Fuel": (("Gas", "Fuel", "Petroleum"), 25_00, 85_00, 10),
                "Maintenance": (("Auto Repair", "Tire & Lube", "Car Wash"), 15_00, 700_00, 2),
                "Parking": (("Parking", "Garage"), 3_00, 30_00, 3),
                "Insurance": (("Auto Insurance",), 0, 0, 0)},
        "Public Transit": {"Train & Bus": (("Transit", "Rail", "Metro"), 2_00, 40_00, 5),
                           "Rideshare": (("Rides", "Cab", "Taxi"), 8_00, 55_00, 5)},
    },
    "Shopping": {
        "Clothing": {"Apparel": (("Apparel", "Outfitters", "Boutique"), 20_00, 220_00, 4),
                     "Shoes": (("Shoes", "Footwear"), 40_00, 180_00, 1)},
        "Electronics": {"Gadgets": (("Electronics", "Computers", "Camera"), 15_00, 1_400_00, 1),
                        "Software": (("Software", "Apps"), 2_00, 80_00, 2)},
        "General": {"Online": (("Online", "Marketplace", ".com"), 8_00, 160_00, 9),
                    "Department Stores": (("Department Store", "Mart"), 15_00, 250_00, 4),
                    "Books": (("Books", "Bookshop"), 8_00, 60_00, 2)},
    },
    "Health": {
        "Medical": {"Doctor": (("Medical Group", "Clinic", "Family Practice"), 20_00, 300_00, 1),
                    "Dental": (("Dental", "Orthodontics"), 40_00, 400_00, 1),
                    "Pharmacy": (("Pharmacy", "Drugstore", "Apothecary"), 5_00, 90_00, 5)},
        "Fitness": {"Gym": (("Fitness", "Gym", "Yoga"), 0, 0, 0),
                    "Sports": (("Sports", "Climbing", "Golf"), 10_00, 150_00, 2)},
    },
    "Leisure": {
        "Entertainment": {"Movies": (("Cinema", "Theatres"), 10_00, 60_00, 3),
                          "Events": (("Tickets", "Arena", "Live"), 30_00, 300_00, 2),
                          "Streaming": (("Streaming", "Plus", "TV"), 0, 0, 0)},
        "Hobbies": {"Games": (("Games", "Arcade"), 5_00, 70_00, 2),
                    "Music": (("Music", "Records", "Guitar"), 10_00, 200_00, 1),
                    "Crafts": (("Crafts", "Art Supply"), 5_00, 80_00, 1)},
        "Travel": {"Flights": (("Airlines", "Air"), 120_00, 900_00, 1),
                   "Lodging": (("Hotel", "Inn", "Resort", "Suites"), 90_00, 700_00, 1),
                   "Vacation Activities": (("Tours", "Excursions", "Museum"), 15_00, 150_00, 1)},
    },
    "Family": {
        "Kids": {"Childcare": (("Daycare", "Nanny Agency"), 0, 0, 0),
                 "School": (("School Supplies", "Academy"), 10_00, 200_00, 2),
                 "Toys": (("Toys", "Toy Store"), 8_00, 90_00, 2)},
        "Pets": {"Pet Food": (("Pet Supply", "Pet Food"), 15_00, 90_00, 2),
                 "Vet": (("Animal Hospital", "Veterinary"), 50_00, 600_00, 1)},
        "Gifts & Giving": {"Gifts": (("Gifts", "Flowers", "Gift Shop"), 15_00, 150_00, 2),
                           "Charity": (("Foundation", "Relief Fund", "Charities"), 10_00, 200_00, 1)},
    },
    "Finance": {
        "Fees": {"Bank Fees": (("Bank",), 2_00, 35_00, 1),
                 "Interest Charges": (("Card Services",), 5_00, 90_00, 1)},
        "Insurance": {"Life Insurance": (("Life",), 0, 0, 0),
                      "Home Insurance": (("Home Insurance",), 0, 0, 0)},
        "Taxes": {"Property Tax": (("County Treasurer",), 0, 0, 0),
                  "Tax Prep": (("Tax Service",), 60_00, 400_00, 1)},
    },
}
INCOME = {"Income": {"Salary": None, "Bonus": None, "Interest": None, "Side Gigs": None}}

ADJECTIVES = ("Blue", "Golden", "Green", "Silver", "Red", "Maple", "Cedar", "Harbor", "River", "Summit",
              "North", "South", "Sunny", "Oak", "Pine", "Urban", "Main Street", "Lakeside", "Union",
              "Hilltop", "Old Town", "Riverside", "Bright", "Happy", "Royal", "Little", "Grand",
              "Corner", "Coastal", "Prairie")
NOUNS = ("Fox", "Bear", "Owl", "Sparrow", "Stone", "Bridge", "Lantern", "Anchor", "Willow", "Birch",
         "Meadow", "Canyon", "Compass", "Harvest", "Beacon", "Orchid", "Falcon", "Juniper", "Otter",
         "Ember", "Pebble", "Clover", "Aspen", "Crescent", "Horizon", "Granite", "Heron", "Thistle")
CITIES = ("SEATTLE WA", "PORTLAND OR", "OAKLAND CA", "DENVER CO", "AUSTIN TX", "BOSTON MA", "CHICAGO IL",
          "MADISON WI", "RALEIGH NC", "TUCSON AZ", "BOISE ID", "ATLANTA GA")


def _leaves() -> list[tuple[str, tuple, int, int, int]]:
    out = []
    for top, middles in TREE.items():
        for middle, leaves in middles.items():
            for leaf, (suffixes, low, high, weight) in leaves.items():
                out.append((f"{top} > {middle} > {leaf}", suffixes, low, high, weight))
    return out


def _create_categories(session: Session, user_id: int) -> dict[str, int]:
    """The user's own three-level tree; returns id by "Top > Middle > Leaf" path (and shorter paths)."""
    ids: dict[str, int] = {}

    def add(path: str, name: str, parent: str | None, kind: str) -> None:
        category = Category(user_id=user_id, name=name, kind=kind, parent_id=ids.get(parent) if parent else None)
        session.add(category)
        session.flush()
        ids[path] = category.id

    for tree, kind in ((TREE, "expense"), (INCOME, "income")):
        for top, middles in tree.items():
            add(top, top, None, kind)
            for middle, leaves in middles.items():
                add(f"{top} > {middle}", middle, top, kind)
                for leaf in (leaves or {}):
                    add(f"{top} > {middle} > {leaf}", leaf, f"{top} > {middle}", kind)
    return ids


class _Payee:
    __slots__ = ("name", "categories", "accounts", "low", "high")

    def __init__(self, name, categories, accounts, low, high):
        self.name, self.categories, self.accounts, self.low, self.high = name, categories, accounts, low, high


def _payees(rng: random.Random, leaves) -> list[_Payee]:
    """N_PAYEES distinct names, each in a home leaf (drawn by the leaf's weight), most popular first."""
    weighted = [leaf for leaf in leaves if leaf[4] > 0]
    cumulative = list(accumulate(leaf[4] for leaf in weighted))
    seen: set[str] = set()
    payees = []
    while len(payees) < N_PAYEES:
        path, suffixes, low, high, _ = weighted[_bisect(cumulative, rng.random() * cumulative[-1])]
        name = f"{rng.choice(ADJECTIVES)} {rng.choice(NOUNS)} {rng.choice(suffixes)}"
        if name in seen:
            name = f"{name} #{rng.randint(2, 999)}"
            if name in seen:
                continue
        seen.add(name)
        categories = (path,)
        if rng.random() < 0.10:   # a second category now and then (a supermarket selling household goods)
            categories += (rng.choice(weighted)[0],)
        accounts = (rng.choice(SPENDING_ACCOUNTS),)
        if rng.random() < 0.35:
            accounts += (rng.choice(SPENDING_ACCOUNTS),)
        scale = rng.uniform(0.7, 1.4)
        payees.append(_Payee(name, categories, accounts, max(1_00, int(low * scale)), max(2_00, int(high * scale))))
    return payees


def _bisect(cumulative, value) -> int:
    lo, hi = 0, len(cumulative)
    while lo < hi:
        mid = (lo + hi) // 2
        if cumulative[mid] <= value:
            lo = mid + 1
        else:
            hi = mid
    return min(lo, len(cumulative) - 1)


def _description(rng: random.Random, payee: str, day: date) -> str:
    roll = rng.random()
    if roll < 0.45:
        return f"POS PURCHASE {payee.upper()[:22]} {rng.choice(CITIES)}"
    if roll < 0.60:
        return f"Card ****{rng.randint(1000, 9999)} {payee[:20]} {day:%m/%d}"
    if roll < 0.70:
        return f"Online order #{rng.randint(100000, 999999)}"
    return ""


def _scheduled(rng: random.Random, start: date, months: int) -> dict[date, list]:
    """Salary, rent, bills and transfers of every month."""
    plan: dict[date, list] = {}

    def add(day: date, *args, **kwargs):
        plan.setdefault(day, []).append(Event(day.isoformat(), *args, **kwargs))

    bills = (("Home > Utilities > Electricity", "Cascade Power & Light", 60_00, 190_00, 12, "checking"),
             ("Home > Utilities > Water", "Metro Water District", 35_00, 80_00, 18, "checking"),
             ("Home > Utilities > Internet", "Lightspeed Fiber", 70_00, 70_00, 5, "visa"),
             ("Home > Utilities > Phone", "Horizon Wireless", 85_00, 95_00, 20, "visa"),
             ("Transport > Car > Insurance", "Granite Auto Insurance", 140_00, 140_00, 8, "checking"),
             ("Health > Fitness > Gym", "Summit Fitness", 45_00, 45_00, 17, "amex"),
             ("Leisure > Entertainment > Streaming", "StreamMax Plus", 15_99, 22_99, 9, "visa"),
             ("Leisure > Entertainment > Streaming", "Tunely Music", 10_99, 10_99, 14, "visa"),
             ("Family > Kids > Childcare", "Little Sprouts Daycare", 1_100_00, 1_300_00, 1, "joint"),
             ("Finance > Insurance > Life Insurance", "Evergreen Life", 38_00, 38_00, 25, "checking"))
    for index in range(months):
        first = add_months(start, index)
        pay = 6_200_00 + 40_00 * index
        for day in (first.replace(day=1), first.replace(day=15)):
            add(day, "income", "checking", pay // 2, "Northwind Payroll", "Income > Salary",
                description="DIRECT DEP NORTHWIND PAYROLL")
        if first.month == 3:
            add(first.replace(day=20), "income", "checking", rng.randint(3_000_00, 9_000_00), "Northwind Payroll",
                "Income > Bonus", description="Annual bonus")
        if rng.random() < 0.3:
            add(first.replace(day=rng.randint(2, 27)), "income", "joint", rng.randint(200_00, 1_500_00),
                "Freelance Client", "Income > Side Gigs", description="Invoice payment")
        add(first.replace(day=28), "income", "hysa", rng.randint(20_00, 90_00), "Harbor Savings Bank",
            "Income > Interest", description="Interest")
        add(first, "expense", "joint", -(2_100_00 + 15_00 * (index // 12) * 12), "Cedar Court Apartments",
            "Home > Housing > Rent", description="Rent")
        for category, payee, low, high, day, account in bills:
            add(first.replace(day=day), "expense", account, -rng.randint(low, high), payee, category)
        if first.month in (4, 10):
            add(first.replace(day=10), "expense", "checking", -rng.randint(1_800_00, 2_400_00), "County Treasurer",
                "Finance > Taxes > Property Tax", description="Property tax installment")
        for day, src, dst, cents, description in (
                (3, "checking", "savings", 500_00, "Monthly savings"),
                (4, "checking", "hysa", 300_00, "HYSA transfer"),
                (6, "joint", "brokerage", 750_00, "Brokerage contribution"),
                (22, "checking", "visa", rng.randint(1_500_00, 3_500_00), "Visa payment"),
                (24, "joint", "amex", rng.randint(600_00, 1_800_00), "Amex payment"),
                (11, "checking", "cash", 200_00, "ATM withdrawal"),
                (26, "checking", "joint", 1_000_00, "To joint account")):
            add(first.replace(day=day), "transfer", src, cents, "", to_account=dst, description=description)
    return plan


def load_varied(session: Session, *, email: str, n_transactions: int, seed: int = 11, end: date | None = None,
                progress: Callable[[str], None] | None = None) -> dict:
    """Create (replacing any user with ``email``) the varied benchmark user; the caller commits."""
    say = progress or (lambda message: None)
    started = time.perf_counter()
    existing = session.scalar(select(User.id).where(User.email == email))
    if existing is not None:
        delete_user(session, existing)
    rng = random.Random(seed)
    end = end or date.today()
    start = month_start(add_months(end, -(MONTHS - 1)))
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]

    user = User(email=email, display_name="Varied Bench", currency="USD", password_hash=hash_password(DEMO_PASSWORD))
    session.add(user)
    session.flush()
    accounts = {key: Account(user_id=user.id, name=name, type=type_, opening_balance=from_cents(opening))
                for key, name, type_, opening in ACCOUNTS}
    session.add_all(accounts.values())
    session.flush()
    account_ids = {key: a.id for key, a in accounts.items()}
    category_ids = _create_categories(session, user.id)
    leaves = _leaves()
    payees = _payees(rng, leaves)
    zipf = list(accumulate(1 / (k ** ZIPF_S) for k in range(1, len(payees) + 1)))
    leaf_paths = [leaf[0] for leaf in leaves if leaf[4] > 0]

    plan = {day: events for day, events in _scheduled(rng, start, MONTHS).items() if day <= end}
    scheduled = sum(2 if event.kind == "transfer" else 1 for events in plan.values() for event in events)
    purchases = max(0, n_transactions - scheduled)
    weights = [(13 if day.weekday() >= 5 else 10) * (12 if day.month == 12 else 10) for day in days]
    bounds = [0, *accumulate(weights)]
    per_day = [bounds[i + 1] * purchases // bounds[-1] - bounds[i] * purchases // bounds[-1] for i in range(len(days))]

    def rows():
        transfers = 0
        random_ = rng.random
        total_weight = zipf[-1]
        for day, count in zip(days, per_day, strict=True):
            for event in plan.get(day, ()):
                if event.kind == "transfer":
                    transfers += 1
                    group = str(uuid.uuid5(uuid.NAMESPACE_URL, f"ledgerlens-varied:{email}:{seed}:{transfers}"))
                    yield NewTransaction(account_ids[event.account], day, -event.cents, "transfer", None,
                                         f"Transfer to {ACCOUNT_NAMES[event.to_account]}", event.description,
                                         transfer_group=group)
                    yield NewTransaction(account_ids[event.to_account], day, event.cents, "transfer", None,
                                         f"Transfer from {ACCOUNT_NAMES[event.account]}", event.description,
                                         transfer_group=group)
                else:
                    yield NewTransaction(account_ids[event.account], day, event.cents, event.kind,
                                         category_ids[event.category], event.payee, event.description)
            for _ in range(count):
                payee = payees[_bisect(zipf, random_() * total_weight)]
                category = payee.categories[0] if len(payee.categories) == 1 or random_() < 0.8 else payee.categories[1]
                account = payee.accounts[0] if len(payee.accounts) == 1 or random_() < 0.7 else payee.accounts[1]
                cents = payee.low + int((payee.high - payee.low) * min(random_(), random_()))
                roll = random_()
                description = _description(rng, payee.name, day)
                if roll < 0.03 and cents >= 6_00:   # a split over the home category and two others
                    others = rng.sample(leaf_paths, 2)
                    cut1 = max(1_00, cents // 2)
                    cut2 = max(1_00, (cents - cut1) // 2)
                    lines = tuple((category_ids[c], v, "") for c, v in
                                  ((category, cut1), (others[0], cents - cut1 - cut2), (others[1], cut2)) if v > 0)
                    yield NewTransaction(account_ids[account], day, -sum(v for _, v, _ in lines), "expense", None,
                                         payee.name, description, lines=lines)
                elif roll < 0.045:   # a refund
                    yield NewTransaction(account_ids[account], day, max(1_00, cents // 2), "expense",
                                         category_ids[category], payee.name, f"Refund {payee.name}")
                else:
                    yield NewTransaction(account_ids[account], day, -cents, "expense", category_ids[category],
                                         payee.name, description)

    written = write_transactions(session, user.id, rows(), progress=lambda done: say(
        f"  {done:,} / {n_transactions:,} transactions ({time.perf_counter() - started:.1f} s)"))
    return {"user_id": user.id, "transactions": written.transactions, "expenses": written.expense_count,
            "categories": len(category_ids), "payees": len(payees), "seconds": time.perf_counter() - started}
