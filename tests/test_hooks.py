"""The session hooks are installed explicitly (dashboard/services/hooks.py), and a write without them
fails loudly instead of leaving monthly_rollup and users.data_version stale."""
from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from dashboard.services import hooks
from dashboard.services.bulk import NewTransaction, write_transactions
from dashboard.services.transactions import create_transaction
from models import MonthlyRollup, User
from models.db import SessionHooksMissing

ROOT = Path(__file__).resolve().parent.parent


def test_create_app_installs_the_hooks(app):
    assert hooks.session_hooks_installed()
    hooks.install_session_hooks()  # twice is harmless: each listener once
    from sqlalchemy import event
    from sqlalchemy.orm import Session
    assert all(event.contains(Session, name, fn) for name, fn in hooks.LISTENERS)


def test_writes_without_the_hooks_fail_and_change_nothing(db_session, make_user, make_account):
    alice = make_user()
    account = make_account(alice)
    version = db_session.scalar(select(User.data_version).where(User.id == alice.id))
    hooks.uninstall_session_hooks()
    try:
        with pytest.raises(SessionHooksMissing, match="install_session_hooks"):
            create_transaction(db_session, alice.id, account_id=account.id, date=date(2026, 3, 2),
                               amount="-12.00", kind="expense", payee="Cafe")
            db_session.flush()
        db_session.rollback()
        with pytest.raises(SessionHooksMissing):
            write_transactions(db_session, alice.id, [NewTransaction(
                account_id=account.id, date=date(2026, 3, 2), cents=-500, kind="expense",
                category_id=None, payee="Kiosk")])
        db_session.rollback()
    finally:
        hooks.install_session_hooks()
    assert db_session.scalar(select(func.count()).select_from(MonthlyRollup)) == 0
    assert db_session.scalar(select(User.data_version).where(User.id == alice.id)) == version


SCRIPT = textwrap.dedent("""
    import sys
    from datetime import date
    from sqlalchemy import create_engine, select
    from sqlalchemy.orm import Session
    from models import Base, MonthlyRollup, User
    from models.db import SessionHooksMissing
    from dashboard.services.accounts import create_account
    from dashboard.services.transactions import create_transaction

    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        try:
            session.add(User(email="a@example.com", display_name="A", currency="USD", password_hash="x"))
            session.commit()
        except SessionHooksMissing:
            session.rollback()
            print("refused")
        else:
            sys.exit("a write without the hooks went through")
        from dashboard.services.hooks import install_session_hooks
        install_session_hooks()
        user = User(email="a@example.com", display_name="A", currency="USD", password_hash="x")
        session.add(user)
        session.commit()
        before = user.data_version
        account = create_account(session, user.id, name="Checking")
        create_transaction(session, user.id, account_id=account.id, date=date(2026, 3, 2), amount="25.00",
                           kind="income", payee="Pay")
        session.commit()
        rows = session.scalars(select(MonthlyRollup.total_cents).where(MonthlyRollup.flow == "income")).all()
        session.refresh(user)
        print("rollup", rows, "bumped", user.data_version > before)
""")


def test_a_script_without_create_app_is_refused_then_works_once_installed():
    done = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:2] == ["refused", "rollup [2500] bumped True"]
