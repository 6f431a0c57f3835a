"""PostgreSQL: a trigram index on each transaction's description with its payee cut out

A text search adds to the payees containing the text (payee_names, 0025) the rows whose description
contains it while their payee does not. PostgreSQL found those through the description's trigram index:
every row of all time whose description holds the text (27,484 for "coffee" at 1M on the varied set,
276,526 at 10M), each fetched to test its payee, though in bank files the description nearly always
holds the text because it holds the payee ("POS PURCHASE HARBOR BEAR COFFEE PORTLAND OR"): 15 ms at 1M,
369 ms at 10M, for no row. This index holds ``replace(lower(description), lower(payee), 'zqxj')``: the
description with every occurrence of its payee replaced by a marker, so that a row is a candidate only
when the text stands in its description apart from the payee, or runs into the marker (see
dashboard/services/spending.py, ``_description_only_ids``, for why that finds every such row).

Skipped when pg_trgm is absent (0007 could not create it: then the search reads rows as before).
SQLite answers the same question from its full-text table and gets nothing here.

Revision ID: 0026_description_rest_trgm
Revises: 0025_payee_names
Create Date: 2026-12-05 01:00:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0026_description_rest_trgm'
down_revision: Union[str, Sequence[str], None] = '0025_payee_names'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

NAME = 'ix_transactions_rest_trgm'
MARKER = 'zqxj'   # dashboard/services/spending.py REST_MARKER: the index is used only when both agree


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    schema = bind.execute(sa.text(
        "SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'pg_trgm'")).scalar()
    if schema is None:
        return
    op.execute(f"CREATE INDEX {NAME} ON transactions USING gin "
               f"((replace(lower(description), lower(payee), '{MARKER}')) \"{schema}\".gin_trgm_ops)")
    op.execute("ANALYZE transactions")   # the expression's statistics, which the planner's estimate needs


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP INDEX IF EXISTS {NAME}")
