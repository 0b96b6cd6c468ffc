"""outbox rows by complaint (issue 16: what was sent to the customer, on the record and the progress page)

Revision ID: c16b0e7e3a02
Revises: c16a0e7e3a01
Create Date: 2026-12-02 09:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c16b0e7e3a02'
down_revision = 'c16a0e7e3a01'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_complaint', ['complaint_id'], unique=False,
                              sqlite_where=sa.text('complaint_id IS NOT NULL'),
                              postgresql_where=sa.text('complaint_id IS NOT NULL'))


def downgrade():
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_complaint')
