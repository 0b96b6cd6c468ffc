"""SLA clocks (SPEC §4.1): one row per complaint and clock, with the limit fixed when it started."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Boolean, ForeignKey, Index, Integer, Numeric, SmallInteger, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models import UTCDateTime, db


class SlaClock(db.Model):
    __tablename__ = "sla_clock"
    __table_args__ = (
        UniqueConstraint("complaint_id", "kind", name="uq_sla_clock_complaint_kind"),
        # The sweep reads one range of one index: running clocks whose next reminder is due.
        Index("ix_sla_clock_running_next_alert", "next_alert_at", sqlite_where=text("stopped_at IS NULL"),
              postgresql_where=text("stopped_at IS NULL")),
        # Overdue lists and digests (longest overdue first).
        Index("ix_sla_clock_running_deadline", "deadline", sqlite_where=text("stopped_at IS NULL"),
              postgresql_where=text("stopped_at IS NULL")),
        # Overdue counts per clock on the manager's home: a capped range per kind.
        Index("ix_sla_clock_ticking_kind_deadline", "kind", "deadline",
              sqlite_where=text("stopped_at IS NULL AND paused_at IS NULL"),
              postgresql_where=text("stopped_at IS NULL AND paused_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaint.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    preset: Mapped[str] = mapped_column(String(16))
    amount: Mapped[Decimal] = mapped_column(Numeric(8, 2))
    unit: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(120))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    deadline: Mapped[datetime] = mapped_column(UTCDateTime)
    warn_at: Mapped[datetime] = mapped_column(UTCDateTime)
    escalate_at: Mapped[datetime] = mapped_column(UTCDateTime)
    confirmed: Mapped[bool] = mapped_column(Boolean, default=True)
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Reminders (SPEC §4.4): the last level sent (0 none, 1 warn, 2 due, 3 escalate) and when the
    # next one is due (NULL: none left, or paused).
    alert_level: Mapped[int] = mapped_column(SmallInteger, default=0)
    next_alert_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Waiting for the customer (等待客户补充材料): the clock does not run; resuming moves the
    # deadline, warn and escalation times on by the time spent waiting.
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paused_seconds: Mapped[int] = mapped_column(Integer, default=0)

    complaint: Mapped["Complaint"] = relationship()  # noqa: F821


class Outbox(db.Model):
    """A message for a channel outside the app (e-mail, group robots), written in the same
    transaction as the reminder or notice it copies, delivered by a job, retried with backoff.
    `dedupe_key` is unique: the same reminder is never queued twice for the same channel."""
    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_pending", "next_attempt_at", sqlite_where=text("status = 'pending'"),
              postgresql_where=text("status = 'pending'")),
        Index("ix_outbox_status_id", "status", "id"),
        # What was sent about one complaint (its record; the customer's progress page).
        Index("ix_outbox_complaint", "complaint_id", sqlite_where=text("complaint_id IS NOT NULL"),
              postgresql_where=text("complaint_id IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))      # email, wecom, dingtalk, feishu
    dedupe_key: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(40))
    notification_id: Mapped[int | None] = mapped_column(ForeignKey("notification.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"))
    complaint_id: Mapped[int | None] = mapped_column(ForeignKey("complaint.id"))
    status: Mapped[str] = mapped_column(String(10), default="pending")   # pending, sent, failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
