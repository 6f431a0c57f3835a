"""daily_payee_rollup: spending and income per user, day, payee, account and category

The top payees of a custom range that starts or ends inside a month read the partial months at its
edges from the raw rows: the expense lines of those days joined to their transactions for the payee
(~30,000 lines for three weeks at 1M on the uniform benchmark set: 80 ms on SQLite, 90-130 ms on
PostgreSQL; ten times as many at 10M). This roll-up answers them as ``payee_rollup`` answers the whole
months: its size follows days x payees seen on a day, not the lines a day holds. Derived, like the other
roll-ups: filled here from the raw rows, kept in step on every commit (dashboard/services/rollup.py).

ANALYZE of the new table at the end (without statistics SQLite's planner guesses; see 0018).

Revision ID: 0021_daily_payee_rollup
Revises: 0017_original_amount
Create Date: 2026-12-03 16:40:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0021_daily_payee_rollup'
down_revision: Union[str, Sequence[str], None] = '0017_original_amount'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
NAME = 'daily_payee_rollup'


def upgrade() -> None:
    op.create_table(
        NAME,
        sa.Column('id', BIG_ID, nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('flow', sa.String(length=10), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('payee', sa.String(length=200), nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('category_id', sa.Integer(), nullable=True),
        sa.Column('total_cents', sa.BigInteger(), nullable=False),
        sa.Column('row_count', sa.BigInteger(), nullable=False),
        sa.CheckConstraint("flow IN ('spending','income')", name=op.f(f'ck_{NAME}_flow_known')),
        sa.ForeignKeyConstraint(['account_id', 'user_id'], ['accounts.id', 'accounts.user_id'],
                                name=op.f(f'fk_{NAME}_account_id_user_id_accounts'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['category_id'], ['categories.id'],
                                name=op.f(f'fk_{NAME}_category_id_categories'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f(f'fk_{NAME}_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f(f'pk_{NAME}')),
    )
    op.execute(f"""
        INSERT INTO {NAME} (user_id, flow, day, payee, account_id, category_id, total_cents, row_count)
        SELECT e.user_id, 'spending', e.date, t.payee, e.account_id, e.category_id, SUM(e.amount), COUNT(*)
        FROM expenses e JOIN transactions t ON t.id = e.transaction_id AND t.user_id = e.user_id
        GROUP BY e.user_id, e.date, t.payee, e.account_id, e.category_id""")
    op.execute(f"""
        INSERT INTO {NAME} (user_id, flow, day, payee, account_id, category_id, total_cents, row_count)
        SELECT t.user_id, 'income', t.date, t.payee, t.account_id, t.category_id, SUM(t.amount), COUNT(*)
        FROM transactions t WHERE t.kind = 'income'
        GROUP BY t.user_id, t.date, t.payee, t.account_id, t.category_id""")
    op.create_index(f'ix_{NAME}_user_flow_day', NAME,
                    ['user_id', 'flow', 'day', 'payee', 'account_id', 'category_id', 'total_cents', 'row_count'],
                    unique=False)
    op.execute(f"ANALYZE {NAME}")   # the planner's statistics of the new table, on both databases


def downgrade() -> None:
    op.drop_index(f'ix_{NAME}_user_flow_day', table_name=NAME)
    op.drop_table(NAME)
