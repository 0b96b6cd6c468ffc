"""Company settings an administrator may change (e.g. the major-complaint amount threshold)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from models import UTCDateTime, db, utcnow


class Setting(db.Model):
    __tablename__ = "setting"

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[object] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


def put(session, key: str, value, *, by_id: int | None, now: datetime) -> Setting:
    """Store `value` under `key` (made if new), noting who and when. The caller audits the change."""
    row = session.get(Setting, key) or Setting(key=key)
    row.value, row.updated_at, row.updated_by_id = value, now, by_id
    session.add(row)
    return row
