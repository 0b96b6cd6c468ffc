"""The accountability ledger (SPEC §5, 首问负责制 / 谁受理谁负责): for a period, per person (the
first responder), per store or per branch — received, open, closed, closed within the limit,
overdue now, median days to close, average satisfaction, repeat complaints, and complaints left
idle at the store (束之高阁, seed 001 五.2: still waiting for dispatch after IDLE_HOURS).

Two set-based statements: one with conditional aggregates per group, one with window functions
for the medians. Scope: a store or branch head sees the units they cover; quality and the
manager see everything.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import and_, case, exists, func, select
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


def ledger(session, user, by: str, date_from: datetime, date_to: datetime, now: datetime,
           idle_hours: int = IDLE_HOURS) -> list[Row]:
    """One row per person / store / branch with complaints received in [date_from, date_to)."""
    if by not in BY:
        raise ValueError(by)
    c = Complaint.__table__.c
    key, joins = _group(by)
    close = SlaClock.__table__.alias("close_clock")
    running = SlaClock.__table__.alias("running_clock")
    overdue = exists().where(running.c.complaint_id == c.id, running.c.stopped_at.is_(None),
                             running.c.paused_at.is_(None), running.c.deadline <= now)
    is_open = c.stage != Stage.CLOSED

    def count(cond):
        return func.coalesce(func.sum(case((cond, 1), else_=0)), 0)

    query = (select(key.label("key"), func.count().label("received"), count(is_open).label("open"),
                    count(c.closed_at.is_not(None)).label("closed"),
                    count(and_(c.closed_at.is_not(None), close.c.stopped_at.is_not(None),
                               close.c.stopped_at <= close.c.deadline)).label("closed_in_time"),
                    count(and_(is_open, overdue)).label("overdue"),
                    func.avg(c.satisfaction).label("satisfaction"),
                    count(c.repeat_of_id.is_not(None)).label("repeats"),
                    count(and_(c.stage == Stage.NEW, c.created_at <= now - timedelta(hours=idle_hours))).label("idle"))
             .select_from(Complaint.__table__)
             .outerjoin(close, and_(close.c.complaint_id == c.id, close.c.kind == "close")))
    for target, on in joins:
        query = query.join(target, on)
    query = _scoped(session, user, query.where(c.created_at >= date_from, c.created_at < date_to,
                                               c.type == "complaint")).group_by(key)
    rows = session.execute(query).all()
    medians = _medians(session, user, key, joins, date_from, date_to)
    names = names_of(session, by, [r.key for r in rows])
    out = [Row(r.key, *names.get(r.key, ("—", "")), r.received, r.open, r.closed, r.closed_in_time, r.overdue,
               medians.get(r.key), round(float(r.satisfaction), 2) if r.satisfaction is not None else None,
               r.repeats, r.idle) for r in rows if r.key is not None]
    return out


def _scoped(session, user, query):
    """`user`'s complaints; None (the half-year summary's company-wide view): all of them."""
    units = covered_unit_ids(session, user) if user is not None else None
    if units is None:
        return query
    c = Complaint.__table__.c
    return query.where((c.receiving_unit_id.in_(units)) | (c.first_responder_id == user.id))


def _medians(session, user, key, joins, date_from, date_to) -> dict:
    """Median days from registration to closure per group: window functions, both databases."""
    c = Complaint.__table__.c
    days = (func.julianday(c.closed_at) - func.julianday(c.created_at)) \
        if session.get_bind().dialect.name == "sqlite" else \
        func.extract("epoch", c.closed_at - c.created_at) / 86400.0
    inner = select(key.label("key"), days.label("days"),
                   func.row_number().over(partition_by=key, order_by=days).label("n"),
                   func.count().over(partition_by=key).label("total")).select_from(Complaint.__table__)
    for target, on in joins:
        inner = inner.join(target, on)
    inner = _scoped(session, user, inner.where(c.created_at >= date_from, c.created_at < date_to,
                                               c.type == "complaint", c.closed_at.is_not(None))).subquery()
    # the middle row, or the two middle rows of an even count
    twice = inner.c.n * 2
    middle = select(inner.c.key, func.avg(inner.c.days)).where(
        (twice == inner.c.total + 1) | (twice == inner.c.total) | (twice == inner.c.total + 2)).group_by(inner.c.key)
    return {k: round(float(v), 1) for k, v in session.execute(middle).all()}


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
