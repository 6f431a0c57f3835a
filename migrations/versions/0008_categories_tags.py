"""Own categories, tags, richer rules, remembered import category names, undoable bulk edits

- categories.version (optimistic locking); category_hidden: built-in categories a user hides.
- tags (owner-scoped) and transaction_tags (composite keys keep a tag and its transaction one user's).
- import_rules: a field (payee / description), more match types (equals, starts_with), an amount
  range, an account, an optional category, a clean payee name; rule_tags: tags a rule adds.
- category_mappings: what the user chose for a category name of an imported file.
- edit_batches, edit_batch_rows, edit_batch_tags: what one bulk edit changed, for its undo.

Revision ID: 0008_categories_tags
Revises: 0005_user_data_version
Create Date: 2026-12-02 16:13:49.699229

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa



# revision identifiers, used by Alembic.
revision: str = '0008_categories_tags'
down_revision: Union[str, Sequence[str], None] = '0005_user_data_version'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('import_rules', schema=None) as batch_op:
        batch_op.add_column(sa.Column('field', sa.String(length=12), server_default='payee', nullable=False))
        batch_op.add_column(sa.Column('amount_min', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('amount_max', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('account_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('set_payee', sa.String(length=200), nullable=True))
        batch_op.alter_column('match_type',
               existing_type=sa.VARCHAR(length=10),
               type_=sa.String(length=12),
               existing_nullable=False)
        batch_op.alter_column('category_id',
               existing_type=sa.INTEGER(),
               nullable=True)
        batch_op.drop_constraint(op.f('ck_import_rules_match_type_known'), type_='check')
        batch_op.drop_constraint(op.f('ck_import_rules_pattern_not_empty'), type_='check')
        batch_op.alter_column('pattern', existing_type=sa.String(length=200), server_default='',
                              existing_nullable=False)
        batch_op.create_check_constraint(
            'match_type_known', "match_type IN ('contains','equals','starts_with','regex')")
        batch_op.create_check_constraint('field_known', "field IN ('payee','description')")
        batch_op.create_check_constraint(
            'amount_range_ordered', 'amount_min IS NULL OR amount_max IS NULL OR amount_min <= amount_max')
        batch_op.create_foreign_key(batch_op.f('fk_import_rules_account_id_user_id_accounts'), 'accounts', ['account_id', 'user_id'], ['id', 'user_id'], ondelete='CASCADE')

    # A plain ALTER TABLE ... ADD COLUMN on SQLite too: a table copy of categories would cascade.
    op.add_column('categories', sa.Column('version', sa.Integer(), server_default='1', nullable=False))

    op.create_table('edit_batches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.Column('row_count', sa.Integer(), server_default='0', nullable=False),
    sa.Column('undone', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('created_at', sa.DateTime(), server_default=sa.func.now(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_edit_batches_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_edit_batches'))
    )
    with op.batch_alter_table('edit_batches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_edit_batches_user_id'), ['user_id'], unique=False)

    op.create_table('tags',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('color', sa.String(length=7), nullable=True),
    sa.Column('created_at', sa.DateTime(), server_default=sa.func.now(), nullable=False),
    sa.CheckConstraint('length(name) > 0', name=op.f('ck_tags_name_not_empty')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_tags_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tags')),
    sa.UniqueConstraint('id', 'user_id', name=op.f('uq_tags_id_user_id')),
    sa.UniqueConstraint('user_id', 'name', name=op.f('uq_tags_user_id_name'))
    )
    op.create_table('category_hidden',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['category_id'], ['categories.id'], name=op.f('fk_category_hidden_category_id_categories'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_category_hidden_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'category_id', name=op.f('pk_category_hidden'))
    )
    with op.batch_alter_table('category_hidden', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_category_hidden_category_id'), ['category_id'], unique=False)

    op.create_table('category_mappings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('source_name', sa.String(length=200), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), server_default=sa.func.now(), nullable=False),
    sa.CheckConstraint('length(source_name) > 0', name=op.f('ck_category_mappings_source_not_empty')),
    sa.ForeignKeyConstraint(['category_id'], ['categories.id'], name=op.f('fk_category_mappings_category_id_categories'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_category_mappings_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_category_mappings')),
    sa.UniqueConstraint('user_id', 'source_name', name=op.f('uq_category_mappings_user_id_source_name'))
    )
    with op.batch_alter_table('category_mappings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_category_mappings_category_id'), ['category_id'], unique=False)

    op.create_table('edit_batch_rows',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('transaction_id', sa.Integer(), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=True),
    sa.Column('payee', sa.String(length=200), server_default='', nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.ForeignKeyConstraint(['batch_id'], ['edit_batches.id'], name=op.f('fk_edit_batch_rows_batch_id_edit_batches'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_edit_batch_rows'))
    )
    with op.batch_alter_table('edit_batch_rows', schema=None) as batch_op:
        batch_op.create_index('ix_edit_batch_rows_batch', ['batch_id', 'transaction_id'], unique=False)

    op.create_table('edit_batch_tags',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('transaction_id', sa.Integer(), nullable=False),
    sa.Column('tag_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['batch_id'], ['edit_batches.id'], name=op.f('fk_edit_batch_tags_batch_id_edit_batches'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_edit_batch_tags'))
    )
    with op.batch_alter_table('edit_batch_tags', schema=None) as batch_op:
        batch_op.create_index('ix_edit_batch_tags_batch', ['batch_id'], unique=False)

    op.create_table('rule_tags',
    sa.Column('rule_id', sa.Integer(), nullable=False),
    sa.Column('tag_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['rule_id'], ['import_rules.id'], name=op.f('fk_rule_tags_rule_id_import_rules'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tag_id'], ['tags.id'], name=op.f('fk_rule_tags_tag_id_tags'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('rule_id', 'tag_id', name=op.f('pk_rule_tags'))
    )
    with op.batch_alter_table('rule_tags', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rule_tags_tag_id'), ['tag_id'], unique=False)

    op.create_table('transaction_tags',
    sa.Column('transaction_id', sa.Integer(), nullable=False),
    sa.Column('tag_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tag_id', 'user_id'], ['tags.id', 'tags.user_id'], name=op.f('fk_transaction_tags_tag_id_user_id_tags'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['transaction_id', 'user_id'], ['transactions.id', 'transactions.user_id'], name=op.f('fk_transaction_tags_transaction_id_user_id_transactions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_transaction_tags_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('transaction_id', 'tag_id', name=op.f('pk_transaction_tags'))
    )
    with op.batch_alter_table('transaction_tags', schema=None) as batch_op:
        batch_op.create_index('ix_transaction_tags_user_tag', ['user_id', 'tag_id', 'transaction_id'], unique=False)

    # ### end Alembic commands ###


def downgrade() -> None:
    with op.batch_alter_table('transaction_tags', schema=None) as batch_op:
        batch_op.drop_index('ix_transaction_tags_user_tag')

    op.drop_table('transaction_tags')
    with op.batch_alter_table('rule_tags', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rule_tags_tag_id'))

    op.drop_table('rule_tags')
    with op.batch_alter_table('edit_batch_tags', schema=None) as batch_op:
        batch_op.drop_index('ix_edit_batch_tags_batch')

    op.drop_table('edit_batch_tags')
    with op.batch_alter_table('edit_batch_rows', schema=None) as batch_op:
        batch_op.drop_index('ix_edit_batch_rows_batch')

    op.drop_table('edit_batch_rows')
    with op.batch_alter_table('category_mappings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_category_mappings_category_id'))

    op.drop_table('category_mappings')
    with op.batch_alter_table('category_hidden', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_category_hidden_category_id'))

    op.drop_table('category_hidden')
    op.drop_table('tags')
    with op.batch_alter_table('edit_batches', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_edit_batches_user_id'))

    op.drop_table('edit_batches')
    # Rules the old schema cannot hold (no category, no pattern, a new match type) are dropped.
    op.execute("DELETE FROM import_rules WHERE category_id IS NULL OR length(pattern) = 0 "
               "OR match_type NOT IN ('contains','regex') OR field <> 'payee'")
    with op.batch_alter_table('import_rules', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_import_rules_account_id_user_id_accounts'), type_='foreignkey')
        batch_op.drop_constraint(op.f('ck_import_rules_match_type_known'), type_='check')
        batch_op.drop_constraint(op.f('ck_import_rules_field_known'), type_='check')
        batch_op.drop_constraint(op.f('ck_import_rules_amount_range_ordered'), type_='check')
        batch_op.create_check_constraint('match_type_known', "match_type IN ('contains','regex')")
        batch_op.create_check_constraint('pattern_not_empty', 'length(pattern) > 0')
        batch_op.alter_column('category_id',
               existing_type=sa.INTEGER(),
               nullable=False)
        batch_op.alter_column('match_type',
               existing_type=sa.String(length=12),
               type_=sa.VARCHAR(length=10),
               existing_nullable=False)
        batch_op.drop_column('set_payee')
        batch_op.drop_column('account_id')
        batch_op.drop_column('amount_max')
        batch_op.drop_column('amount_min')
        batch_op.drop_column('field')

    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE categories DROP COLUMN version")
    else:
        op.drop_column('categories', 'version')
