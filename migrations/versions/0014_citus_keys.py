"""Citus keys: user_id in the roll-ups' account foreign keys and in schedule_occurrences' unique keys

Revision ID: 0014_citus_keys
Revises: 0013_currencies
Create Date: 2026-12-03 08:15:00.000000

Ready for tables distributed by user_id (tests/test_citus_ready.py):

- monthly_rollup, amount_rollup, daily_rollup, payee_rollup: (account_id) -> accounts(id) becomes
  (account_id, user_id) -> accounts(id, user_id) (accounts already has UNIQUE(id, user_id)), still
  ON DELETE CASCADE;
- schedule_occurrences: UNIQUE(schedule_id, occurs_on) -> UNIQUE(user_id, schedule_id, occurs_on) and
  UNIQUE(transaction_id) -> UNIQUE(user_id, transaction_id). The same rows are allowed: a schedule and a
  transaction belong to one user (composite foreign keys), so the wider keys forbid exactly what the
  narrow ones did.

These tables are leaves (nothing refers to them), so SQLite's batch mode (copy, drop, rename) is safe.
The roll-up ids are BIGINT on PostgreSQL already (0007).
"""
from typing import Sequence, Union

from alembic import op


revision: str = '0014_citus_keys'
down_revision: Union[str, Sequence[str], None] = '0013_currencies'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

ROLLUPS = ("monthly_rollup", "amount_rollup", "daily_rollup", "payee_rollup")


def upgrade() -> None:
    for name in ROLLUPS:
        with op.batch_alter_table(name) as batch:
            batch.drop_constraint(f'fk_{name}_account_id_accounts', type_='foreignkey')
            batch.create_foreign_key(f'fk_{name}_account_id_user_id_accounts', 'accounts',
                                     ['account_id', 'user_id'], ['id', 'user_id'], ondelete='CASCADE')
    with op.batch_alter_table('schedule_occurrences') as batch:
        batch.drop_constraint('uq_schedule_occurrences_schedule_id_occurs_on', type_='unique')
        batch.drop_constraint('uq_schedule_occurrences_transaction_id', type_='unique')
        batch.create_unique_constraint('uq_schedule_occurrences_user_id_schedule_id_occurs_on',
                                       ['user_id', 'schedule_id', 'occurs_on'])
        batch.create_unique_constraint('uq_schedule_occurrences_user_id_transaction_id',
                                       ['user_id', 'transaction_id'])


def downgrade() -> None:
    with op.batch_alter_table('schedule_occurrences') as batch:
        batch.drop_constraint('uq_schedule_occurrences_user_id_transaction_id', type_='unique')
        batch.drop_constraint('uq_schedule_occurrences_user_id_schedule_id_occurs_on', type_='unique')
        batch.create_unique_constraint('uq_schedule_occurrences_transaction_id', ['transaction_id'])
        batch.create_unique_constraint('uq_schedule_occurrences_schedule_id_occurs_on', ['schedule_id', 'occurs_on'])
    for name in ROLLUPS:
        with op.batch_alter_table(name) as batch:
            batch.drop_constraint(f'fk_{name}_account_id_user_id_accounts', type_='foreignkey')
            batch.create_foreign_key(f'fk_{name}_account_id_accounts', 'accounts', ['account_id'], ['id'],
                                     ondelete='CASCADE')
