"""users.locale: how the user's money, numbers and dates are written (a Babel locale, en_US by default)

Revision ID: 0011_user_locale
Revises: 0007_rollup_fts
Create Date: 2026-12-02 16:40:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0011_user_locale'
down_revision: Union[str, Sequence[str], None] = '0007_rollup_fts'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    # A plain ALTER TABLE ... ADD COLUMN on SQLite too: no table copy.
    op.add_column('users', sa.Column('locale', sa.String(length=16), server_default='en_US', nullable=False))


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # SQLite's own DROP COLUMN (3.35+), not batch mode: batch mode copies the table and drops the
        # old one, and with foreign keys on, dropping users would cascade-delete every user's rows.
        op.execute("ALTER TABLE users DROP COLUMN locale")
    else:
        op.drop_column('users', 'locale')
