"""The complaint registry (SPEC §1, §2): one scoped, filtered, keyset-paginated query.

Pages are cut with a (created_at, id) cursor rather than OFFSET, and nothing counts the whole
table: the first page says "N" up to COUNT_CAP and "more than N" beyond, which costs at most
COUNT_CAP index entries at a million rows.

Besides the form's filters, the register understands the monthly report's drill-downs (DRILL_KEYS:
type, channel, urgency, responsible department, receiving units, product, root-cause category,
satisfaction, repeat, a clock's state, a stage left): each figure of the report links here with
the filters that select exactly the complaints it counts.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import and_, exists, func, or_, select, tuple_

from domain import privacy
from domain.intake import normalise_phone
from domain.scoping import visible_complaints
from models.complaint import Category, Complaint, ComplaintEvent
from models.sla import SlaClock

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
    # The monthly report's drill-downs (DRILL_KEYS); NONE stands for "not set" where a value may be missing.
    type: str | None = None
    channel: str | None = None
    urgency: str | None = None
    dept: int | str | None = None           # responsible department, or NONE (not dispatched)
    units: tuple[int, ...] = ()             # receiving units (a branch: itself and its stores)
    product: str | None = None              # the product name, exactly
    cause: str | None = None                # root-cause category (人机料法环测), or NONE
    satisfaction: int | str | None = None   # 1–5, or ANY (rated)
    repeat: bool = False                    # a repeat complaint (二次投诉)
    clock: str | None = None                # a clock kind …
    clock_state: str | None = None          # … in this state (CLOCK_STATES)
    passed: str | None = None               # a stage the complaint has left
    now: datetime | None = None             # for clocks overdue / still running

    def drilled(self) -> list[tuple[str, object]]:
        """The drill-down filters in use, (key, value), in DRILL_KEYS order."""
        out = []
        for key in DRILL_KEYS:
            value = getattr(self, DRILL_FIELDS.get(key, key))
            if value not in (None, "", (), False):
                out.append((key, value))
        return out


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


# --- the monthly report's drill-downs ------------------------------------------------------------

NONE, ANY = "none", "any"
DRILL_KEYS = ("type", "channel", "urgency", "dept", "units", "product", "cause", "sat", "repeat", "clock",
              "clock_state", "passed")
DRILL_FIELDS = {"sat": "satisfaction"}     # URL key → Filters field, where they differ
MAX_UNITS = 300


def clock_states(now: datetime) -> dict:
    """A clock's state as a condition on SlaClock: stopped within its deadline, stopped late,
    running past its deadline (not waiting for the customer), or still running (in time, or paused).
    The monthly report counts with these, and the register filters with them."""
    k = SlaClock.__table__.c
    overdue = and_(k.stopped_at.is_(None), k.paused_at.is_(None), k.deadline <= now)
    return {"in_time": and_(k.stopped_at.is_not(None), k.stopped_at <= k.deadline),
            "late": and_(k.stopped_at.is_not(None), k.stopped_at > k.deadline),
            "overdue": overdue,
            "running": and_(k.stopped_at.is_(None), or_(k.paused_at.is_not(None), k.deadline > now))}


CLOCK_STATES = ("in_time", "late", "overdue", "running")


def left_stage(stage: str):
    """The complaint has left `stage` at least once (an event that moved it out)."""
    e = ComplaintEvent.__table__.c
    return exists().where(e.complaint_id == Complaint.id, e.from_stage == stage, e.to_stage.is_not(None))


def drill_values(args) -> dict:
    """The drill-down filters in query `args` (a mapping), checked: an unknown value is ignored,
    as the register does with its other filters. Returns Filters keyword arguments."""
    from domain.intake import Channel, ComplaintType, Urgency
    from domain.sla import ClockKind
    from domain.stages import Stage
    from domain.workflow.choices import CAUSES

    def pick(key, allowed):
        value = (args.get(key) or "").strip()
        return value if value in allowed else None

    def number(text):
        return int(text) if text.isdigit() and 0 < int(text) < 2**31 else None

    out = {"type": pick("type", {t.value for t in ComplaintType}),
           "channel": pick("channel", {c.value for c in Channel}),
           "urgency": pick("urgency", {u.value for u in Urgency}),
           "cause": pick("cause", set(CAUSES) | {NONE}),
           "clock": pick("clock", {k.value for k in ClockKind}),
           "passed": pick("passed", {s.value for s in Stage}),
           "repeat": args.get("repeat") == "1"}
    out["clock_state"] = pick("clock_state", set(CLOCK_STATES)) if out["clock"] else None
    dept = (args.get("dept") or "").strip()
    out["dept"] = NONE if dept == NONE else number(dept)
    units = [number(u.strip()) for u in (args.get("units") or "").split(",") if u.strip()]
    out["units"] = tuple(sorted({u for u in units if u})) if units and all(units) and len(units) <= MAX_UNITS else ()
    product = (args.get("product") or "").strip()
    out["product"] = product[:120] or None
    sat = (args.get("sat") or "").strip()
    out["satisfaction"] = ANY if sat == ANY else int(sat) if sat in {"1", "2", "3", "4", "5"} else None
    return out


def drill_args(f: Filters) -> dict:
    """The drill-down filters of `f` as query arguments (the register's links and hidden fields)."""
    out = {}
    for key, value in f.drilled():
        out[key] = ",".join(str(u) for u in value) if key == "units" else "1" if value is True else str(value)
    return out


def _drilled(query, f: Filters):
    c = Complaint
    for column, value in ((c.type, f.type), (c.channel, f.channel), (c.urgency, f.urgency),
                          (c.product_name, f.product)):
        if value:
            query = query.where(column == value)
    for column, value in ((c.responsible_unit_id, f.dept), (c.cause_category, f.cause)):
        if value == NONE:
            query = query.where(column.is_(None))
        elif value:
            query = query.where(column == value)
    if f.units:
        query = query.where(c.receiving_unit_id.in_(f.units))
    if f.satisfaction == ANY:
        query = query.where(c.satisfaction.is_not(None))
    elif f.satisfaction:
        query = query.where(c.satisfaction == f.satisfaction)
    if f.repeat:
        query = query.where(c.repeat_of_id.is_not(None))
    if f.clock:
        k = SlaClock.__table__.c
        conditions = [k.complaint_id == c.id, k.kind == f.clock]
        if f.clock_state:
            conditions.append(clock_states(f.now or datetime.now(timezone.utc))[f.clock_state])
        query = query.where(exists().where(*conditions))
    if f.passed:
        query = query.where(left_stage(f.passed))
    return query


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
    return _drilled(query, f)


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
