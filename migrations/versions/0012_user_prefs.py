"""users.theme: the colour theme a person chose ("system" follows the browser, or "light" / "dark")

Revision ID: 0012_user_prefs
Revises: 0010_hardening
Create Date: 2026-12-02 16:20:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0012_user_prefs'
down_revision: Union[str, Sequence[str], None] = '0010_hardening'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    # A plain ADD COLUMN on SQLite too (no table copy, see 0005). The allowed values are checked by
    # dashboard/services/users.set_theme; every reader treats an unknown value as "system".
    op.add_column('users', sa.Column('theme', sa.String(length=8), server_default='system', nullable=False))


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # SQLite's own DROP COLUMN, not batch mode: batch mode would drop and re-create users, and with
        # foreign keys on that cascade-deletes every user's rows (see 0005).
        op.execute("ALTER TABLE users DROP COLUMN theme")
    else:
        op.drop_column('users', 'theme')
