"""the monthly complaint meeting 客诉专题会 and its actions (issue 17)

Revision ID: d17c0e7e3a01
Revises: d17b0e7e3a01
Create Date: 2026-12-02 12:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd17c0e7e3a01'
down_revision = 'd17b0e7e3a01'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('complaint_meeting',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('title', sa.String(length=120), nullable=False),
    sa.Column('held_on', sa.Date(), nullable=True),
    sa.Column('place', sa.String(length=120), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('opened_by_id', sa.Integer(), nullable=False),
    sa.Column('opened_at', sa.DateTime(), nullable=False),
    sa.Column('issued_at', sa.DateTime(), nullable=True),
    sa.Column('signed_at', sa.DateTime(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['opened_by_id'], ['user_account.id'], name=op.f('fk_complaint_meeting_opened_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_complaint_meeting')),
    sa.UniqueConstraint('month', name=op.f('uq_complaint_meeting_month'))
    )
    op.create_table('meeting_attendee',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['meeting_id'], ['complaint_meeting.id'], name=op.f('fk_meeting_attendee_meeting_id_complaint_meeting')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_meeting_attendee_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meeting_attendee')),
    sa.UniqueConstraint('meeting_id', 'user_id', name='uq_meeting_attendee')
    )
    with op.batch_alter_table('meeting_attendee', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_meeting_attendee_user_id'), ['user_id'], unique=False)
    op.create_table('meeting_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=12), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=True),
    sa.Column('complaint_id', sa.Integer(), nullable=True),
    sa.Column('count', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('conclusion', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['category_id'], ['category.id'], name=op.f('fk_meeting_item_category_id_category')),
    sa.ForeignKeyConstraint(['complaint_id'], ['complaint.id'], name=op.f('fk_meeting_item_complaint_id_complaint')),
    sa.ForeignKeyConstraint(['meeting_id'], ['complaint_meeting.id'], name=op.f('fk_meeting_item_meeting_id_complaint_meeting')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meeting_item'))
    )
    with op.batch_alter_table('meeting_item', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_meeting_item_meeting_id'), ['meeting_id'], unique=False)
    op.create_table('meeting_addendum',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_meeting_addendum_created_by_id_user_account')),
    sa.ForeignKeyConstraint(['meeting_id'], ['complaint_meeting.id'], name=op.f('fk_meeting_addendum_meeting_id_complaint_meeting')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meeting_addendum')),
    sa.UniqueConstraint('meeting_id', 'number', name='uq_meeting_addendum')
    )
    op.create_table('meeting_signature',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('part', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['meeting_id'], ['complaint_meeting.id'], name=op.f('fk_meeting_signature_meeting_id_complaint_meeting')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_meeting_signature_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meeting_signature')),
    sa.UniqueConstraint('meeting_id', 'part', 'user_id', name='uq_meeting_signature')
    )
    with op.batch_alter_table('corrective_action', schema=None) as batch_op:
        batch_op.add_column(sa.Column('meeting_item_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('owner_user_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('done_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('done_note', sa.Text(), nullable=True))
        batch_op.alter_column('complaint_id', existing_type=sa.Integer(), nullable=True)
        batch_op.create_index(batch_op.f('ix_corrective_action_meeting_item_id'), ['meeting_item_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_corrective_action_owner_user_id'), ['owner_user_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_corrective_action_meeting_item_id_meeting_item'), 'meeting_item', ['meeting_item_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_corrective_action_owner_user_id_user_account'), 'user_account', ['owner_user_id'], ['id'])
        batch_op.create_index('ix_corrective_action_meeting_open', ['due', 'id'], unique=False,
                              sqlite_where=sa.text('meeting_item_id IS NOT NULL AND verdict IS NULL'),
                              postgresql_where=sa.text('meeting_item_id IS NOT NULL AND verdict IS NULL'))
    op.create_table('meeting_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('action_id', sa.Integer(), nullable=True),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['action_id'], ['corrective_action.id'], name=op.f('fk_meeting_event_action_id_corrective_action')),
    sa.ForeignKeyConstraint(['actor_id'], ['user_account.id'], name=op.f('fk_meeting_event_actor_id_user_account')),
    sa.ForeignKeyConstraint(['meeting_id'], ['complaint_meeting.id'], name=op.f('fk_meeting_event_meeting_id_complaint_meeting')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meeting_event'))
    )
    with op.batch_alter_table('meeting_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_meeting_event_action_id'), ['action_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_meeting_event_meeting_id'), ['meeting_id'], unique=False)


def downgrade():
    with op.batch_alter_table('meeting_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_meeting_event_meeting_id'))
        batch_op.drop_index(batch_op.f('ix_meeting_event_action_id'))
    op.drop_table('meeting_event')
    op.execute("DELETE FROM corrective_action WHERE complaint_id IS NULL")
    with op.batch_alter_table('corrective_action', schema=None) as batch_op:
        batch_op.drop_index('ix_corrective_action_meeting_open')
        batch_op.drop_constraint(batch_op.f('fk_corrective_action_owner_user_id_user_account'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_corrective_action_meeting_item_id_meeting_item'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_corrective_action_owner_user_id'))
        batch_op.drop_index(batch_op.f('ix_corrective_action_meeting_item_id'))
        batch_op.alter_column('complaint_id', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column('done_note')
        batch_op.drop_column('done_at')
        batch_op.drop_column('owner_user_id')
        batch_op.drop_column('meeting_item_id')
    op.drop_table('meeting_signature')
    op.drop_table('meeting_addendum')
    op.drop_table('meeting_item')
    op.drop_index(op.f('ix_meeting_attendee_user_id'), table_name='meeting_attendee')
    op.drop_table('meeting_attendee')
    op.drop_table('complaint_meeting')
