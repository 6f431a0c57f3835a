"""A card statement's foreign amount: transactions.original_amount and original_currency

An amount charged in a foreign currency (a card statement's "Original amount" column, OFX's
ORIGCURRENCY) keeps both: ``amount`` in the account's currency, as before, and the original amount in
its own currency beside it (both NULL, or both set; the currency three upper-case letters). Nullable
columns added in place: no table copy, no rewrite of the rows.

Revision ID: 0017_original_amount
Revises: 0016_schedules_more
Create Date: 2026-12-03 13:40:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0017_original_amount'
down_revision: Union[str, Sequence[str], None] = '0016_schedules_more'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

PAIR = "(original_amount IS NULL) = (original_currency IS NULL)"


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # Plain ADD COLUMNs with column CHECKs (batch mode would copy transactions; see 0013). A
        # column CHECK may name another column in SQLite; the pair check sits on the second column.
        op.execute("ALTER TABLE transactions ADD COLUMN original_amount BIGINT")
        op.execute("ALTER TABLE transactions ADD COLUMN original_currency VARCHAR(3) "
                   "CONSTRAINT ck_transactions_original_currency_iso CHECK (original_currency GLOB '[A-Z][A-Z][A-Z]') "
                   f"CONSTRAINT ck_transactions_original_pair CHECK ({PAIR})")
    else:
        op.add_column('transactions', sa.Column('original_amount', sa.BigInteger(), nullable=True))
        op.add_column('transactions', sa.Column('original_currency', sa.String(length=3), nullable=True))
        op.create_check_constraint('ck_transactions_original_currency_iso', 'transactions',
                                   "original_currency ~ '^[A-Z]{3}$'")
        op.create_check_constraint('ck_transactions_original_pair', 'transactions', PAIR)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # SQLite's own DROP COLUMN refuses a column named by a CHECK of another column: drop the one
        # carrying the checks first (they belong to it), then the other.
        op.execute("ALTER TABLE transactions DROP COLUMN original_currency")
        op.execute("ALTER TABLE transactions DROP COLUMN original_amount")
    else:
        op.drop_constraint('ck_transactions_original_pair', 'transactions', type_='check')
        op.drop_constraint('ck_transactions_original_currency_iso', 'transactions', type_='check')
        op.drop_column('transactions', 'original_currency')
        op.drop_column('transactions', 'original_amount')
