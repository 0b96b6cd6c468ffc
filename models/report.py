"""Stored reports: the half-year summary (SPEC §6, seed 001 三.4) and the monthly report (SPEC §8),
one per period; the monthly order volumes the complaint rate is computed from; export jobs (long
Excel exports run by the worker, SPEC §8)."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, UniqueConstraint
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


class MonthlyReport(db.Model):
    """A snapshot of one month's figures (SPEC §8), made by the scheduled job on the first working
    day of the next month (or on demand). The unique month makes overlapping runs produce one."""
    __tablename__ = "monthly_report"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    month: Mapped[str] = mapped_column(String(7), unique=True)          # "2026-11" (company time)
    data: Mapped[dict] = mapped_column(JSON)
    generated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    generated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))   # None: the scheduled job


class OrderVolume(db.Model):
    """How many orders a branch or store had in a month (entered or imported by the administrator):
    the denominator of the complaint rate per 10,000 orders (SPEC §8)."""
    __tablename__ = "order_volume"
    __table_args__ = (UniqueConstraint("unit_id", "month", name="uq_order_volume_unit_month"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    month: Mapped[str] = mapped_column(String(7))                        # "2026-11"
    orders: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


class ExportJob(db.Model):
    """An Excel export the worker writes (SPEC §8: long exports run as jobs with visible progress and a
    download link). `params` are the list's filters as the user had them; the file lives under the
    upload dir's exports/ folder, served only to its owner."""
    __tablename__ = "export_job"
    __table_args__ = (Index("ix_export_job_user_created", "user_id", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    kind: Mapped[str] = mapped_column(String(24))                        # register, queue, overdue, monthly …
    params: Mapped[dict | None] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(10), default="queued")    # queued, running, done, failed
    rows_done: Mapped[int] = mapped_column(Integer, default=0)
    rows_total: Mapped[int | None] = mapped_column(Integer)
    file_key: Mapped[str | None] = mapped_column(String(80))
    filename: Mapped[str | None] = mapped_column(String(120))
    error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
