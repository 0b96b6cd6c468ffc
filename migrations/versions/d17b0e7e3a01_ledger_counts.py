"""the accountability ledger's kept counts (issue 17): per complaint its close clock's verdict, its
earliest ticking deadline and whole days to close; ledger_day; two partial indexes; the backfill

Revision ID: d17b0e7e3a01
Revises: d17a0e7e3a01
Create Date: 2026-12-03 10:00:00

"""
import os
from datetime import datetime
from zoneinfo import ZoneInfo

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd17b0e7e3a01'
down_revision = 'd17a0e7e3a01'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('complaint', schema=None) as batch_op:
        batch_op.add_column(sa.Column('close_in_time', sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column('ticking_deadline', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('days_to_close', sa.Integer(), nullable=True))
    op.create_table('ledger_day',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('first_responder_id', sa.Integer(), nullable=False),
    sa.Column('receiving_unit_id', sa.Integer(), nullable=False),
    sa.Column('days_to_close', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('received', sa.Integer(), nullable=False),
    sa.Column('open', sa.Integer(), nullable=False),
    sa.Column('closed_in_time', sa.Integer(), nullable=False),
    sa.Column('repeats', sa.Integer(), nullable=False),
    sa.Column('satisfaction_sum', sa.Integer(), nullable=False),
    sa.Column('satisfaction_n', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['first_responder_id'], ['user_account.id'], name=op.f('fk_ledger_day_first_responder_id_user_account')),
    sa.ForeignKeyConstraint(['receiving_unit_id'], ['org_unit.id'], name=op.f('fk_ledger_day_receiving_unit_id_org_unit')),
    sa.PrimaryKeyConstraint('day', 'first_responder_id', 'receiving_unit_id', 'days_to_close', name=op.f('pk_ledger_day')),
    sqlite_with_rowid=False
    )
    backfill()
    with op.batch_alter_table('complaint', schema=None) as batch_op:
        batch_op.create_index('ix_complaint_ledger_closed', ['first_responder_id', 'days_to_close', 'created_at', 'type', 'receiving_unit_id', 'closed_at'], unique=False, sqlite_where=sa.text('days_to_close IS NOT NULL'), postgresql_where=sa.text('days_to_close IS NOT NULL'))
        batch_op.create_index('ix_complaint_ledger_open', ['first_responder_id', 'created_at', 'type', 'stage', 'receiving_unit_id', 'ticking_deadline'], unique=False, sqlite_where=sa.text("stage <> 'closed'"), postgresql_where=sa.text("stage <> 'closed'"))


def backfill():
    """The same counts as domain.ledger.rebuild, set-based (a few statements for a million rows).
    The day is the company's (KESU_COMPANY_TZ, as domain.settings.company_tz); SQLite takes its
    offset now (Asia/Shanghai has no daylight saving)."""
    tz = os.environ.get("KESU_COMPANY_TZ", "Asia/Shanghai")
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        days = "greatest(0, floor(extract(epoch FROM closed_at - created_at) / 86400)::integer)"
        day = f"(timezone('{tz}', timezone('UTC', created_at)))::date"
    else:
        micro = "(strftime('%s', {0}) * 1000000 + CAST(substr({0}, 21, 6) AS INTEGER))"
        days = f"max(0, ({micro.format('closed_at')} - {micro.format('created_at')}) / 86400000000)"
        offset = int(datetime.now(ZoneInfo(tz)).utcoffset().total_seconds())
        day = f"date(created_at, '{offset:+d} seconds')"
    op.execute(
        "UPDATE complaint SET "
        "close_in_time = (SELECT s.stopped_at <= s.deadline FROM sla_clock s WHERE s.complaint_id = complaint.id "
        "AND s.kind = 'close' AND s.stopped_at IS NOT NULL), "
        "ticking_deadline = (SELECT min(s.deadline) FROM sla_clock s WHERE s.complaint_id = complaint.id "
        "AND s.stopped_at IS NULL AND s.paused_at IS NULL), "
        f"days_to_close = CASE WHEN type = 'complaint' AND closed_at IS NOT NULL THEN {days} END")
    op.execute(
        "INSERT INTO ledger_day (day, first_responder_id, receiving_unit_id, days_to_close, received, open, "
        "closed_in_time, repeats, satisfaction_sum, satisfaction_n) "
        f"SELECT {day}, first_responder_id, receiving_unit_id, coalesce(days_to_close, -1), count(*), "
        "count(CASE WHEN stage <> 'closed' THEN 1 END), "
        "count(CASE WHEN closed_at IS NOT NULL AND close_in_time THEN 1 END), count(repeat_of_id), "
        "coalesce(sum(satisfaction), 0), count(satisfaction) "
        f"FROM complaint WHERE type = 'complaint' GROUP BY {day}, first_responder_id, receiving_unit_id, "
        "coalesce(days_to_close, -1)")


def downgrade():
    with op.batch_alter_table('complaint', schema=None) as batch_op:
        batch_op.drop_index('ix_complaint_ledger_open', sqlite_where=sa.text("stage <> 'closed'"), postgresql_where=sa.text("stage <> 'closed'"))
        batch_op.drop_index('ix_complaint_ledger_closed', sqlite_where=sa.text('days_to_close IS NOT NULL'), postgresql_where=sa.text('days_to_close IS NOT NULL'))
    op.drop_table('ledger_day')
    with op.batch_alter_table('complaint', schema=None) as batch_op:
        batch_op.drop_column('days_to_close')
        batch_op.drop_column('ticking_deadline')
        batch_op.drop_column('close_in_time')
