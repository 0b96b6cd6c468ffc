"""The monthly complaint meeting 客诉专题会 (SPEC §3.5; seed 000 5.1.3.2 and the food factory's
3.4–3.5): one per month, its agenda, attendees, per-item conclusions, the minutes' signatures and
signed addenda, and its timeline. The new corrective/preventive actions it decides are
CorrectiveAction rows pointing at their agenda item (models/complaint.py)."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models import UTCDateTime, db
from models.user import User


class Meeting(db.Model):
    """draft (agenda, attendees and conclusions are written) → issued (the minutes are locked and
    go round for signatures) → signed (every attendee signed). A correction after issuing is an
    addendum, signed in turn."""
    __tablename__ = "complaint_meeting"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    month: Mapped[str] = mapped_column(String(7), unique=True)       # the month discussed, "2026-11"
    title: Mapped[str] = mapped_column(String(120))
    held_on: Mapped[date | None] = mapped_column(Date)
    place: Mapped[str | None] = mapped_column(String(120))
    status: Mapped[str] = mapped_column(String(12), default="draft")
    opened_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)   # the last attendee signed the minutes
    version: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}

    items: Mapped[list[MeetingItem]] = relationship(back_populates="meeting", order_by="MeetingItem.position")
    attendees: Mapped[list[MeetingAttendee]] = relationship(order_by="MeetingAttendee.id")
    addenda: Mapped[list[MeetingAddendum]] = relationship(order_by="MeetingAddendum.number")
    signatures: Mapped[list[MeetingSignature]] = relationship(order_by="MeetingSignature.at")
    events: Mapped[list[MeetingEvent]] = relationship(order_by="MeetingEvent.id")


class MeetingAttendee(db.Model):
    __tablename__ = "meeting_attendee"
    __table_args__ = (UniqueConstraint("meeting_id", "user_id", name="uq_meeting_attendee"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("complaint_meeting.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)

    user: Mapped[User] = relationship()


class MeetingItem(db.Model):
    """An agenda item: a frequent category of the month, a high-urgency or major complaint, or a
    topic quality added; the meeting's conclusion on it."""
    __tablename__ = "meeting_item"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("complaint_meeting.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(12))     # frequent / urgent / major / added
    category_id: Mapped[int | None] = mapped_column(ForeignKey("category.id"))
    complaint_id: Mapped[int | None] = mapped_column(ForeignKey("complaint.id"))
    count: Mapped[int | None] = mapped_column(Integer)   # a frequent category's complaints in the month
    title: Mapped[str] = mapped_column(String(200))
    conclusion: Mapped[str | None] = mapped_column(Text)

    meeting: Mapped[Meeting] = relationship(back_populates="items")
    actions: Mapped[list["CorrectiveAction"]] = relationship(back_populates="meeting_item",  # noqa: F821
                                                             order_by="CorrectiveAction.id")


class MeetingAddendum(db.Model):
    """A correction to issued minutes: numbered 1, 2 …; signed like the minutes (part = number)."""
    __tablename__ = "meeting_addendum"
    __table_args__ = (UniqueConstraint("meeting_id", "number", name="uq_meeting_addendum"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("complaint_meeting.id"))
    number: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class MeetingSignature(db.Model):
    """An attendee's confirmation of the minutes (part 0) or of addendum `part`; once each."""
    __tablename__ = "meeting_signature"
    __table_args__ = (UniqueConstraint("meeting_id", "part", "user_id", name="uq_meeting_signature"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("complaint_meeting.id"))
    part: Mapped[int] = mapped_column(Integer, default=0)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class MeetingEvent(db.Model):
    """The meeting's timeline, and that of the actions it decided (action_id)."""
    __tablename__ = "meeting_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("complaint_meeting.id"), index=True)
    action_id: Mapped[int | None] = mapped_column(ForeignKey("corrective_action.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))   # None: the reminder job
    kind: Mapped[str] = mapped_column(String(24))
    detail: Mapped[dict | None] = mapped_column(JSON)

    actor: Mapped[User | None] = relationship()
