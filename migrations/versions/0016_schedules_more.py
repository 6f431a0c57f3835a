"""schedule_tags, and an index for recurring detection

Schedules carry tags (a table like transaction_tags: a schedule and its tags are one user's, composite
foreign keys). Recurring detection reads a user's payments by payee, exact amount and date in that
order; the index ix_transactions_user_payee_amount_date (with kind, so the pass never visits the table)
gives that order without sorting a million rows.

Revision ID: 0016_schedules_more
Revises: 0013_currencies
Create Date: 2026-12-03 08:00:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0016_schedules_more'
down_revision: Union[str, Sequence[str], None] = '0014_citus_keys'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('schedule_tags',
    sa.Column('schedule_id', sa.Integer(), nullable=False),
    sa.Column('tag_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['schedule_id', 'user_id'], ['schedules.id', 'schedules.user_id'], name=op.f('fk_schedule_tags_schedule_id_user_id_schedules'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tag_id', 'user_id'], ['tags.id', 'tags.user_id'], name=op.f('fk_schedule_tags_tag_id_user_id_tags'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_schedule_tags_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('schedule_id', 'tag_id', name=op.f('pk_schedule_tags'))
    )
    op.create_index('ix_schedule_tags_user_tag', 'schedule_tags', ['user_id', 'tag_id'], unique=False)
    op.create_index('ix_transactions_user_payee_amount_date', 'transactions',
                    ['user_id', 'payee', 'amount', 'date', 'kind'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_transactions_user_payee_amount_date', table_name='transactions')
    op.drop_index('ix_schedule_tags_user_tag', table_name='schedule_tags')
    op.drop_table('schedule_tags')
