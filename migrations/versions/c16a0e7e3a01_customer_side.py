"""the customer's side (issue 16): consent to messages, one-time customer links, files from the customer

Revision ID: c16a0e7e3a01
Revises: b15a0e7e3a01
Create Date: 2026-12-02 08:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c16a0e7e3a01'
down_revision = 'b15a0e7e3a01'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('complaint', schema=None) as batch_op:
        batch_op.add_column(sa.Column('contact_consent', sa.Boolean(), server_default=sa.text('false'),
                                      nullable=False))
    with op.batch_alter_table('attachment', schema=None) as batch_op:
        batch_op.alter_column('uploaded_by_id', existing_type=sa.Integer(), nullable=True)
    op.create_table('customer_link',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('complaint_id', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.String(length=12), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('used_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['complaint_id'], ['complaint.id'], name=op.f('fk_customer_link_complaint_id_complaint')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customer_link')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_customer_link_token_hash'))
    )
    with op.batch_alter_table('customer_link', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_customer_link_complaint_id'), ['complaint_id'], unique=False)


def downgrade():
    with op.batch_alter_table('customer_link', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_customer_link_complaint_id'))
    op.drop_table('customer_link')
    with op.batch_alter_table('attachment', schema=None) as batch_op:
        batch_op.alter_column('uploaded_by_id', existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table('complaint', schema=None) as batch_op:
        batch_op.drop_column('contact_consent')
