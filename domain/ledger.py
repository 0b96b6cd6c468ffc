"""The accountability ledger (SPEC §5, 首问负责制 / 谁受理谁负责): for a period, per person (the
first responder), per store or per branch — received, open, closed, closed within the limit,
overdue now, median days to close, average satisfaction, repeat complaints, and complaints left
idle at the store (束之高阁, seed 001 五.2: still waiting for dispatch after IDLE_HOURS).

Set-based: one statement counts everything per group (conditional aggregates; the clocks are
looked up only for the rows that need them), one more gives the medians (PostgreSQL: the middle
values by percentile_disc; SQLite: one ordered LIMIT/OFFSET read per group), one names the rows.
Written for an index on complaint (first_responder_id, created_at, type, stage, closed_at,
satisfaction, repeat_of_id, receiving_unit_id): a month of a person's complaints is then read from
the index alone, already grouped (bench/ledger.py). Scope: a store or branch head sees the units
they cover; quality and the manager see everything.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import and_, case, exists, func, select, text
from sqlalchemy.orm import aliased

from domain.errors import N_
from domain.scoping import covered_unit_ids
from domain.stages import Stage
from models.complaint import Complaint
from models.org import OrgUnit
from models.sla import SlaClock
from models.user import User

IDLE_HOURS = 48
BY_LABELS = {"person": N_("按人员"), "store": N_("按门店"), "branch": N_("按分公司")}
COLUMN_LABELS = {"received": N_("受理"), "open": N_("未结"), "closed": N_("已结"), "closed_in_time": N_("按时结案"),
                 "overdue": N_("当前超时"), "median_days": N_("结案中位天数"), "satisfaction": N_("平均满意度"),
                 "repeats": N_("二次投诉"), "idle": N_("束之高阁")}
BY = tuple(BY_LABELS)
COLUMNS = tuple(COLUMN_LABELS)


def last_full_month(today: date) -> tuple[date, date]:
    """The ledger's default period: the calendar month before the one `today` is in (its first
    and last day) — this month's first days would show next to nothing."""
    last = today.replace(day=1) - timedelta(days=1)
    return last.replace(day=1), last


@dataclass
class Row:
    key: int
    name: str
    unit: str
    received: int
    open: int
    closed: int
    closed_in_time: int
    overdue: int
    median_days: float | None
    satisfaction: float | None
    repeats: int
    idle: int

    @property
    def in_time_rate(self) -> float | None:
        return self.closed_in_time / self.closed if self.closed else None


def _group(by):
    """(group key expression, joins) for `by`."""
    c = Complaint.__table__.c
    if by == "person":
        return c.first_responder_id, []
    unit = aliased(OrgUnit, name="recv_unit")
    if by == "store":   # stores only (complaints received at head office or a branch office are not a store's)
        return c.receiving_unit_id, [(unit, and_(unit.id == c.receiving_unit_id, unit.kind == "store"))]
    # branch: the receiving unit's parent when it is a store, the unit itself when a branch
    # (complaints received at a department, e.g. the call centre, belong to no branch)
    return case((unit.kind == "store", unit.parent_id), else_=unit.id), [
        (unit, and_(unit.id == c.receiving_unit_id, unit.kind.in_(("store", "branch"))))]


def _base(scope, by, date_from, date_to):
    """The complaints a ledger counts — received in [date_from, date_to), of type complaint, in
    `scope` (_scope) — as a select without columns yet, and the group key."""
    c = Complaint.__table__.c
    key, joins = _group(by)
    query = select().select_from(Complaint.__table__)
    for target, on in joins:
        query = query.join(target, on)
    query = query.where(c.created_at >= date_from, c.created_at < date_to, c.type == "complaint")
    # Every first responder is a user: walking the users' ids lets the database read the index on
    # (first_responder_id, created_at …) one person at a time — by person already grouped, instead
    # of sorting the month's complaints to group them; by store or branch from the index alone.
    query = query.where(c.first_responder_id.in_(select(User.id).scalar_subquery()))
    if scope is not None:
        units, user_id = scope
        query = query.where(c.receiving_unit_id.in_(units) | (c.first_responder_id == user_id))
    return query, key


def _scope(session, user):
    """None: all complaints (quality, the manager; user None: the half-year summary's company-wide
    view); else (the units `user` covers, their id): complaints received there or by them."""
    units = covered_unit_ids(session, user) if user is not None else None
    return None if units is None else (units, user.id)


def ledger(session, user, by: str, date_from: datetime, date_to: datetime, now: datetime,
           idle_hours: int = IDLE_HOURS) -> list[Row]:
    """One row per person / store / branch with complaints received in [date_from, date_to)."""
    if by not in BY:
        raise ValueError(by)
    c = Complaint.__table__.c
    scope = _scope(session, user)
    base, key = _base(scope, by, date_from, date_to)
    is_open = c.stage != Stage.CLOSED
    postgres = session.get_bind().dialect.name == "postgresql"

    def count(cond, then=None):
        """How many rows meet `cond` (and `then`, looked at only for those rows: CASE decides in
        order on both databases)."""
        return func.count(case((cond, case((then, 1)) if then is not None else 1)))

    clocks = _clocks(session, base, now, date_from, date_to, postgres)
    if clocks is None:
        return []
    in_time, overdue, query = clocks
    query = query.add_columns(
        key.label("key"), func.count().label("received"), count(is_open).label("open"),
        func.count(c.closed_at).label("closed"), count(c.closed_at.is_not(None), in_time).label("closed_in_time"),
        count(is_open, overdue).label("overdue"),
        func.avg(c.satisfaction).label("satisfaction"), func.count(c.repeat_of_id).label("repeats"),
        count(and_(c.stage == Stage.NEW, c.created_at <= now - timedelta(hours=idle_hours))).label("idle")
    ).group_by(key)
    if postgres:
        # The plan's estimated cost passes jit_above_cost, and compiling it takes several times
        # longer than running it (≈ 0.4 s at a million complaints): no JIT for this transaction.
        session.execute(text("SET LOCAL jit = off"))
    rows = [r for r in session.execute(query).all() if r.key is not None]
    medians = _medians(session, scope, by, date_from, date_to, {r.key: r.closed for r in rows if r.closed})
    names = names_of(session, by, [r.key for r in rows])
    return [Row(r.key, *names.get(r.key, ("—", "")), r.received, r.open, r.closed, r.closed_in_time, r.overdue,
                medians.get(r.key), round(float(r.satisfaction), 2) if r.satisfaction is not None else None,
                r.repeats, r.idle) for r in rows]


def _clocks(session, query, now, date_from, date_to, postgres: bool):
    """(closed in time, overdue now, the query with what they need) for a complaint row: its close
    clock stopped by the deadline; a running, unpaused clock of it past its deadline.

    SQLite runs nested loops: a correlated EXISTS per row, asked only for the rows that need it
    (closed ones, open ones). PostgreSQL would run those as one subplan per row; it joins instead
    — the close clocks (at most one per complaint) and the set of complaints with an overdue
    clock — both read only within the month's range of complaint ids (asked first, so that the
    planner knows how many clocks that is), so that hash joins read a month of clocks, not all.
    None when nothing at all was received in the period."""
    c = Complaint.__table__.c
    close = SlaClock.__table__.alias("close_clock")
    running = SlaClock.__table__.alias("running_clock")
    late = and_(running.c.stopped_at.is_(None), running.c.paused_at.is_(None), running.c.deadline <= now)
    if not postgres:
        return (exists().where(close.c.complaint_id == c.id, close.c.kind == "close",
                               close.c.stopped_at <= close.c.deadline),
                exists().where(running.c.complaint_id == c.id, late), query)
    # (count(*) keeps PostgreSQL from answering min and max by walking the primary key)
    lo, hi, n = session.execute(select(func.min(c.id), func.max(c.id), func.count()).where(
        c.created_at >= date_from, c.created_at < date_to)).one()
    if not n:
        return None                    # nothing received in the period
    late_ids = select(running.c.complaint_id).where(late, running.c.complaint_id.between(lo, hi)) \
        .distinct().subquery("late")
    query = query.outerjoin(close, and_(close.c.complaint_id == c.id, close.c.kind == "close",
                                        close.c.complaint_id.between(lo, hi))) \
        .outerjoin(late_ids, late_ids.c.complaint_id == c.id)
    return close.c.stopped_at <= close.c.deadline, late_ids.c.complaint_id.is_not(None), query


def _days(session):
    c = Complaint.__table__.c
    if session.get_bind().dialect.name == "sqlite":
        return func.julianday(c.closed_at) - func.julianday(c.created_at)
    return func.extract("epoch", c.closed_at - c.created_at) / 86400.0


def _medians(session, scope, by, date_from, date_to, closed: dict) -> dict:
    """Median days from registration to closure per group ({key: closed complaints} says which
    groups have any, and how many): the middle value, or the mean of the two middle values.

    PostgreSQL: one statement, the lower and the upper middle value by percentile_disc (the
    same values, so the same mean, as sorting each group and taking its middle rows). SQLite has
    no percentile: one small statement per group reads that group's closed complaints ordered by
    their days and keeps the middle one or two (ORDER BY … LIMIT … OFFSET)."""
    if not closed:
        return {}
    c = Complaint.__table__.c
    days = _days(session)
    base, key = _base(scope, by, date_from, date_to)
    base = base.where(c.closed_at.is_not(None))
    if session.get_bind().dialect.name == "postgresql":
        middle = (func.percentile_disc(0.5).within_group(days) +
                  func.percentile_disc(0.5).within_group(days.desc())) / 2
        query = base.add_columns(key.label("key"), middle.label("median")).group_by(key)
        return {k: round(float(v), 1) for k, v in session.execute(query).all() if k in closed}
    out = {}
    for k, n in closed.items():
        middle = base.add_columns(days.label("days")).where(_is_key(by, key, k)) \
            .order_by(days).limit(2 - n % 2).offset((n - 1) // 2).subquery()
        value = session.scalar(select(func.avg(middle.c.days)))
        if value is not None:
            out[k] = round(float(value), 1)
    return out


def _is_key(by, key, k):
    """The group `k`, said so that an index can find its complaints: a branch is its office
    and its stores (receiving units), as the branch key says."""
    if by != "branch":
        return key == k
    c = Complaint.__table__.c
    members = select(OrgUnit.id).where(((OrgUnit.id == k) & (OrgUnit.kind == "branch")) |
                                       ((OrgUnit.parent_id == k) & (OrgUnit.kind == "store")))
    return c.receiving_unit_id.in_(members.scalar_subquery())


def names_of(session, by, keys) -> dict[int, tuple[str, str]]:
    """{id: (name, what it belongs to)}: a person's unit, or a unit's parent (by == "person": users)."""
    keys = [k for k in keys if k is not None]
    if not keys:
        return {}
    if by == "person":
        rows = session.execute(select(User.id, User.display_name, OrgUnit.name).join(OrgUnit)
                               .where(User.id.in_(keys))).all()
        return {i: (n, u) for i, n, u in rows}
    parent = aliased(OrgUnit)
    rows = session.execute(select(OrgUnit.id, OrgUnit.name, parent.name).outerjoin(parent, parent.id == OrgUnit.parent_id)
                           .where(OrgUnit.id.in_(keys))).all()
    return {i: (n, p or "") for i, n, p in rows}


def sort(rows: list[Row], column: str, descending: bool = True) -> list[Row]:
    if column not in COLUMNS and column != "name":
        column = "received"
    missing = float("-inf") if descending else float("inf")
    return sorted(rows, key=lambda r: (getattr(r, column) if getattr(r, column) is not None else missing),
                  reverse=descending)
