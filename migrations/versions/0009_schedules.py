"""schedules, schedule_occurrences, dismissed_recurring, scenarios: looking ahead

Schedules are the user's recurring items as dateutil recurrence rules; an occurrence row records that one
occurrence was paid by a real transaction (so it is never counted twice) or skipped. Dismissed recurring
suggestions are remembered by key; scenarios are named what-if item lists (JSON).

Revision ID: 0009_schedules
Revises: 0005_user_data_version
Create Date: 2026-12-02 16:13:25.292958

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0009_schedules'
down_revision: Union[str, Sequence[str], None] = '0008_categories_tags'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('dismissed_recurring',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=300), nullable=False),
    sa.Column('created_at', sa.DateTime(), server_default=sa.func.now(), nullable=False),
    sa.CheckConstraint('length(key) > 0', name=op.f('ck_dismissed_recurring_key_not_empty')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_dismissed_recurring_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dismissed_recurring')),
    sa.UniqueConstraint('user_id', 'key', name=op.f('uq_dismissed_recurring_user_id_key'))
    )
    with op.batch_alter_table('dismissed_recurring', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dismissed_recurring_user_id'), ['user_id'], unique=False)

    op.create_table('scenarios',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('items', sa.JSON(), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('created_at', sa.DateTime(), server_default=sa.func.now(), nullable=False),
    sa.CheckConstraint('length(name) > 0', name=op.f('ck_scenarios_name_not_empty')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_scenarios_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scenarios')),
    sa.UniqueConstraint('user_id', 'name', name=op.f('uq_scenarios_user_id_name'))
    )
    with op.batch_alter_table('scenarios', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_scenarios_user_id'), ['user_id'], unique=False)

    op.create_table('schedules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('payee', sa.String(length=200), server_default='', nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('rrule', sa.String(length=500), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('until', sa.Date(), nullable=True),
    sa.Column('count', sa.Integer(), nullable=True),
    sa.Column('paused', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('created_at', sa.DateTime(), server_default=sa.func.now(), nullable=False),
    sa.CheckConstraint("kind <> 'income' OR amount > 0", name=op.f('ck_schedules_income_positive')),
    sa.CheckConstraint("kind IN ('expense','income')", name=op.f('ck_schedules_kind_known')),
    sa.CheckConstraint('amount <> 0', name=op.f('ck_schedules_amount_nonzero')),
    sa.CheckConstraint('count IS NULL OR count > 0', name=op.f('ck_schedules_count_positive')),
    sa.CheckConstraint('length(name) > 0', name=op.f('ck_schedules_name_not_empty')),
    sa.CheckConstraint('length(rrule) > 0', name=op.f('ck_schedules_rrule_not_empty')),
    sa.CheckConstraint('until IS NULL OR until >= start_date', name=op.f('ck_schedules_until_after_start')),
    sa.ForeignKeyConstraint(['account_id', 'user_id'], ['accounts.id', 'accounts.user_id'], name=op.f('fk_schedules_account_id_user_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['category_id'], ['categories.id'], name=op.f('fk_schedules_category_id_categories'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_schedules_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_schedules')),
    sa.UniqueConstraint('id', 'user_id', name=op.f('uq_schedules_id_user_id'))
    )
    with op.batch_alter_table('schedules', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_schedules_category_id'), ['category_id'], unique=False)
        batch_op.create_index('ix_schedules_user_account', ['user_id', 'account_id'], unique=False)

    op.create_table('schedule_occurrences',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('schedule_id', sa.Integer(), nullable=False),
    sa.Column('occurs_on', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('transaction_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), server_default=sa.func.now(), nullable=False),
    sa.CheckConstraint("(status = 'paid') = (transaction_id IS NOT NULL)", name=op.f('ck_schedule_occurrences_paid_has_transaction')),
    sa.CheckConstraint("status IN ('paid','skipped')", name=op.f('ck_schedule_occurrences_status_known')),
    sa.ForeignKeyConstraint(['schedule_id', 'user_id'], ['schedules.id', 'schedules.user_id'], name=op.f('fk_schedule_occurrences_schedule_id_user_id_schedules'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['transaction_id', 'user_id'], ['transactions.id', 'transactions.user_id'], name=op.f('fk_schedule_occurrences_transaction_id_user_id_transactions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_schedule_occurrences_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_schedule_occurrences')),
    sa.UniqueConstraint('schedule_id', 'occurs_on', name=op.f('uq_schedule_occurrences_schedule_id_occurs_on')),
    sa.UniqueConstraint('transaction_id', name=op.f('uq_schedule_occurrences_transaction_id'))
    )
    with op.batch_alter_table('schedule_occurrences', schema=None) as batch_op:
        batch_op.create_index('ix_schedule_occurrences_user_date', ['user_id', 'occurs_on'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('schedule_occurrences', schema=None) as batch_op:
        batch_op.drop_index('ix_schedule_occurrences_user_date')

    op.drop_table('schedule_occurrences')
    with op.batch_alter_table('schedules', schema=None) as batch_op:
        batch_op.drop_index('ix_schedules_user_account')
        batch_op.drop_index(batch_op.f('ix_schedules_category_id'))

    op.drop_table('schedules')
    with op.batch_alter_table('scenarios', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_scenarios_user_id'))

    op.drop_table('scenarios')
    with op.batch_alter_table('dismissed_recurring', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dismissed_recurring_user_id'))

    op.drop_table('dismissed_recurring')
