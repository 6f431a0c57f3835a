"""Reads of a user's accounts (writes live with the Accounts page)."""
from __future__ import annotations

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Account


def list_accounts(session: Session, user_id: int, *, include_archived: bool = True) -> pd.DataFrame:
    stmt = (select(Account.id, Account.name, Account.type, Account.archived)
            .where(Account.user_id == user_id).order_by(Account.archived, Account.name))
    if not include_archived:
        stmt = stmt.where(Account.archived.is_(False))
    return pd.DataFrame(session.execute(stmt).all(), columns=["id", "name", "type", "archived"])
