"""Reply templates 答复模板 (SPEC §3): texts the administrator keeps per complaint category (or for
all categories), with placeholders such as {顾客姓名}; the handler picks one for the proposal's text
to the customer or for the answer, and edits it. Switched off, never deleted."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models import UTCDateTime, db, utcnow
from models.complaint import Category


class ReplyTemplate(db.Model):
    __tablename__ = "reply_template"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(40))
    body: Mapped[str] = mapped_column(Text)
    category_id: Mapped[int | None] = mapped_column(ForeignKey("category.id"), index=True)  # None: all categories
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    category: Mapped[Category | None] = relationship()
