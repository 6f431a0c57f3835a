"""roll-ups sized by what the charts need; text search and amount filters that do not scan

- ``monthly_rollup`` loses ``payee``: keyed by (user, flow, month, account, category) it no longer grows
  with the number of payees.
- ``amount_rollup`` (user, flow, month, band, account, category): amount filters (models.rollup.BAND_EDGES).
- ``daily_rollup`` (user, flow, day, account, category): weekly charts and partial months.
- ``payee_rollup`` (user, flow, month, payee, account, category): top payees, the payee part of a
  text search, the importer's suggestions.
- ``payee_amount_rollup`` (user, flow, month, band, payee): top payees under an amount filter.
- ``ix_expenses_user_amount``: the rows of a narrow amount range without reading the others.
- Text search: on SQLite an FTS5 external-content table ``transactions_fts`` (trigram tokenizer, so
  it answers substring searches) over transactions.payee and .description, kept in step by triggers;
  on PostgreSQL trigram GIN indexes (pg_trgm) on the same columns, which ILIKE '%...%' uses. When the
  extension cannot be created (no privilege), the indexes are skipped and ILIKE scans as before.

All three roll-ups are filled from the existing rows.

Revision ID: 0007_rollup_fts
Revises: 0006_bigint_ids
Create Date: 2026-12-02 16:40:00.000000

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0007_rollup_fts'
down_revision: str | Sequence[str] | None = '0006_bigint_ids'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A copy of models.rollup.BAND_EDGES as of this revision (a migration must not follow later models).
BAND_EDGES = (0, 1_00, 2_00, 5_00, 10_00, 15_00, 20_00, 25_00, 30_00, 40_00, 50_00, 75_00, 100_00,
              150_00, 200_00, 250_00, 300_00, 400_00, 500_00, 750_00, 1_000_00, 1_500_00, 2_000_00,
              2_500_00, 5_000_00, 10_000_00)
# Roll-up rows are deleted and inserted again on every refresh, so their ids run fast: 64 bits (as
# 0006_bigint_ids gives monthly_rollup), SQLite's INTEGER PRIMARY KEY being 64 bits already.
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TRGM_INDEXES = (("ix_transactions_payee_trgm", "payee"), ("ix_transactions_description_trgm", "description"))


def _band(column: str) -> str:
    whens = " ".join(f"WHEN {column} < {edge} THEN {i}" for i, edge in enumerate(BAND_EDGES))
    return f"CASE {whens} ELSE {len(BAND_EDGES)} END"


def _month(column: str) -> str:
    if op.get_bind().dialect.name == "sqlite":
        return f"date({column}, 'start of month')"
    return f"CAST(date_trunc('month', {column}) AS DATE)"


def _rollup_table(name: str, period: str, extra: list, flows: str, index_cols: list) -> None:
    op.create_table(
        name,
        sa.Column('id', BIG_ID, nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('flow', sa.String(length=10), nullable=False),
        sa.Column(period, sa.Date(), nullable=False),
        *extra,
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('category_id', sa.Integer(), nullable=True),
        sa.Column('total_cents', sa.BigInteger(), nullable=False),
        sa.Column('row_count', sa.BigInteger(), nullable=False),
        sa.CheckConstraint(f"flow IN ({flows})", name=op.f(f'ck_{name}_flow_known')),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f(f'fk_{name}_account_id_accounts'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['category_id'], ['categories.id'],
                                name=op.f(f'fk_{name}_category_id_categories'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f(f'fk_{name}_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f(f'pk_{name}')),
    )
    with op.batch_alter_table(name, schema=None) as batch_op:
        batch_op.create_index(f'ix_{name}_user_flow_{period}', index_cols, unique=False)


def upgrade() -> None:
    with op.batch_alter_table('monthly_rollup', schema=None) as batch_op:
        batch_op.drop_index('ix_monthly_rollup_user_flow_month')
    op.drop_table('monthly_rollup')
    _rollup_table('monthly_rollup', 'month', [], "'spending','income','net'",
                  ['user_id', 'flow', 'month', 'account_id', 'category_id', 'total_cents', 'row_count'])
    _rollup_table('amount_rollup', 'month', [sa.Column('band', sa.SmallInteger(), nullable=False)],
                  "'spending','income'",
                  ['user_id', 'flow', 'month', 'band', 'account_id', 'category_id', 'total_cents', 'row_count'])
    _rollup_table('daily_rollup', 'day', [], "'spending','income'",
                  ['user_id', 'flow', 'day', 'account_id', 'category_id', 'total_cents', 'row_count'])
    _rollup_table('payee_rollup', 'month', [sa.Column('payee', sa.String(length=200), nullable=False)],
                  "'spending','income'",
                  ['user_id', 'flow', 'month', 'payee', 'account_id', 'category_id', 'total_cents', 'row_count'])
    op.create_table(
        'payee_amount_rollup',
        sa.Column('id', BIG_ID, nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('flow', sa.String(length=10), nullable=False),
        sa.Column('month', sa.Date(), nullable=False),
        sa.Column('band', sa.SmallInteger(), nullable=False),
        sa.Column('payee', sa.String(length=200), nullable=False),
        sa.Column('total_cents', sa.BigInteger(), nullable=False),
        sa.Column('row_count', sa.BigInteger(), nullable=False),
        sa.CheckConstraint("flow IN ('spending','income')", name=op.f('ck_payee_amount_rollup_flow_known')),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_payee_amount_rollup_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_payee_amount_rollup')),
    )
    with op.batch_alter_table('payee_amount_rollup', schema=None) as batch_op:
        batch_op.create_index('ix_payee_amount_rollup_user_flow_month',
                              ['user_id', 'flow', 'month', 'band', 'payee', 'total_cents', 'row_count'], unique=False)
    with op.batch_alter_table('expenses', schema=None) as batch_op:
        batch_op.create_index('ix_expenses_user_amount', ['user_id', 'amount', 'date', 'account_id', 'category_id'],
                              unique=False)
    _backfill()
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_fts()
    else:
        _postgres_trgm()


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for trigger in ("transactions_fts_ai", "transactions_fts_ad", "transactions_fts_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS transactions_fts")
    else:
        for name, _ in TRGM_INDEXES:
            op.execute(f"DROP INDEX IF EXISTS {name}")
    with op.batch_alter_table('expenses', schema=None) as batch_op:
        batch_op.drop_index('ix_expenses_user_amount')
    with op.batch_alter_table('payee_amount_rollup', schema=None) as batch_op:
        batch_op.drop_index('ix_payee_amount_rollup_user_flow_month')
    op.drop_table('payee_amount_rollup')
    for name, period in (('payee_rollup', 'month'), ('daily_rollup', 'day'), ('amount_rollup', 'month'),
                         ('monthly_rollup', 'month')):
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.drop_index(f'ix_{name}_user_flow_{period}')
        op.drop_table(name)
    # The previous monthly_rollup, keyed by payee, filled as revision 0002 did.
    _rollup_table('monthly_rollup', 'month', [sa.Column('payee', sa.String(length=200), nullable=False)],
                  "'spending','income','net'", ['user_id', 'flow', 'month', 'account_id', 'category_id'])
    op.execute(f"""
        INSERT INTO monthly_rollup (user_id, flow, month, account_id, category_id, payee, total_cents, row_count)
        SELECT e.user_id, 'spending', {_month('e.date')}, e.account_id, e.category_id, t.payee, SUM(e.amount), COUNT(*)
        FROM expenses e JOIN transactions t ON t.id = e.transaction_id AND t.user_id = e.user_id
        GROUP BY e.user_id, {_month('e.date')}, e.account_id, e.category_id, t.payee""")
    op.execute(f"""
        INSERT INTO monthly_rollup (user_id, flow, month, account_id, category_id, payee, total_cents, row_count)
        SELECT t.user_id, 'income', {_month('t.date')}, t.account_id, t.category_id, t.payee, SUM(t.amount), COUNT(*)
        FROM transactions t WHERE t.kind = 'income'
        GROUP BY t.user_id, {_month('t.date')}, t.account_id, t.category_id, t.payee""")
    op.execute(f"""
        INSERT INTO monthly_rollup (user_id, flow, month, account_id, category_id, payee, total_cents, row_count)
        SELECT t.user_id, 'net', {_month('t.date')}, t.account_id, NULL, '', SUM(t.amount), COUNT(*)
        FROM transactions t GROUP BY t.user_id, {_month('t.date')}, t.account_id""")


def _backfill() -> None:
    em, tm = _month('e.date'), _month('t.date')
    eb, tb = _band('e.amount'), _band('t.amount')
    statements = [
        f"""INSERT INTO monthly_rollup (user_id, flow, month, account_id, category_id, total_cents, row_count)
            SELECT e.user_id, 'spending', {em}, e.account_id, e.category_id, SUM(e.amount), COUNT(*)
            FROM expenses e GROUP BY e.user_id, {em}, e.account_id, e.category_id""",
        f"""INSERT INTO monthly_rollup (user_id, flow, month, account_id, category_id, total_cents, row_count)
            SELECT t.user_id, 'income', {tm}, t.account_id, t.category_id, SUM(t.amount), COUNT(*)
            FROM transactions t WHERE t.kind = 'income' GROUP BY t.user_id, {tm}, t.account_id, t.category_id""",
        f"""INSERT INTO monthly_rollup (user_id, flow, month, account_id, category_id, total_cents, row_count)
            SELECT t.user_id, 'net', {tm}, t.account_id, NULL, SUM(t.amount), COUNT(*)
            FROM transactions t GROUP BY t.user_id, {tm}, t.account_id""",
        f"""INSERT INTO amount_rollup (user_id, flow, month, band, account_id, category_id, total_cents, row_count)
            SELECT e.user_id, 'spending', {em}, {eb}, e.account_id, e.category_id, SUM(e.amount), COUNT(*)
            FROM expenses e GROUP BY e.user_id, {em}, {eb}, e.account_id, e.category_id""",
        f"""INSERT INTO amount_rollup (user_id, flow, month, band, account_id, category_id, total_cents, row_count)
            SELECT t.user_id, 'income', {tm}, {tb}, t.account_id, t.category_id, SUM(t.amount), COUNT(*)
            FROM transactions t WHERE t.kind = 'income' GROUP BY t.user_id, {tm}, {tb}, t.account_id, t.category_id""",
        """INSERT INTO daily_rollup (user_id, flow, day, account_id, category_id, total_cents, row_count)
            SELECT e.user_id, 'spending', e.date, e.account_id, e.category_id, SUM(e.amount), COUNT(*)
            FROM expenses e GROUP BY e.user_id, e.date, e.account_id, e.category_id""",
        """INSERT INTO daily_rollup (user_id, flow, day, account_id, category_id, total_cents, row_count)
            SELECT t.user_id, 'income', t.date, t.account_id, t.category_id, SUM(t.amount), COUNT(*)
            FROM transactions t WHERE t.kind = 'income' GROUP BY t.user_id, t.date, t.account_id, t.category_id""",
        f"""INSERT INTO payee_rollup (user_id, flow, month, payee, account_id, category_id, total_cents, row_count)
            SELECT e.user_id, 'spending', {em}, t.payee, e.account_id, e.category_id, SUM(e.amount), COUNT(*)
            FROM expenses e JOIN transactions t ON t.id = e.transaction_id AND t.user_id = e.user_id
            GROUP BY e.user_id, {em}, t.payee, e.account_id, e.category_id""",
        f"""INSERT INTO payee_rollup (user_id, flow, month, payee, account_id, category_id, total_cents, row_count)
            SELECT t.user_id, 'income', {tm}, t.payee, t.account_id, t.category_id, SUM(t.amount), COUNT(*)
            FROM transactions t WHERE t.kind = 'income' GROUP BY t.user_id, {tm}, t.payee, t.account_id, t.category_id""",
        f"""INSERT INTO payee_amount_rollup (user_id, flow, month, band, payee, total_cents, row_count)
            SELECT e.user_id, 'spending', {em}, {eb}, t.payee, SUM(e.amount), COUNT(*)
            FROM expenses e JOIN transactions t ON t.id = e.transaction_id AND t.user_id = e.user_id
            GROUP BY e.user_id, {em}, {eb}, t.payee""",
        f"""INSERT INTO payee_amount_rollup (user_id, flow, month, band, payee, total_cents, row_count)
            SELECT t.user_id, 'income', {tm}, {tb}, t.payee, SUM(t.amount), COUNT(*)
            FROM transactions t WHERE t.kind = 'income' GROUP BY t.user_id, {tm}, {tb}, t.payee""",
    ]
    for statement in statements:
        op.execute(statement)


def _sqlite_fts() -> None:
    op.execute("""CREATE VIRTUAL TABLE transactions_fts USING fts5(
                      payee, description, content='transactions', content_rowid='id', tokenize='trigram')""")
    op.execute("""CREATE TRIGGER transactions_fts_ai AFTER INSERT ON transactions BEGIN
                      INSERT INTO transactions_fts (rowid, payee, description)
                      VALUES (new.id, new.payee, new.description);
                  END""")
    op.execute("""CREATE TRIGGER transactions_fts_ad AFTER DELETE ON transactions BEGIN
                      INSERT INTO transactions_fts (transactions_fts, rowid, payee, description)
                      VALUES ('delete', old.id, old.payee, old.description);
                  END""")
    op.execute("""CREATE TRIGGER transactions_fts_au AFTER UPDATE OF payee, description ON transactions BEGIN
                      INSERT INTO transactions_fts (transactions_fts, rowid, payee, description)
                      VALUES ('delete', old.id, old.payee, old.description);
                      INSERT INTO transactions_fts (rowid, payee, description)
                      VALUES (new.id, new.payee, new.description);
                  END""")
    op.execute("INSERT INTO transactions_fts (transactions_fts) VALUES ('rebuild')")


def _postgres_trgm() -> None:
    bind = op.get_bind()
    schema = bind.execute(sa.text(
        "SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'pg_trgm'")).scalar()
    if schema is None:
        try:
            with bind.begin_nested():
                bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public"))
            schema = "public"
        except sa.exc.DBAPIError:
            return  # no privilege: text search works without the indexes, by scanning
    for name, column in TRGM_INDEXES:
        op.execute(f'CREATE INDEX {name} ON transactions USING gin ({column} "{schema}".gin_trgm_ops)')
