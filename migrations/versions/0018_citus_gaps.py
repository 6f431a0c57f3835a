"""Citus gaps closed: user_id in the last keys that lacked it

Revision ID: 0018_citus_gaps
Revises: 0016_schedules_more
Create Date: 2026-12-03 13:40:00.000000

Ready for tables distributed by user_id (tests/test_citus_ready.py); the rows do not change:

- edit_batch_rows, edit_batch_tags, rule_tags get ``user_id`` (filled from their batch or rule), and
  their keys become (batch_id, user_id) -> edit_batches(id, user_id), (rule_id, user_id) ->
  import_rules(id, user_id), (tag_id, user_id) -> tags(id, user_id), still ON DELETE CASCADE
  (new UNIQUE(id, user_id) on edit_batches, import_rules and budgets are their targets);
- transactions: UNIQUE(account_id, external_id) -> UNIQUE(user_id, account_id, external_id) (the same
  rows are allowed: an account belongs to one user);
- expenses(budget_id) -> budgets and goals(account_id) -> accounts become (budget_id, user_id) and
  (account_id, user_id) with no ON DELETE action: ``SET NULL`` would null user_id too. The services
  unlink expense lines before they delete a budget (``budget_lines.detach_expenses``); accounts are
  only deleted with their user, goals first.

SQLite rebuilds tables for these changes (batch mode); migrations/env.py turns foreign keys off for
the run, so dropping the old copy of a table runs no ON DELETE action, and checks them afterwards.
Rebuilding ``transactions`` drops its full-text triggers: they are created again here; and every copied
table loses its planner statistics: ANALYZE runs at the end (SQLite).
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op


revision: str = '0018_citus_gaps'
down_revision: Union[str, Sequence[str], None] = '0016_schedules_more'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# child table, its parent key column, the parent table (all ON DELETE CASCADE)
CHILDREN = (("edit_batch_rows", "batch_id", "edit_batches"),
            ("edit_batch_tags", "batch_id", "edit_batches"),
            ("rule_tags", "rule_id", "import_rules"))

FTS_TRIGGERS = (
    """CREATE TRIGGER transactions_fts_ai AFTER INSERT ON transactions BEGIN
           INSERT INTO transactions_fts (rowid, payee, description)
           VALUES (new.id, new.payee, new.description);
       END""",
    """CREATE TRIGGER transactions_fts_ad AFTER DELETE ON transactions BEGIN
           INSERT INTO transactions_fts (transactions_fts, rowid, payee, description)
           VALUES ('delete', old.id, old.payee, old.description);
       END""",
    """CREATE TRIGGER transactions_fts_au AFTER UPDATE OF payee, description ON transactions BEGIN
           INSERT INTO transactions_fts (transactions_fts, rowid, payee, description)
           VALUES ('delete', old.id, old.payee, old.description);
           INSERT INTO transactions_fts (rowid, payee, description)
           VALUES (new.id, new.payee, new.description);
       END""",
)


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def _fts_triggers_back() -> None:
    if _sqlite():
        for statement in FTS_TRIGGERS:
            op.execute(statement)


def _transactions_unique(old: list[str], new: list[str]) -> None:
    with op.batch_alter_table('transactions') as batch:
        batch.drop_constraint(f"uq_transactions_{'_'.join(old)}", type_='unique')
        batch.create_unique_constraint(f"uq_transactions_{'_'.join(new)}", new)
    _fts_triggers_back()
    if _sqlite():
        # A copied table has lost the planner's statistics (sqlite_stat1 rows go with the old table):
        # without them SQLite picks bad plans at a million rows (a text search 65 -> 700 ms CPU).
        op.execute("ANALYZE")


def upgrade() -> None:
    for parent in ("edit_batches", "import_rules", "budgets"):
        with op.batch_alter_table(parent) as batch:
            batch.create_unique_constraint(f'uq_{parent}_id_user_id', ['id', 'user_id'])
    for child, key, parent in CHILDREN:
        op.add_column(child, sa.Column('user_id', sa.Integer(), nullable=True))
        op.execute(f"UPDATE {child} SET user_id = (SELECT p.user_id FROM {parent} p WHERE p.id = {child}.{key})")
        with op.batch_alter_table(child) as batch:
            batch.alter_column('user_id', existing_type=sa.Integer(), nullable=False)
            batch.drop_constraint(f'fk_{child}_{key}_{parent}', type_='foreignkey')
            batch.create_foreign_key(f'fk_{child}_{key}_user_id_{parent}', parent, [key, 'user_id'],
                                     ['id', 'user_id'], ondelete='CASCADE')
            batch.create_foreign_key(f'fk_{child}_user_id_users', 'users', ['user_id'], ['id'], ondelete='CASCADE')
            if child == 'rule_tags':
                batch.drop_constraint('fk_rule_tags_tag_id_tags', type_='foreignkey')
                batch.create_foreign_key('fk_rule_tags_tag_id_user_id_tags', 'tags', ['tag_id', 'user_id'],
                                         ['id', 'user_id'], ondelete='CASCADE')
                batch.drop_index('ix_rule_tags_tag_id')
                batch.create_index('ix_rule_tags_user_tag', ['user_id', 'tag_id'])
    with op.batch_alter_table('expenses') as batch:
        batch.drop_constraint('fk_expenses_budget_id_budgets', type_='foreignkey')
        batch.create_foreign_key('fk_expenses_budget_id_user_id_budgets', 'budgets', ['budget_id', 'user_id'],
                                 ['id', 'user_id'])
    with op.batch_alter_table('goals') as batch:
        batch.drop_constraint('fk_goals_account_id_accounts', type_='foreignkey')
        batch.create_foreign_key('fk_goals_account_id_user_id_accounts', 'accounts', ['account_id', 'user_id'],
                                 ['id', 'user_id'])
    _transactions_unique(['account_id', 'external_id'], ['user_id', 'account_id', 'external_id'])


def downgrade() -> None:
    _transactions_unique(['user_id', 'account_id', 'external_id'], ['account_id', 'external_id'])
    with op.batch_alter_table('goals') as batch:
        batch.drop_constraint('fk_goals_account_id_user_id_accounts', type_='foreignkey')
        batch.create_foreign_key('fk_goals_account_id_accounts', 'accounts', ['account_id'], ['id'],
                                 ondelete='SET NULL')
    with op.batch_alter_table('expenses') as batch:
        batch.drop_constraint('fk_expenses_budget_id_user_id_budgets', type_='foreignkey')
        batch.create_foreign_key('fk_expenses_budget_id_budgets', 'budgets', ['budget_id'], ['id'],
                                 ondelete='SET NULL')
    for child, key, parent in reversed(CHILDREN):
        with op.batch_alter_table(child) as batch:
            if child == 'rule_tags':
                batch.drop_index('ix_rule_tags_user_tag')
                batch.create_index('ix_rule_tags_tag_id', ['tag_id'])
                batch.drop_constraint('fk_rule_tags_tag_id_user_id_tags', type_='foreignkey')
                batch.create_foreign_key('fk_rule_tags_tag_id_tags', 'tags', ['tag_id'], ['id'], ondelete='CASCADE')
            batch.drop_constraint(f'fk_{child}_user_id_users', type_='foreignkey')
            batch.drop_constraint(f'fk_{child}_{key}_user_id_{parent}', type_='foreignkey')
            batch.create_foreign_key(f'fk_{child}_{key}_{parent}', parent, [key], ['id'], ondelete='CASCADE')
            batch.drop_column('user_id')
    for parent in ("budgets", "import_rules", "edit_batches"):
        with op.batch_alter_table(parent) as batch:
            batch.drop_constraint(f'uq_{parent}_id_user_id', type_='unique')
