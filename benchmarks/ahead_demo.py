"""Give the demo user schedules (every recurring payment found, confirmed) and two scenarios, for
looking at the Forecast and Recurring pages and for their README screenshots.

    python benchmarks/ahead_demo.py            (the app's database: DATABASE_URL or the instance folder)
"""
from __future__ import annotations

from datetime import date

from common import ROOT  # noqa: F401  (puts the project on sys.path)
from sqlalchemy import select

from app import create_app
from dashboard.services import recurring, scenarios, schedules
from dashboard.services.periods import add_months, month_start
from models import Category, Scenario, User, db

EMAIL = "demo@ledgerlens.local"


def main() -> None:
    app = create_app()
    with app.app_context():
        user_id = db.session.scalar(select(User.id).where(User.email == EMAIL))
        today = date.today()
        confirmed = 0
        for suggestion in recurring.find_recurring(db.session, user_id, today):
            if suggestion.status == "suggested":
                recurring.confirm(db.session, user_id, suggestion.key, today)
                confirmed += 1
        db.session.commit()
        frame = schedules.schedules_frame(db.session, user_id)
        rent = frame[frame["payee"] == "Maple Court Apartments"]
        dining = db.session.scalar(select(Category.id).where(Category.user_id.is_(None), Category.name == "Food",
                                                             Category.parent_id.is_(None)))
        first = month_start(add_months(today, 1))
        wanted = {
            "New car": [
                {"type": "one_off", "label": "Down payment", "date": add_months(first, 1).isoformat(),
                 "amount": "-6000.00"},
                {"type": "recurring", "label": "Car loan", "cadence": "monthly",
                 "start": add_months(first, 2).replace(day=15).isoformat(), "amount": "-420.00"},
            ],
            "Bigger flat, eat in": [
                *([{"type": "change_schedule", "schedule_id": int(rent["id"].iloc[0]), "amount": "-2400.00",
                    "from": add_months(first, 2).isoformat()}] if not rent.empty else []),
                {"type": "budget", "category_id": dining, "amount": "150.00"},
            ],
        }
        for name, items in wanted.items():
            if db.session.scalar(select(Scenario.id).where(Scenario.user_id == user_id, Scenario.name == name)):
                continue
            scenarios.create_scenario(db.session, user_id, name=name, items=items)
        db.session.commit()
        print(f"confirmed {confirmed} schedules; scenarios: {', '.join(wanted)}")


if __name__ == "__main__":
    main()
