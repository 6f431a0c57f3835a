"""BIGINT ids where they grow with the transactions (PostgreSQL)

transactions.id, expenses.id, schedule_occurrences.id, edit_batch_rows.id,
edit_batch_tags.id and every
column holding a transaction id become BIGINT on PostgreSQL, with their sequences, so a shared server
holding many users' ledgers never runs out of ids at 2**31. SQLite needs nothing: its INTEGER
PRIMARY KEY is already a 64-bit rowid (the models use BigInteger().with_variant(Integer, "sqlite")).

Revision ID: 0006_bigint_ids
Revises: 0012_user_prefs
Create Date: 2026-12-02 16:55:00

"""
from typing import Sequence, Union

from alembic import op


# revision identifiers, used by Alembic.
revision: str = '0006_bigint_ids'
down_revision: Union[str, Sequence[str], None] = '0012_user_prefs'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# table -> columns; tables with an "id" column also have their sequence changed.
COLUMNS = {
    "transactions": ("id",),
    "expenses": ("id", "transaction_id"),
    "transaction_tags": ("transaction_id",),
    "edit_batch_rows": ("id", "transaction_id"),
    "edit_batch_tags": ("id", "transaction_id"),
    "schedule_occurrences": ("id", "transaction_id"),
}


def _change(type_: str) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, columns in COLUMNS.items():
        changes = ", ".join(f"ALTER COLUMN {column} TYPE {type_}" for column in columns)
        op.execute(f"ALTER TABLE {table} {changes}")
        if "id" in columns:
            op.execute(f"DO $$ DECLARE s text := pg_get_serial_sequence('{table}', 'id'); "
                       f"BEGIN IF s IS NOT NULL THEN EXECUTE format('ALTER SEQUENCE %s AS {type_}', s); "
                       f"END IF; END $$")


def upgrade() -> None:
    _change("BIGINT")


def downgrade() -> None:
    _change("INTEGER")
