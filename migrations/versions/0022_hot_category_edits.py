"""bulk category edits: no index on a column they change, room on the page for the new row version

A bulk edit (a category for every row of a filter, a rule applied to existing rows, their undo) sets
``category_id`` (and the covering ``budget_id``) on ~100,000 transactions and expense lines at once. On
PostgreSQL every such row was a non-HOT update: a new row version on another page and a new entry in
every index of the table (ten on transactions, six on expense lines), because an index carried a
changed column and the pages were full. Measured at 1M rows (docs/benchmarks.md, "HOT updates"): the
two UPDATEs of a rule over 125,000 spread rows 3.6 s + 2.3 s; with no index on a changed column and
free room on the pages 0.7 s + 0.7 s (the new versions stay on their page, no index entry is written).

- ``ix_transactions_category_id`` dropped: the reads by category go through the user's index
  (``ix_transactions_user_date``) and a filter; the explorer's category totals come from the roll-ups.
- ``ix_expenses_budget_id`` dropped: a budget's own total reads its period's lines by date.
- ``ix_expenses_user_date``: (user, date, amount), without ``category_id``.
- PostgreSQL: ``fillfactor = 70`` on both tables, and both rewritten (``CLUSTER`` by the user's date
  index, so that the room exists on the pages already written, and the rows of a user's period lie
  together). Seconds at 1M rows; the tables hold ~40 % more pages.

Revision ID: 0022_hot_category_edits
Revises: 0020_fx_band_rollups
Create Date: 2026-12-04 17:20:00.000000

"""
from typing import Sequence, Union

from alembic import op


# revision identifiers, used by Alembic.
revision: str = '0022_hot_category_edits'
down_revision: Union[str, Sequence[str], None] = '0020_fx_band_rollups'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

FILLFACTOR = 70   # models.db.HOT_FILLFACTOR (a migration keeps its own copy of the value it applied)
TABLES = (("transactions", "ix_transactions_user_date"), ("expenses", "ix_expenses_user_date"))


def _analyze() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql" or bind.exec_driver_sql(
            "SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'").first() is not None:
        # (SQLite plans from sqlite_stat1, which has no row for a new index until the next ANALYZE.)
        for table, _ in TABLES:
            op.execute(f"ANALYZE {table}")


def _rewrite(fillfactor: int | None) -> None:
    """PostgreSQL: the tables' fillfactor, and the tables rewritten with it (CLUSTER may run inside
    the migration's transaction, VACUUM FULL may not; the cluster mark is taken off again)."""
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, index in TABLES:
        op.execute(f"ALTER TABLE {table} SET (fillfactor = {fillfactor})" if fillfactor
                   else f"ALTER TABLE {table} RESET (fillfactor)")
        op.execute(f"CLUSTER {table} USING {index}")
        op.execute(f"ALTER TABLE {table} SET WITHOUT CLUSTER")


def upgrade() -> None:
    op.drop_index('ix_transactions_category_id', table_name='transactions')
    op.drop_index('ix_expenses_budget_id', table_name='expenses')
    op.drop_index('ix_expenses_user_date', table_name='expenses')
    op.create_index('ix_expenses_user_date', 'expenses', ['user_id', 'date', 'amount'], unique=False)
    _rewrite(FILLFACTOR)
    _analyze()


def downgrade() -> None:
    op.drop_index('ix_expenses_user_date', table_name='expenses')
    op.create_index('ix_expenses_user_date', 'expenses', ['user_id', 'date', 'category_id', 'amount'], unique=False)
    op.create_index('ix_expenses_budget_id', 'expenses', ['budget_id'], unique=False)
    op.create_index('ix_transactions_category_id', 'transactions', ['category_id'], unique=False)
    _rewrite(None)
    _analyze()
