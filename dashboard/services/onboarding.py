"""Where a new person stands on the first-run path: an account, then transactions (typed or imported),
then their spending. Two EXISTS queries, scoped to the user."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from models import Account, Transaction


@dataclass(frozen=True)
class FirstRun:
    has_account: bool
    has_transaction: bool

    @property
    def done(self) -> bool:
        return self.has_account and self.has_transaction

    @property
    def step(self) -> int:
        """The step to do next: 1 add an account, 2 import or add transactions, 3 look at spending."""
        if not self.has_account:
            return 1
        return 2 if not self.has_transaction else 3


def first_run(session: Session, user_id: int) -> FirstRun:
    has_account = session.scalar(select(exists().where(Account.user_id == user_id)))
    has_transaction = session.scalar(select(exists().where(Transaction.user_id == user_id)))
    return FirstRun(bool(has_account), bool(has_transaction))
