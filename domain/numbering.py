"""Complaint numbers TS-YYYYMM-NNNN (SPEC §2, seed 001 "年度+月份+流水编号").

The serial restarts each month in the company time zone. It is gapless and unique under
concurrent submissions: the month's counter row is incremented with one UPDATE inside the same
transaction that inserts the complaint, so the row stays locked until that transaction ends
(PostgreSQL row lock; SQLite's single writer). A rolled-back submission rolls its number back
too. Never max()+1.
"""
from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import update

from models.numbering import NumberCounter

PREFIX = "TS"


def period_of(now: datetime, tz: ZoneInfo, prefix: str = PREFIX) -> str:
    return f"{prefix}-{now.astimezone(tz):%Y%m}"


def format_number(period: str, serial: int) -> str:
    return f"{period}-{serial:04d}"


def allocate(session, now: datetime, tz: ZoneInfo, prefix: str = PREFIX) -> str:
    """The next number of `now`'s month. Call it inside the transaction that stores the
    complaint, and commit or roll back both together."""
    period = period_of(now, tz, prefix)
    from models import upsert_insert
    insert = upsert_insert(session)
    session.execute(insert(NumberCounter).values(period=period, last=0)
                    .on_conflict_do_nothing(index_elements=["period"]))
    serial = session.execute(
        update(NumberCounter).where(NumberCounter.period == period)
        .values(last=NumberCounter.last + 1).returning(NumberCounter.last)
    ).scalar_one()
    return format_number(period, serial)


NUMBER_RE = re.compile(r"^[A-Z]{1,6}-\d{6}-\d{4,8}$")
NUMBER_PARTS_RE = re.compile(r"^([A-Z]{1,6})?-?(\d{6})-?(\d{4,8})$")


def normalise(value: str | None) -> str:
    """What the customer typed as the number: full-width forms, spaces, case, missing dashes and a
    missing prefix forgiven ("ts 202612 0013", "202612-0013" → "TS-202612-0013")."""
    value = unicodedata.normalize("NFKC", value or "").strip().upper()
    value = re.sub(r"[\s—_]+", "-", value)
    parts = NUMBER_PARTS_RE.match(value.replace("--", "-"))
    if parts:
        return f"{parts.group(1) or PREFIX}-{parts.group(2)}-{parts.group(3)}"
    return value[:24]
