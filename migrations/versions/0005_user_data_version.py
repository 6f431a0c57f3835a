"""users.data_version: a per-user counter that every commit changing the user's data bumps

Cached reads (dashboard/services/cache.py) are keyed by (function, user, data_version, arguments), so a
commit makes every older cached answer unreachable on every worker without any cross-process message.
Existing users start at 0; new users at a random value (models.user.initial_data_version).

Revision ID: 0005_user_data_version
Revises: 0004_import_rules
Create Date: 2026-11-27 06:00:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0005_user_data_version'
down_revision: Union[str, Sequence[str], None] = '0004_import_rules'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    # A plain ALTER TABLE ... ADD COLUMN on SQLite too: no table copy.
    op.add_column('users', sa.Column('data_version', sa.BigInteger(), server_default='0', nullable=False))


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # SQLite's own DROP COLUMN (3.35+), not batch mode: batch mode copies the table and drops the
        # old one, and with foreign keys on, dropping users would cascade-delete every user's rows.
        op.execute("ALTER TABLE users DROP COLUMN data_version")
    else:
        op.drop_column('users', 'data_version')
