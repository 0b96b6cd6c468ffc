"""Files attached to a complaint (SPEC §2 attachments, §10 reliability).

The bytes live outside the web root (instance/uploads, or KESU_UPLOAD_DIR), under a random
key; the row says what they are. A file uploaded with a form that was then shown again with
errors is kept "pending" under the form's intake token, so nothing the clerk photographed is
lost; registering the complaint claims it. Files added later (evidence, the answer's letter) go the
same way with their action's form token and remember the stage they were added at.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models import UTCDateTime, db, utcnow
from models.user import User


class Attachment(db.Model):
    __tablename__ = "attachment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    complaint_id: Mapped[int | None] = mapped_column(ForeignKey("complaint.id"), index=True)
    intake_token: Mapped[str | None] = mapped_column(String(64), index=True)  # pending until claimed
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))  # None: the customer
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    name: Mapped[str] = mapped_column(String(120))          # the file name as given, cleaned
    kind: Mapped[str] = mapped_column(String(8))            # image / pdf / audio
    mime: Mapped[str] = mapped_column(String(40))           # decided from the content
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(80), unique=True)  # storage path under the upload dir
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    # The stage the complaint was at when the file was added after intake (None: with the intake form).
    stage: Mapped[str | None] = mapped_column(String(20))

    uploaded_by: Mapped[User | None] = relationship()
