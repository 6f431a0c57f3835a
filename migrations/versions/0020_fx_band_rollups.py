"""Converted roll-ups by amount band and by day: fx_amount_rollup, fx_payee_amount_rollup, fx_daily_rollup

For a user with accounts in several currencies, the explorer's amount filters (and top payees under
one) are answered like with one currency: the whole bands from a roll-up, already converted to the
base currency per (band, day, account, category) group; weekly views and the partial-month edges of a
range from the daily groups already converted (dashboard/services/fx_rollup.py); a partial index on
fx_month_rollup's missing-rate markers. Derived
tables, created empty; the converted roll-ups' state is forgotten so that every user's are rebuilt,
all of them together, at the next refresh (reads convert at read time until then).

Revision ID: 0020_fx_band_rollups
Revises: 0021_daily_payee_rollup
Create Date: 2026-12-03 16:45:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0020_fx_band_rollups'
down_revision: Union[str, Sequence[str], None] = '0021_daily_payee_rollup'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _table(name: str, columns: list, account: bool, index_cols: list) -> None:
    op.create_table(
        name,
        sa.Column('id', BIG_ID, nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('flow', sa.String(length=10), nullable=False),
        *columns,
        sa.Column('total_cents', sa.BigInteger(), nullable=False),
        sa.Column('row_count', sa.BigInteger(), nullable=False),
        sa.CheckConstraint("flow IN ('spending','income')", name=op.f(f'ck_{name}_flow_known')),
        *([sa.ForeignKeyConstraint(['account_id', 'user_id'], ['accounts.id', 'accounts.user_id'],
                                   name=op.f(f'fk_{name}_account_id_user_id_accounts'), ondelete='CASCADE'),
           sa.ForeignKeyConstraint(['category_id'], ['categories.id'],
                                   name=op.f(f'fk_{name}_category_id_categories'), ondelete='SET NULL')]
          if account else []),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f(f'fk_{name}_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f(f'pk_{name}')),
    )
    op.create_index(f'ix_{name}_user_flow_{index_cols[2]}', name, index_cols, unique=False)


def upgrade() -> None:
    month_band = [sa.Column('month', sa.Date(), nullable=False), sa.Column('band', sa.SmallInteger(), nullable=False)]
    account = [sa.Column('account_id', sa.Integer(), nullable=False), sa.Column('category_id', sa.Integer(), nullable=True)]
    _table('fx_amount_rollup', [*month_band, *account], True,
           ['user_id', 'flow', 'month', 'band', 'account_id', 'category_id', 'total_cents', 'row_count'])
    _table('fx_payee_amount_rollup', [*month_band, sa.Column('payee', sa.String(length=200), nullable=False)], False,
           ['user_id', 'flow', 'month', 'band', 'payee', 'total_cents', 'row_count'])
    _table('fx_daily_rollup', [sa.Column('day', sa.Date(), nullable=False), *account], True,
           ['user_id', 'flow', 'day', 'account_id', 'category_id', 'total_cents', 'row_count'])
    op.create_index('ix_fx_month_rollup_missing', 'fx_month_rollup', ['user_id', 'month', 'account_id'],
                    sqlite_where=sa.text('missing > 0'), postgresql_where=sa.text('missing > 0'))
    # The other converted roll-ups were computed without these: rebuild them all together.
    op.execute("DELETE FROM fx_rollup_state")


def downgrade() -> None:
    op.drop_index('ix_fx_month_rollup_missing', table_name='fx_month_rollup')
    for name, period in (('fx_daily_rollup', 'day'), ('fx_payee_amount_rollup', 'month'), ('fx_amount_rollup', 'month')):
        op.drop_index(f'ix_{name}_user_flow_{period}', table_name=name)
        op.drop_table(name)
