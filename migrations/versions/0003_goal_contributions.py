"""goal_contributions: the dated history of money put into or taken out of a goal

goals gets UNIQUE (id, user_id), the target of the composite foreign key that pins a contribution to
its owner's goal. Goals without a linked account that already have a saved amount get one contribution
of that amount, dated the day the goal was created, so that ``goals.saved_amount`` is the sum of the
goal's contributions from this revision on (the app keeps it so).

Money columns are BIGINT cents (models.db.Money speaks Decimal on top of them).

Revision ID: 0003_goal_contributions
Revises: 0002_monthly_rollup
Create Date: 2026-11-27 03:56:30.353277

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0003_goal_contributions'
down_revision: Union[str, Sequence[str], None] = '0002_monthly_rollup'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

BACKFILL_NOTE = "Saved before contributions were recorded"


def upgrade() -> None:
    # The referenced key first: PostgreSQL wants it to exist before the foreign key that names it.
    # (On SQLite this copies the goals table; nothing references goals yet.)
    with op.batch_alter_table('goals', schema=None) as batch_op:
        batch_op.create_unique_constraint(batch_op.f('uq_goals_id_user_id'), ['id', 'user_id'])

    op.create_table('goal_contributions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('goal_id', sa.Integer(), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('note', sa.String(length=200), server_default='', nullable=False),
    sa.Column('created_at', sa.DateTime(), server_default=sa.func.now(), nullable=False),
    sa.CheckConstraint('amount <> 0', name=op.f('ck_goal_contributions_amount_nonzero')),
    sa.ForeignKeyConstraint(['goal_id', 'user_id'], ['goals.id', 'goals.user_id'], name=op.f('fk_goal_contributions_goal_id_user_id_goals'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_goal_contributions_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_goal_contributions'))
    )
    with op.batch_alter_table('goal_contributions', schema=None) as batch_op:
        batch_op.create_index('ix_goal_contributions_user_goal_date', ['user_id', 'goal_id', 'date', 'amount'], unique=False)

    _backfill()


def downgrade() -> None:
    # goals.saved_amount keeps the sums, so nothing is lost for the goals the previous revision knows.
    with op.batch_alter_table('goal_contributions', schema=None) as batch_op:
        batch_op.drop_index('ix_goal_contributions_user_goal_date')

    op.drop_table('goal_contributions')

    with op.batch_alter_table('goals', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_goals_id_user_id'), type_='unique')


def _backfill() -> None:
    """One contribution per existing account-less goal with money in it, dated its creation day."""
    day = "date(created_at)" if op.get_bind().dialect.name == "sqlite" else "CAST(created_at AS DATE)"
    op.execute(sa.text(f"""
        INSERT INTO goal_contributions (user_id, goal_id, date, amount, note)
        SELECT user_id, id, {day}, saved_amount, :note
        FROM goals
        WHERE account_id IS NULL AND saved_amount <> 0
    """).bindparams(note=BACKFILL_NOTE))
