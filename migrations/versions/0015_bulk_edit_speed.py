"""bulk edits: no category in the account and amount indexes

A bulk edit (a category for every row of a filter, a rule applied to existing rows, and their undo)
changes ``category_id`` on ~100,000 transactions and expense lines at once. Every index that carries
the column has each of those entries deleted and inserted again; on SQLite that also dirties (and so
writes to the WAL and checkpoints) nearly every page of the index when the rows are spread over the
table, as a rule's are. Two transactions indexes and three expense indexes carried it. The roll-ups
answer every category total of the spending explorer now, so two of them lose the column:

- ``ix_transactions_user_account_date``: (user, account, date, amount) — the account balance and the
  ledger read amounts by account and date, never the category;
- ``ix_expenses_user_account_date``: (user, account, date, amount) — the raw reads by account (under a
  text or amount filter) join the transaction for its payee anyway;
- ``ix_expenses_user_amount``: (user, amount, date, account) — the amount filter's band edges.

``ix_expenses_user_date`` keeps (user, date, category, amount): the raw reads by category over a date
range (budget averages, category filters over partial months, the grid by category) stay index-only.

Measured at 1M transactions on SQLite (docs/benchmarks.md, "Bulk edits"): the two row UPDATEs of a rule
over 126,000 spread rows 2.6 s -> 0.8 s, the WAL of the edit 252 MB -> 130 MB.

Revision ID: 0015_bulk_edit_speed
Revises: 0018_citus_gaps
Create Date: 2026-12-03 14:00:00.000000

"""
from typing import Sequence, Union

from alembic import op


# revision identifiers, used by Alembic.
revision: str = '0015_bulk_edit_speed'
down_revision: Union[str, Sequence[str], None] = '0018_citus_gaps'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

NEW = (
    ('ix_transactions_user_account_date', 'transactions', ['user_id', 'account_id', 'date', 'amount']),
    ('ix_expenses_user_account_date', 'expenses', ['user_id', 'account_id', 'date', 'amount']),
    ('ix_expenses_user_amount', 'expenses', ['user_id', 'amount', 'date', 'account_id']),
)
OLD = (
    ('ix_transactions_user_account_date', 'transactions', ['user_id', 'account_id', 'date', 'category_id', 'amount']),
    ('ix_expenses_user_account_date', 'expenses', ['user_id', 'account_id', 'date', 'category_id', 'amount']),
    ('ix_expenses_user_amount', 'expenses', ['user_id', 'amount', 'date', 'account_id', 'category_id']),
)


def _replace(indexes) -> None:
    # Plain DROP INDEX / CREATE INDEX (no table rebuild on SQLite: batch mode is not needed for indexes).
    for name, table, columns in indexes:
        op.drop_index(name, table_name=table)
        op.create_index(name, table, columns, unique=False)
    bind = op.get_bind()
    if bind.dialect.name == "sqlite" and bind.exec_driver_sql(
            "SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'").first() is not None:
        # SQLite plans from sqlite_stat1, which has no row for a new index: without one it misjudged
        # the amount filter's reads (140 -> 435 ms at 1M rows) until the next ANALYZE. 1 s at 1M rows.
        for table in ("transactions", "expenses"):
            op.execute(f"ANALYZE {table}")


def upgrade() -> None:
    _replace(NEW)


def downgrade() -> None:
    _replace(OLD)
