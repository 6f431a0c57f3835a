"""roll-ups without keys to accounts and categories: derived rows, written by the thousand

Every roll-up row written (a bulk edit's shift and fold, a refresh at every commit, an import, the
demo) had its three keys checked on PostgreSQL: user_id -> users, (account_id, user_id) -> accounts,
category_id -> categories. At 1M varied rows, inserting 190,000 daily payee roll-up rows took 3.2 s,
1.8 s of it those checks: accounts 0.55 s, categories 0.80 s, users 0.46 s (docs/benchmarks.md). The
roll-ups are recomputed from the raw rows, which keep their keys. The key to users stays (deleting a
user by any path, a plain DELETE included, deletes their roll-ups); what the other two did (ON DELETE
CASCADE / SET NULL) is done by the services: accounts are not deleted alone, and a category is deleted
after its rows moved and the roll-ups of those months were recomputed.

Revision ID: 0024_rollups_without_keys
Revises: 0023_batch_rows_one_key
Create Date: 2026-12-04 17:35:00.000000

"""
from typing import Sequence, Union

from alembic import op


# revision identifiers, used by Alembic.
revision: str = '0024_rollups_without_keys'
down_revision: Union[str, Sequence[str], None] = '0023_batch_rows_one_key'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# The roll-ups with account and category columns (the payee-by-band ones have neither key).
ROLLUPS = ("monthly_rollup", "amount_rollup", "daily_rollup", "payee_rollup", "daily_payee_rollup",
           "fx_month_rollup", "fx_payee_rollup", "fx_amount_rollup", "fx_daily_rollup")


def _analyze() -> None:
    """SQLite copies each table (batch mode), and the copy has lost the planner's statistics
    (sqlite_stat1): without them it picks bad plans at a million rows (migration 0018 saw 65 -> 700 ms)."""
    bind = op.get_bind()
    if bind.dialect.name == "sqlite" and bind.exec_driver_sql(
            "SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'").first() is not None:
        for table in ROLLUPS:
            op.execute(f"ANALYZE {table}")


def upgrade() -> None:
    for table in ROLLUPS:
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(f'fk_{table}_account_id_user_id_accounts', type_='foreignkey')
            batch.drop_constraint(f'fk_{table}_category_id_categories', type_='foreignkey')
    _analyze()


def downgrade() -> None:
    for table in ROLLUPS:
        with op.batch_alter_table(table) as batch:
            batch.create_foreign_key(f'fk_{table}_account_id_user_id_accounts', 'accounts',
                                     ['account_id', 'user_id'], ['id', 'user_id'], ondelete='CASCADE')
            batch.create_foreign_key(f'fk_{table}_category_id_categories', 'categories', ['category_id'],
                                     ['id'], ondelete='SET NULL')
    _analyze()
