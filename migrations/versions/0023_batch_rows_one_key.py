"""bulk edits: the undo batch's rows keep one foreign key, to their batch

``edit_batch_rows`` and ``edit_batch_tags`` had two keys to check on every row written: (batch_id,
user_id) -> edit_batches, and user_id -> users. The second says nothing the first does not (the batch
belongs to that user, and deleting the user deletes the batch, which deletes its rows), and a bulk edit
writes one batch row per changed transaction: at 125,000 rows it cost 0.32 s of the 1.33 s INSERT on
PostgreSQL (docs/benchmarks.md, "HOT updates"). Dropped; the batch key stays.

Revision ID: 0023_batch_rows_one_key
Revises: 0022_hot_category_edits
Create Date: 2026-12-04 17:45:00.000000

"""
from typing import Sequence, Union

from alembic import op


# revision identifiers, used by Alembic.
revision: str = '0023_batch_rows_one_key'
down_revision: Union[str, Sequence[str], None] = '0022_hot_category_edits'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

TABLES = ("edit_batch_rows", "edit_batch_tags")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(f'fk_{table}_user_id_users', type_='foreignkey')


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.create_foreign_key(f'fk_{table}_user_id_users', 'users', ['user_id'], ['id'], ondelete='CASCADE')
