"""Days that differ from the default working week: admin overrides (company holidays, extra
working days) and imported official arrangements for years the holiday package does not cover."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from models import UTCDateTime, db, utcnow


class CalendarDay(db.Model):
    __tablename__ = "calendar_day"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    workday: Mapped[bool] = mapped_column(Boolean)
    source: Mapped[str] = mapped_column(String(8))        # import (official arrangement) / admin
    name: Mapped[str | None] = mapped_column(String(40))  # 国庆节, 调休上班, 公司年会 …
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
