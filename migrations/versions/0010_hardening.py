"""Hardening: users.session_generation (logout revokes sessions) and spent_tokens (one-time undo)

Revision ID: 0010_hardening
Revises: 0009_schedules
Create Date: 2026-12-02 16:40:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0010_hardening'
down_revision: Union[str, Sequence[str], None] = '0009_schedules'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    # A plain ALTER TABLE ... ADD COLUMN on SQLite too: no table copy.
    op.add_column('users', sa.Column('session_generation', sa.Integer(), server_default='0', nullable=False))
    op.create_table(
        'spent_tokens',
        sa.Column('digest', sa.String(length=64), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('expires_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_spent_tokens_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('digest', name=op.f('pk_spent_tokens')),
    )
    op.create_index('ix_spent_tokens_expires_at', 'spent_tokens', ['expires_at'])
    op.create_index(op.f('ix_spent_tokens_user_id'), 'spent_tokens', ['user_id'])


def downgrade() -> None:
    op.drop_index(op.f('ix_spent_tokens_user_id'), table_name='spent_tokens')
    op.drop_index('ix_spent_tokens_expires_at', table_name='spent_tokens')
    op.drop_table('spent_tokens')
    if op.get_bind().dialect.name == "sqlite":
        # SQLite's own DROP COLUMN (3.35+), not batch mode: batch mode copies the table and drops the
        # old one, and with foreign keys on, dropping users would cascade-delete every user's rows.
        op.execute("ALTER TABLE users DROP COLUMN session_generation")
    else:
        op.drop_column('users', 'session_generation')
