"""A card statement's foreign amount: transactions.original_amount and original_currency

An amount charged in a foreign currency (a card statement's "Original amount" column, OFX's
ORIGCURRENCY) keeps both: ``amount`` in the account's currency, as before, and the original amount in
its own currency beside it (both NULL, or both set; the currency three upper-case letters). Nullable
columns added in place: no table copy, no rewrite of the rows.

Also the converted roll-ups of a user with accounts in several currencies (fx_month_rollup,
fx_payee_rollup, fx_rollup_state: dashboard/services/fx_rollup.py). They are derived and start empty: a
read finds no state for the user and converts from the daily roll-up until the next refresh.

Revision ID: 0017_original_amount
Revises: 0015_bulk_edit_speed
Create Date: 2026-12-03 13:40:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0017_original_amount'
down_revision: Union[str, Sequence[str], None] = '0015_bulk_edit_speed'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

PAIR = "(original_amount IS NULL) = (original_currency IS NULL)"
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _fx_table(name: str, extra: list, index_cols: list) -> None:
    op.create_table(
        name,
        sa.Column('id', BIG_ID, nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('flow', sa.String(length=10), nullable=False),
        sa.Column('month', sa.Date(), nullable=False),
        *extra,
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('category_id', sa.Integer(), nullable=True),
        sa.Column('total_cents', sa.BigInteger(), nullable=False),
        sa.Column('row_count', sa.BigInteger(), nullable=False),
        *([sa.Column('missing', sa.SmallInteger(), server_default='0', nullable=False)]
          if name == 'fx_month_rollup' else []),
        sa.CheckConstraint("flow IN ('spending','income')", name=op.f(f'ck_{name}_flow_known')),
        sa.ForeignKeyConstraint(['account_id', 'user_id'], ['accounts.id', 'accounts.user_id'],
                                name=op.f(f'fk_{name}_account_id_user_id_accounts'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['category_id'], ['categories.id'],
                                name=op.f(f'fk_{name}_category_id_categories'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f(f'fk_{name}_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f(f'pk_{name}')),
    )
    op.create_index(f'ix_{name}_user_flow_month', name, index_cols, unique=False)


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
    # Only the rows that have one: tells at once whether a user has any (the grid shows the column then).
    op.create_index('ix_transactions_user_original', 'transactions', ['user_id'],
                    sqlite_where=sa.text('original_amount IS NOT NULL'),
                    postgresql_where=sa.text('original_amount IS NOT NULL'))
    _fx_table('fx_month_rollup', [], ['user_id', 'flow', 'month', 'account_id', 'category_id', 'total_cents',
                                      'row_count', 'missing'])
    _fx_table('fx_payee_rollup', [sa.Column('payee', sa.String(length=200), nullable=False)],
              ['user_id', 'flow', 'month', 'payee', 'account_id', 'category_id', 'total_cents', 'row_count'])
    op.create_table(
        'fx_rollup_state',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('signature', sa.String(length=4000), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_fx_rollup_state_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id', name=op.f('pk_fx_rollup_state')),
    )


def downgrade() -> None:
    op.drop_table('fx_rollup_state')
    for name in ('fx_payee_rollup', 'fx_month_rollup'):
        op.drop_index(f'ix_{name}_user_flow_month', table_name=name)
        op.drop_table(name)
    op.drop_index('ix_transactions_user_original', table_name='transactions')
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
