"""import_rules: the user's categorisation rules for imported statements

A payee that contains a text (case-insensitive) or matches a regular expression gets a category.
Rules are tried in ``position`` order; the first match wins (dashboard/services/importer.py).

Revision ID: 0004_import_rules
Revises: 0003_goal_contributions
Create Date: 2026-11-27 05:10:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0004_import_rules'
down_revision: Union[str, Sequence[str], None] = '0003_goal_contributions'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('import_rules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('pattern', sa.String(length=200), nullable=False),
    sa.Column('match_type', sa.String(length=10), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), server_default='0', nullable=False),
    sa.Column('created_at', sa.DateTime(), server_default=sa.func.now(), nullable=False),
    sa.CheckConstraint("match_type IN ('contains','regex')", name=op.f('ck_import_rules_match_type_known')),
    sa.CheckConstraint('length(pattern) > 0', name=op.f('ck_import_rules_pattern_not_empty')),
    sa.ForeignKeyConstraint(['category_id'], ['categories.id'], name=op.f('fk_import_rules_category_id_categories'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_import_rules_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_rules'))
    )
    with op.batch_alter_table('import_rules', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_import_rules_category_id'), ['category_id'], unique=False)
        batch_op.create_index('ix_import_rules_user_position', ['user_id', 'position'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('import_rules', schema=None) as batch_op:
        batch_op.drop_index('ix_import_rules_user_position')
        batch_op.drop_index(batch_op.f('ix_import_rules_category_id'))

    op.drop_table('import_rules')
