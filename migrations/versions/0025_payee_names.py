"""payee_names: every payee a user's spending or income has had; payee_rollup by payee first

A text search on PostgreSQL found the payees containing the text by reading the distinct payees of the
searched months from payee_rollup and matching each (varied set at 1M, two years: 51,690 roll-up rows
for 5,799 names, 12-15 ms), then read the roll-up rows of those payees through the index by month,
keeping a few hundred of the 24,000 rows of a year (4.3 ms a read, three reads an update). Now:

- ``payee_names`` (user_id, flow, payee): one row per name, kept by the roll-up writers; on PostgreSQL
  a trigram index on it answers ``payee ILIKE '%text%'`` over the names (0.2 ms);
- ``ix_payee_rollup_user_flow_payee``: the roll-up rows of a list of payees, each found directly
  (1.3 ms a read).

Filled from payee_rollup. ANALYZE at the end (see 0018).

Revision ID: 0025_payee_names
Revises: 0024_rollups_without_keys
Create Date: 2026-12-05 01:00:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0025_payee_names'
down_revision: Union[str, Sequence[str], None] = '0024_rollups_without_keys'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

NAME = 'payee_names'
TRGM = 'ix_payee_names_payee_trgm'
BY_PAYEE = 'ix_payee_rollup_user_flow_payee'


def upgrade() -> None:
    op.create_table(
        NAME,
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('flow', sa.String(length=10), nullable=False),
        sa.Column('payee', sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f(f'fk_{NAME}_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id', 'flow', 'payee', name=op.f(f'pk_{NAME}')),
    )
    op.execute(f"INSERT INTO {NAME} (user_id, flow, payee) SELECT DISTINCT user_id, flow, payee FROM payee_rollup")
    op.create_index(BY_PAYEE, 'payee_rollup',
                    ['user_id', 'flow', 'payee', 'month', 'account_id', 'category_id', 'total_cents', 'row_count'],
                    unique=False)
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        # Where 0007 put pg_trgm (it is absent when the role could not create it: then ILIKE reads
        # the user's names, a few thousand rows).
        schema = bind.execute(sa.text(
            "SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'pg_trgm'")).scalar()
        if schema is not None:
            op.execute(f'CREATE INDEX {TRGM} ON {NAME} USING gin (payee "{schema}".gin_trgm_ops)')
    op.execute(f"ANALYZE {NAME}")
    op.execute("ANALYZE payee_rollup")


def downgrade() -> None:
    op.execute(f"DROP INDEX IF EXISTS {TRGM}")
    op.drop_index(BY_PAYEE, table_name='payee_rollup')
    op.drop_table(NAME)
