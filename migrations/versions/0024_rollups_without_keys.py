"""roll-ups without foreign keys: derived rows, written by the thousand, need no key checks

Every roll-up row written (a bulk edit's shift and fold, a refresh at every commit, an import, the
demo) had its three keys checked on PostgreSQL: user_id -> users, (account_id, user_id) -> accounts,
category_id -> categories. At 1M varied rows, inserting 190,000 daily payee roll-up rows took 3.2 s,
1.8 s of it those checks (docs/benchmarks.md). The roll-ups are recomputed from the raw rows, which keep
their keys; what the roll-ups' keys did (ON DELETE CASCADE / SET NULL) is done by the services: a
user's deletion deletes every table's rows explicitly, accounts are not deleted alone, and a category
is deleted after its rows moved and the roll-ups of those months were recomputed. fx_rollup_state keeps
its key (one row per user).

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

# table -> whether it has account and category columns (the payee-by-band ones have neither)
ROLLUPS = {"monthly_rollup": True, "amount_rollup": True, "daily_rollup": True, "payee_rollup": True,
           "payee_amount_rollup": False, "daily_payee_rollup": True, "fx_month_rollup": True,
           "fx_payee_rollup": True, "fx_amount_rollup": True, "fx_payee_amount_rollup": False,
           "fx_daily_rollup": True}


def _analyze() -> None:
    """SQLite copies each table (batch mode), and the copy has lost the planner's statistics
    (sqlite_stat1): without them it picks bad plans at a million rows (migration 0018 saw 65 -> 700 ms)."""
    bind = op.get_bind()
    if bind.dialect.name == "sqlite" and bind.exec_driver_sql(
            "SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'").first() is not None:
        for table in ROLLUPS:
            op.execute(f"ANALYZE {table}")


def upgrade() -> None:
    for table, keyed in ROLLUPS.items():
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(f'fk_{table}_user_id_users', type_='foreignkey')
            if keyed:
                batch.drop_constraint(f'fk_{table}_account_id_user_id_accounts', type_='foreignkey')
                batch.drop_constraint(f'fk_{table}_category_id_categories', type_='foreignkey')
    _analyze()


def downgrade() -> None:
    for table, keyed in ROLLUPS.items():
        with op.batch_alter_table(table) as batch:
            batch.create_foreign_key(f'fk_{table}_user_id_users', 'users', ['user_id'], ['id'], ondelete='CASCADE')
            if keyed:
                batch.create_foreign_key(f'fk_{table}_account_id_user_id_accounts', 'accounts',
                                         ['account_id', 'user_id'], ['id', 'user_id'], ondelete='CASCADE')
                batch.create_foreign_key(f'fk_{table}_category_id_categories', 'categories', ['category_id'],
                                         ['id'], ondelete='SET NULL')
    _analyze()
