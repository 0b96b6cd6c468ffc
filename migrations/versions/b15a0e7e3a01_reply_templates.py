"""reply templates; the stage a file was added at (issue 15)

Revision ID: b15a0e7e3a01
Revises: 0fb4e2afdc1d
Create Date: 2026-11-27 10:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b15a0e7e3a01'
down_revision = '0fb4e2afdc1d'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('reply_template',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=40), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['category_id'], ['category.id'], name=op.f('fk_reply_template_category_id_category')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['user_account.id'], name=op.f('fk_reply_template_updated_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reply_template'))
    )
    with op.batch_alter_table('reply_template', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reply_template_category_id'), ['category_id'], unique=False)
    with op.batch_alter_table('attachment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('stage', sa.String(length=20), nullable=True))


def downgrade():
    with op.batch_alter_table('attachment', schema=None) as batch_op:
        batch_op.drop_column('stage')
    with op.batch_alter_table('reply_template', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reply_template_category_id'))

    op.drop_table('reply_template')
