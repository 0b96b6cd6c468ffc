"""Stored reports: the half-year summary (SPEC §6, seed 001 三.4), one per period."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Integer, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models import UTCDateTime, db


class HalfYearReport(db.Model):
    """A snapshot of the figures for [period_start, period_end) (company-time dates). The unique
    period is what makes the scheduled job, the CLI and overlapping runs produce one report."""
    __tablename__ = "half_year_report"
    __table_args__ = (UniqueConstraint("period_start", "period_end", name="uq_half_year_report_period"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)            # exclusive
    data: Mapped[dict] = mapped_column(JSON)
    generated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    generated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))   # None: the scheduled job
