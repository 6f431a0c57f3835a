"""Money in more than one currency: accounts.currency and exchange_rates

Every account gets a currency (ISO 4217: three upper-case letters, checked by the database). Existing
accounts take their owner's currency, which from now on is the user's base currency (the one totals are
shown in). A transaction is in its account's currency. exchange_rates holds a user's rates: on ``day``,
one unit of ``base`` is worth ``rate`` units of ``currency`` (the ECB's convention: base EUR, USD 1.0876).
The rate is an exact decimal kept as text: SQLite would keep a NUMERIC as a binary float.

Revision ID: 0013_currencies
Revises: 0011_user_locale
Create Date: 2026-12-02 16:50:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0013_currencies'
down_revision: Union[str, Sequence[str], None] = '0011_user_locale'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# The same rule as models.account.currency_check: three upper-case ASCII letters.
SQLITE_CHECK = "{col} GLOB '[A-Z][A-Z][A-Z]'"
POSTGRES_CHECK = "{col} ~ '^[A-Z]{{3}}$'"


def _check(dialect: str, col: str) -> str:
    return (SQLITE_CHECK if dialect == "sqlite" else POSTGRES_CHECK).format(col=col)


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        # A plain ADD COLUMN with a column CHECK: batch mode would copy accounts and drop the old table,
        # and with foreign keys on that cascade-deletes every transaction (see 0005).
        op.execute("ALTER TABLE accounts ADD COLUMN currency VARCHAR(3) NOT NULL DEFAULT 'XXX' "
                   f"CONSTRAINT ck_accounts_currency_iso CHECK ({_check(dialect, 'currency')})")
    else:
        op.add_column('accounts', sa.Column('currency', sa.String(length=3), server_default='XXX',
                                            nullable=False))
        op.create_check_constraint('ck_accounts_currency_iso', 'accounts', _check(dialect, 'currency'))
    # Existing accounts are in their owner's currency (the only one there was).
    op.execute("UPDATE accounts SET currency = (SELECT users.currency FROM users WHERE users.id = accounts.user_id)")
    if dialect != "sqlite":
        # No default from now on: a new account names its currency (models.account: the owner's, when
        # none is given). SQLite cannot drop a default without a table copy; the model always sends one.
        op.alter_column('accounts', 'currency', server_default=None)

    op.create_table(
        'exchange_rates',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('base', sa.String(length=3), nullable=False),
        sa.Column('rate', sa.String(length=40), nullable=False),
        sa.CheckConstraint(_check(dialect, 'currency'), name=op.f('ck_exchange_rates_currency_iso')),
        sa.CheckConstraint(_check(dialect, 'base'), name=op.f('ck_exchange_rates_base_iso')),
        sa.CheckConstraint('currency <> base', name=op.f('ck_exchange_rates_two_currencies')),
        sa.CheckConstraint('length(rate) > 0', name=op.f('ck_exchange_rates_rate_not_empty')),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_exchange_rates_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_exchange_rates')),
        # Day last: "the latest rate on or before a day" is one backwards step in this index.
        sa.UniqueConstraint('user_id', 'base', 'currency', 'day',
                            name=op.f('uq_exchange_rates_user_id_base_currency_day')),
    )


def downgrade() -> None:
    op.drop_table('exchange_rates')
    if op.get_bind().dialect.name == "sqlite":
        # SQLite's own DROP COLUMN (its CHECK belongs to the column), not batch mode (see upgrade).
        op.execute("ALTER TABLE accounts DROP COLUMN currency")
    else:
        op.drop_constraint('ck_accounts_currency_iso', 'accounts', type_='check')
        op.drop_column('accounts', 'currency')
