"""Database handle, declarative base and shared column types.

Models are SQLAlchemy 2.0 typed declarative classes; one module per aggregate.
Times are stored as naive UTC and handed back as aware UTC (SQLite keeps no zone).
"""
from datetime import datetime, timezone

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import DateTime, MetaData, TypeDecorator
from sqlalchemy.orm import DeclarativeBase

# Named constraints so Alembic can alter them on SQLite (batch mode) and PostgreSQL alike.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


db = SQLAlchemy(model_class=Base)


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes in Python, naive UTC in the database."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; pass an aware UTC datetime")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def upsert_insert(session):
    """The dialect's INSERT (with ON CONFLICT …) for the session's database: PostgreSQL or SQLite."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


# Import the model modules so that metadata is complete wherever `models` is imported.
from models.org import OrgUnit  # noqa: E402,F401
from models.user import LoginSession, User, UserRole  # noqa: E402,F401
from models.audit import AuditEvent  # noqa: E402,F401
from models.numbering import NumberCounter  # noqa: E402,F401
from models.complaint import (Assignment, Attribution, Category, Complaint, ConcealmentReview, ComplaintEvent, CustomerLink, CorrectiveAction,  # noqa: E402,F401
                              CustomerContact, Notification, Penalty, PenaltyEvent, StageCount)
from models.attachment import Attachment  # noqa: E402,F401
from models.reply import ReplyTemplate  # noqa: E402,F401
from models.setting import Setting  # noqa: E402,F401
from models.calendar import CalendarDay  # noqa: E402,F401
from models.sla import Outbox, SlaClock  # noqa: E402,F401
from models.report import ExportJob, HalfYearReport, MonthlyReport, OrderVolume  # noqa: E402,F401
from models.meeting import Meeting, MeetingAddendum, MeetingAttendee, MeetingEvent, MeetingItem, MeetingSignature  # noqa: E402,F401


# SQLite: enforce foreign keys, wait for a writer instead of failing at once, and use WAL so
# readers don't block the writer. PostgreSQL needs nothing here.
from sqlalchemy import event  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record):
    import sqlite3

    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()
