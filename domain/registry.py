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

from domain import privacy
from domain.intake import normalise_phone
from domain.scoping import visible_complaints
from models.complaint import Category, Complaint

PAGE_SIZE = 25
COUNT_CAP = 1000
NUMBER_RE = re.compile(r"^TS-?\d{0,6}(-\d{0,6})?$", re.I)
DENSE = 2000   # a name prefix matching more rows than this is searched newest-first instead
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


def _prefix(column, text):
    """`column` starts with `text`: a range the column's index can serve on both databases,
    plus LIKE to be exact whatever the collation."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return (column >= text) & (column < text + "\U0010ffff") & column.like(escaped + "%", escape="\\")


def search_condition(q: str, dense: bool = False, unmasked=None):
    """Number, phone, customer name or product, by what the text looks like.

    `dense`: the name prefix is common (a surname): let the newest-first index drive the query
    and test names row by row, instead of sorting every match (SQLite; PostgreSQL's planner
    weighs this itself).
    `unmasked`: privacy.unmasked_condition(user) — where it does not hold, the user sees the
    phone masked and a phone matches on the whole number only, never on a prefix."""
    q = q.strip()
    if NUMBER_RE.match(q):
        q = q.upper()
        if re.fullmatch(r"TS-\d{6}-\d{4,6}", q):
            return Complaint.number == q
        return _prefix(Complaint.number, q if q.startswith("TS-") or q == "TS" else "TS-" + q[2:])
    if PHONE_START_RE.match(q):
        phone = normalise_phone(q.replace("-", "")) or q
        prefix = _prefix(Complaint.customer_phone, phone) | _prefix(Complaint.customer_phone, q)
        if unmasked is None:
            return prefix
        # the prefix range still drives the index; the whole number is a match within it
        return prefix & (unmasked | (Complaint.customer_phone == phone) | (Complaint.customer_phone == q))
    if dense:
        escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        return (Complaint.customer_name.concat("").like(escaped, escape="\\")
                | Complaint.product_name.concat("").like(escaped, escape="\\"))
    return _prefix(Complaint.customer_name, q) | _prefix(Complaint.product_name, q)


def is_phone_search(q: str) -> bool:
    q = q.strip()
    return not NUMBER_RE.match(q) and bool(PHONE_START_RE.match(q))


def is_name_search(q: str) -> bool:
    q = q.strip()
    return bool(q) and not NUMBER_RE.match(q) and not PHONE_START_RE.match(q)


def _dense(session, q: str) -> bool:
    """Does this name prefix match more than DENSE complaints? (An index-only count: cheap.)"""
    if session.get_bind().dialect.name != "sqlite" or not is_name_search(q):
        return False
    hits = select(Complaint.id).where(search_condition(q)).limit(DENSE + 1).subquery()
    return session.scalar(select(func.count()).select_from(hits)) > DENSE


def local_day_bounds(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min, tz)
    return start.astimezone(timezone.utc), (start + timedelta(days=1)).astimezone(timezone.utc)


def category_ids(session, category_id: int) -> list[int]:
    """A top-level category stands for itself and its sub-categories."""
    children = session.scalars(select(Category.id).where(Category.parent_id == category_id)).all()
    return [category_id, *children]


def filtered(session, user, f: Filters, tz: ZoneInfo, dense: bool = False):
    query = visible_complaints(session, user)
    if f.q.strip():
        unmasked = privacy.unmasked_condition(session, user) if is_phone_search(f.q) else None
        query = query.where(search_condition(f.q, dense, unmasked))
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
    base = filtered(session, user, f, tz, dense=_dense(session, f.q))
    key = tuple_(Complaint.created_at, Complaint.id)
    after = decode_cursor(cursor)
    query = base.with_only_columns(*COLUMNS)
    if after:
        query = query.where(key > tuple_(*after) if f.oldest_first else key < tuple_(*after))
    order = (Complaint.created_at.asc(), Complaint.id.asc()) if f.oldest_first else \
        (Complaint.created_at.desc(), Complaint.id.desc())
    rows = session.execute(query.order_by(*order).limit(size + 1)).all()
    next_cursor = encode_cursor(rows[size - 1].created_at, rows[size - 1].id) if len(rows) > size else None
    return Page(rows[:size], next_cursor)


def count(session, user, f: Filters, tz: ZoneInfo) -> tuple[int, bool]:
    """(matches, more than that?) — counted up to COUNT_CAP, never the whole table. The list
    page asks for it separately (it is the slowest part for rare filter combinations)."""
    capped = filtered(session, user, f, tz).with_only_columns(Complaint.id).limit(COUNT_CAP + 1).subquery()
    n = session.scalar(select(func.count()).select_from(capped))
    return min(n, COUNT_CAP), n > COUNT_CAP


def earlier_by_phone(session, user, phone: str | None, limit: int = 5):
    """This customer's earlier complaints that `user` may see (duplicate/repeat detection)."""
    phone = normalise_phone(phone)
    if not phone or len(phone) < 7:
        return []
    query = visible_complaints(session, user).where(Complaint.customer_phone == phone)
    return session.scalars(query.order_by(Complaint.created_at.desc(), Complaint.id.desc()).limit(limit)).all()
