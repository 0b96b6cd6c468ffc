"""The complaint registry (SPEC §1, §2): one scoped, filtered, keyset-paginated query.

Pages are cut with a (created_at, id) cursor rather than OFFSET, and nothing counts the whole
table: the first page says "N" up to COUNT_CAP and "more than N" beyond, which costs at most
COUNT_CAP index entries at a million rows.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, tuple_

from domain.intake import normalise_phone
from domain.scoping import visible_complaints
from models.complaint import Category, Complaint

PAGE_SIZE = 25
COUNT_CAP = 1000
NUMBER_RE = re.compile(r"^TS-?\d{0,6}(-\d{0,4})?$", re.I)
PHONE_START_RE = re.compile(r"^\+?\d{3,}[\d-]*$")


@dataclass
class Filters:
    q: str = ""
    stage: str | None = None
    category_id: int | None = None
    severity: str | None = None
    unit_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    oldest_first: bool = False
    first_responder_id: int | None = None   # "my complaints"


@dataclass
class Page:
    rows: list
    next_cursor: str | None
    count: int | None        # None when not counted (pages after the first)
    more_than_cap: bool


def _prefix(column, text):
    """`column` starts with `text`: a range the column's index can serve on both databases,
    plus LIKE to be exact whatever the collation."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return (column >= text) & (column < text + "\U0010ffff") & column.like(escaped + "%", escape="\\")


def search_condition(q: str):
    """Number, phone, customer name or product, by what the text looks like."""
    q = q.strip()
    if NUMBER_RE.match(q):
        q = q.upper()
        if re.fullmatch(r"TS-\d{6}-\d{4}", q):
            return Complaint.number == q
        return _prefix(Complaint.number, q if q.startswith("TS-") or q == "TS" else "TS-" + q[2:])
    if PHONE_START_RE.match(q):
        phone = normalise_phone(q.replace("-", "")) or q
        return _prefix(Complaint.customer_phone, phone) | _prefix(Complaint.customer_phone, q)
    return _prefix(Complaint.customer_name, q) | _prefix(Complaint.product_name, q)


def local_day_bounds(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min, tz)
    return start.astimezone(timezone.utc), (start + timedelta(days=1)).astimezone(timezone.utc)


def category_ids(session, category_id: int) -> list[int]:
    """A top-level category stands for itself and its sub-categories."""
    children = session.scalars(select(Category.id).where(Category.parent_id == category_id)).all()
    return [category_id, *children]


def filtered(session, user, f: Filters, tz: ZoneInfo):
    query = visible_complaints(session, user)
    if f.q.strip():
        query = query.where(search_condition(f.q))
    if f.stage:
        query = query.where(Complaint.stage == f.stage)
    if f.category_id:
        ids = category_ids(session, f.category_id)
        query = query.where(Complaint.category_id == ids[0] if len(ids) == 1 else Complaint.category_id.in_(ids))
    if f.severity:
        query = query.where(Complaint.severity == f.severity)
    if f.unit_id:
        query = query.where(Complaint.receiving_unit_id == f.unit_id)
    if f.first_responder_id:
        query = query.where(Complaint.first_responder_id == f.first_responder_id)
    if f.date_from:
        query = query.where(Complaint.created_at >= local_day_bounds(f.date_from, tz)[0])
    if f.date_to:
        query = query.where(Complaint.created_at < local_day_bounds(f.date_to, tz)[1])
    return query


def encode_cursor(created_at: datetime, ident: int) -> str:
    return f"{int(created_at.timestamp() * 1_000_000)}.{ident}"


def decode_cursor(cursor: str | None) -> tuple[datetime, int] | None:
    try:
        micros, ident = (int(part) for part in (cursor or "").split("."))
        if not (0 < ident < 2**31 and 0 <= micros < 10**17):
            return None
        return datetime.fromtimestamp(micros / 1_000_000, timezone.utc), ident
    except (ValueError, OverflowError, OSError):
        return None


COLUMNS = (Complaint.id, Complaint.number, Complaint.created_at, Complaint.customer_name,
           Complaint.product_name, func.substr(Complaint.content, 1, 80).label("excerpt"), Complaint.stage,
           Complaint.severity, Complaint.type, Complaint.category_id, Complaint.receiving_unit_id)


def page(session, user, f: Filters, tz: ZoneInfo, cursor: str | None = None, size: int = PAGE_SIZE) -> Page:
    base = filtered(session, user, f, tz)
    key = tuple_(Complaint.created_at, Complaint.id)
    after = decode_cursor(cursor)
    query = base.with_only_columns(*COLUMNS)
    if after:
        query = query.where(key > tuple_(*after) if f.oldest_first else key < tuple_(*after))
    order = (Complaint.created_at.asc(), Complaint.id.asc()) if f.oldest_first else \
        (Complaint.created_at.desc(), Complaint.id.desc())
    rows = session.execute(query.order_by(*order).limit(size + 1)).all()
    next_cursor = encode_cursor(rows[size - 1].created_at, rows[size - 1].id) if len(rows) > size else None
    count = more = None
    if after is None:
        capped = base.with_only_columns(Complaint.id).limit(COUNT_CAP + 1).subquery()
        count = session.scalar(select(func.count()).select_from(capped))
        more = count > COUNT_CAP
        count = min(count, COUNT_CAP)
    return Page(rows[:size], next_cursor, count, bool(more))


def earlier_by_phone(session, user, phone: str | None, limit: int = 5):
    """This customer's earlier complaints that `user` may see (duplicate/repeat detection)."""
    phone = normalise_phone(phone)
    if not phone or len(phone) < 7:
        return []
    query = visible_complaints(session, user).where(Complaint.customer_phone == phone)
    return session.scalars(query.order_by(Complaint.created_at.desc(), Complaint.id.desc()).limit(limit)).all()
