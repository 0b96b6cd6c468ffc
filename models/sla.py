"""SLA clocks (SPEC §4.1): one row per complaint and clock, with the limit fixed when it started."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Boolean, ForeignKey, Index, Integer, Numeric, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from models import UTCDateTime, db


class SlaClock(db.Model):
    __tablename__ = "sla_clock"
    __table_args__ = (
        UniqueConstraint("complaint_id", "kind", name="uq_sla_clock_complaint_kind"),
        # The sweep and the countdowns look only at running clocks.
        Index("ix_sla_clock_running_warn", "warn_at", sqlite_where=text("stopped_at IS NULL"),
              postgresql_where=text("stopped_at IS NULL")),
        Index("ix_sla_clock_running_deadline", "deadline", sqlite_where=text("stopped_at IS NULL"),
              postgresql_where=text("stopped_at IS NULL")),
        Index("ix_sla_clock_running_escalate", "escalate_at", sqlite_where=text("stopped_at IS NULL"),
              postgresql_where=text("stopped_at IS NULL")),
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
