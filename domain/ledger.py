"""The accountability ledger (SPEC §5, 首问负责制 / 谁受理谁负责): for a period, per person (the
first responder), per store or per branch — received, open, closed, closed within the limit,
overdue now, median days to close, average satisfaction, repeat complaints, and complaints left
idle at the store (束之高阁, seed 001 五.2: still waiting for dispatch after IDLE_HOURS).

Read from what is kept as complaints change (issue 17: a month at 1,000,000 complaints within
50 ms), never from the clocks at read time:
- on each complaint (kept by domain.clocks and workflow.act): whether its close clock stopped by
  its deadline (close_in_time), the earliest deadline of its running, unpaused clocks
  (ticking_deadline) and its whole days from registration to closing (days_to_close);
- LedgerDay: per company-time day of registration, first responder, receiving unit and whole days
  to close, how many were received, are open, closed in time, repeats, and the satisfaction sum —
  `track` moves a complaint's contribution when an action changes it; `rebuild` counts it all
  again in a few set-based statements (the migration's backfill, bench/scale.py's bulk load).
A period's whole days come from LedgerDay, the parts of days at its ends from the complaints;
"overdue now" and "idle" (they depend on the moment) from the period's open complaints (a partial
index); a median from the days-to-close histogram, refined with the exact times of the one or two
whole days its middle falls in. Scope: a store or branch head sees the units they cover (and
what they received themselves); quality and the manager see everything.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import Integer, and_, case, delete, func, insert, literal_column, select, text, update
from sqlalchemy.orm import aliased

from domain.errors import N_
from domain.scoping import covered_unit_ids
from domain.stages import Stage
from models.complaint import Complaint, LedgerDay
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
NOT_CLOSED = -1          # LedgerDay.days_to_close of complaints not closed
COUNTS = ("received", "open", "closed_in_time", "repeats", "satisfaction_sum", "satisfaction_n")


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


# --- what one complaint counts for, kept as it changes ----------------------------------------------

def _tz():
    from domain.settings import company_tz
    return company_tz()


def days_to_close(complaint) -> int | None:
    if complaint.closed_at is None:
        return None
    return max(0, int((complaint.closed_at - complaint.created_at).total_seconds() // 86400))


def contribution(complaint) -> tuple | None:
    """(LedgerDay key, counts) of a complaint as it stands (None: not a complaint)."""
    if complaint.type != "complaint":
        return None
    closed = complaint.closed_at is not None
    key = (complaint.created_at.astimezone(_tz()).date(), complaint.first_responder_id, complaint.receiving_unit_id,
           days_to_close(complaint) if closed else NOT_CLOSED)
    score = complaint.satisfaction
    return key, (1, int(complaint.stage != Stage.CLOSED), int(closed and complaint.close_in_time is True),
                 int(complaint.repeat_of_id is not None), score or 0, int(score is not None))


def track(session, complaint, before: tuple | None) -> None:
    """After a change to `complaint` (its contribution before it: `before`), keep its days to close
    and its LedgerDay counts right. workflow.act calls this after every action, intake (through
    domain.clocks) after registering."""
    complaint.days_to_close = days_to_close(complaint) if complaint.type == "complaint" else None
    after = contribution(complaint)
    if after == before:
        return
    from models import upsert_insert
    upsert = upsert_insert(session)
    # in the order of their keys, so that two transactions moving complaints between the same two
    # rows lock them in the same order (no deadlock)
    for change, sign in sorted(((before, -1), (after, 1)), key=lambda pair: pair[0][0] if pair[0] else ()):
        if change is None:
            continue
        (day, person, unit, days), counts = change
        where = dict(day=day, first_responder_id=person, receiving_unit_id=unit, days_to_close=days)
        session.execute(upsert(LedgerDay).values(**where, **dict.fromkeys(COUNTS, 0))
                        .on_conflict_do_nothing(index_elements=list(where)))
        t = LedgerDay.__table__.c
        session.execute(update(LedgerDay.__table__).where(*(t[k] == v for k, v in where.items()))
                        .values({t[k]: t[k] + sign * n for k, n in zip(COUNTS, counts)}))


def _local_day(session, column):
    """SQL: the company-time date of a naive-UTC timestamp column. SQLite knows no time zones:
    the company's offset now (Asia/Shanghai has had no daylight saving since 1991)."""
    tz = _tz()
    if session.get_bind().dialect.name == "postgresql":
        return func.date(func.timezone(tz.key, func.timezone("UTC", column)))
    offset = int(datetime.now(tz).utcoffset().total_seconds())
    return func.date(column, f"{offset:+d} seconds")


def _days_sql(session, c):
    """SQL: whole days from registration to closing (at least 0), exactly as days_to_close counts
    them (to the microsecond: SQLite stores …HH:MM:SS.ffffff, or no fraction when it is 0)."""
    if session.get_bind().dialect.name == "postgresql":
        whole = func.floor(func.extract("epoch", c.closed_at - c.created_at) / 86400)
        return case((c.closed_at.is_(None), None), else_=func.greatest(0, func.cast(whole, Integer)))

    micro = "(strftime('%s', complaint.{0}) * 1000000 + CAST(substr(complaint.{0}, 21, 6) AS INTEGER))"
    return case((c.closed_at.is_(None), None), else_=literal_column(
        f"max(0, ({micro.format('closed_at')} - {micro.format('created_at')}) / 86400000000)", Integer))


def rebuild(session) -> None:
    """Every kept value counted again from the complaints and their clocks (set-based): the
    migration's backfill does the same, bench/scale.py calls this after its bulk load."""
    c, k = Complaint.__table__.c, SlaClock.__table__.c
    close = select(k.stopped_at <= k.deadline).where(k.complaint_id == c.id, k.kind == "close",
                                                     k.stopped_at.is_not(None)).scalar_subquery()
    ticking = select(func.min(k.deadline)).where(k.complaint_id == c.id, k.stopped_at.is_(None),
                                                 k.paused_at.is_(None)).scalar_subquery()
    session.execute(update(Complaint.__table__).values(
        close_in_time=close, ticking_deadline=ticking,
        days_to_close=case((c.type == "complaint", _days_sql(session, c)))))
    session.execute(delete(LedgerDay.__table__))
    day, days = _local_day(session, c.created_at), func.coalesce(c.days_to_close, NOT_CLOSED)
    n = lambda cond: func.count(case((cond, 1)))  # noqa: E731
    query = select(day, c.first_responder_id, c.receiving_unit_id, days, func.count(),
                   n(c.stage != Stage.CLOSED), n(and_(c.closed_at.is_not(None), c.close_in_time.is_(True))),
                   func.count(c.repeat_of_id), func.coalesce(func.sum(c.satisfaction), 0), func.count(c.satisfaction)) \
        .where(c.type == "complaint").group_by(day, c.first_responder_id, c.receiving_unit_id, days)
    session.execute(insert(LedgerDay.__table__).from_select(
        ["day", "first_responder_id", "receiving_unit_id", "days_to_close", *COUNTS], query))
    session.expire_all()


# --- reading it -----------------------------------------------------------------------------------------

def _group(by, c):
    """(group key expression, joins) for `by` over a table with first_responder_id and receiving_unit_id."""
    if by == "person":
        return c.first_responder_id, []
    unit = aliased(OrgUnit, name="recv_unit")
    if by == "store":   # stores only (complaints received at head office or a branch office are not a store's)
        return c.receiving_unit_id, [(unit, and_(unit.id == c.receiving_unit_id, unit.kind == "store"))]
    # branch: the receiving unit's parent when it is a store, the unit itself when a branch
    # (complaints received at a department, e.g. the call centre, belong to no branch)
    return case((unit.kind == "store", unit.parent_id), else_=unit.id), [
        (unit, and_(unit.id == c.receiving_unit_id, unit.kind.in_(("store", "branch"))))]


def _select(table, by, scope, *columns):
    """select(key, *columns) from `table` grouped `by`, within `scope`, and the key."""
    c = table.c
    key, joins = _group(by, c)
    query = select(key.label("key"), *columns).select_from(table)
    for target, on in joins:
        query = query.join(target, on)
    if scope is not None:
        units, user_id = scope
        query = query.where(c.receiving_unit_id.in_(units) | (c.first_responder_id == user_id))
    return query, key


def _complaints(by, scope, date_from, date_to, *columns):
    """The complaints a ledger counts — received in [date_from, date_to), of type complaint, in
    `scope` — as select(key, *columns), and the key."""
    c = Complaint.__table__.c
    query, key = _select(Complaint.__table__, by, scope, *columns)
    # Every first responder is a user: walking the users' ids lets the database read the ledger's
    # indexes on (first_responder_id, …) one person at a time.
    return query.where(c.created_at >= date_from, c.created_at < date_to, c.type == "complaint",
                       c.first_responder_id.in_(select(User.id).scalar_subquery())), key


def _scope(session, user):
    """None: all complaints (quality, the manager; user None: the half-year summary's company-wide
    view); else (the units `user` covers, their id): complaints received there or by them."""
    units = covered_unit_ids(session, user) if user is not None else None
    return None if units is None else (units, user.id)


def _whole_days(date_from: datetime, date_to: datetime):
    """The company-time days wholly inside [date_from, date_to): (first, end) dates and their
    bounds in time, or None."""
    tz = _tz()
    first = date_from.astimezone(tz).date()
    if datetime.combine(first, time.min, tz) < date_from:
        first += timedelta(days=1)
    end = date_to.astimezone(tz).date()
    if first >= end:
        return None
    return first, end, datetime.combine(first, time.min, tz), datetime.combine(end, time.min, tz)


def ledger(session, user, by: str, date_from: datetime, date_to: datetime, now: datetime,
           idle_hours: int = IDLE_HOURS) -> list[Row]:
    """One row per person / store / branch with complaints received in [date_from, date_to)."""
    if by not in BY:
        raise ValueError(by)
    scope = _scope(session, user)
    if session.get_bind().dialect.name == "postgresql":
        # The plan's estimated cost can pass jit_above_cost; compiling takes longer than running.
        session.execute(text("SET LOCAL jit = off"))
    counts = _counts(session, by, scope, date_from, date_to)      # key → [counts…, {days: n}]
    if not counts:
        return []
    live = _open_now(session, by, scope, date_from, date_to, now, idle_hours)
    medians = _medians(session, by, scope, date_from, date_to, counts)
    names = names_of(session, by, list(counts))
    rows = []
    for k, (received, is_open, in_time, repeats, score_sum, scored, histogram) in counts.items():
        if not received:
            continue
        overdue, idle = live.get(k, (0, 0))
        rows.append(Row(k, *names.get(k, ("—", "")), received, is_open, sum(histogram.values()), in_time, overdue,
                        medians.get(k), round(score_sum / scored, 2) if scored else None, repeats, idle))
    return rows


def _open_now(session, by, scope, date_from, date_to, now, idle_hours) -> dict:
    """key → (overdue now, idle): the period's open complaints with a clock past its deadline, and
    those still waiting for dispatch after idle_hours — read per first responder and receiving unit
    from the partial index of open complaints, then grouped here (a join to the units would lead
    SQLite to another index and the table)."""
    c = Complaint.__table__.c
    query = select(c.first_responder_id, c.receiving_unit_id, func.count(case((c.ticking_deadline <= now, 1))),
                   func.count(case((and_(c.stage == Stage.NEW, c.created_at <= now - timedelta(hours=idle_hours)), 1))))
    query = query.where(c.created_at >= date_from, c.created_at < date_to, c.type == "complaint",
                        c.stage != literal_column("'closed'"),   # as the index says, literally
                        c.first_responder_id.in_(select(User.id).scalar_subquery()))
    if scope is not None:
        units, user_id = scope
        query = query.where(c.receiving_unit_id.in_(units) | (c.first_responder_id == user_id))
    rows = session.execute(query.group_by(c.first_responder_id, c.receiving_unit_id)).all()
    if by != "person":
        kinds = {i: (kind, parent) for i, kind, parent in session.execute(
            select(OrgUnit.id, OrgUnit.kind, OrgUnit.parent_id).where(OrgUnit.id.in_({r[1] for r in rows})))}
    out = {}
    for person, unit, overdue, idle in rows:
        if by == "person":
            k = person
        else:
            kind, parent = kinds.get(unit, (None, None))
            k = unit if kind == "store" and by == "store" else \
                (parent if kind == "store" else unit if kind == "branch" else None) if by == "branch" else None
        if k is not None:
            was = out.get(k, (0, 0))
            out[k] = (was[0] + overdue, was[1] + idle)
    return out


def _counts(session, by, scope, date_from, date_to) -> dict:
    """key → [received, open, closed in time, repeats, satisfaction sum, rated, {days to close: n}]:
    the whole days from LedgerDay, the rest from the complaints, added up."""
    c, d = Complaint.__table__.c, LedgerDay.__table__.c
    parts, edges = [], [(date_from, date_to)]
    whole = _whole_days(date_from, date_to)
    if whole is not None:
        first, end, start_at, end_at = whole
        query, key = _select(LedgerDay.__table__, by, scope, d.days_to_close,
                             *(func.sum(d[name]) for name in COUNTS))
        parts.append(query.where(d.day >= first, d.day < end).group_by(key, d.days_to_close))
        edges = [(date_from, start_at), (end_at, date_to)]
    days = func.coalesce(c.days_to_close, NOT_CLOSED)
    n = lambda cond: func.count(case((cond, 1)))  # noqa: E731
    for lo, hi in edges:
        if lo < hi:
            query, key = _complaints(by, scope, lo, hi, days, func.count(), n(c.stage != Stage.CLOSED),
                                     n(and_(c.closed_at.is_not(None), c.close_in_time.is_(True))),
                                     func.count(c.repeat_of_id), func.coalesce(func.sum(c.satisfaction), 0),
                                     func.count(c.satisfaction))
            parts.append(query.group_by(key, days))
    out = {}
    for part in parts:
        for k, days_to_close, *figures in session.execute(part).all():
            if k is None:
                continue
            row = out.setdefault(k, [0] * len(COUNTS) + [{}])
            for i, value in enumerate(figures):
                row[i] += int(value or 0)
            if days_to_close != NOT_CLOSED and figures[0]:
                row[-1][days_to_close] = row[-1].get(days_to_close, 0) + int(figures[0])
    return out


def _exact_days(session):
    c = Complaint.__table__.c
    if session.get_bind().dialect.name == "sqlite":
        return func.julianday(c.closed_at) - func.julianday(c.created_at)
    return func.extract("epoch", c.closed_at - c.created_at) / 86400.0


def _medians(session, by, scope, date_from, date_to, counts: dict) -> dict:
    """Median days from registration to closure per group: the middle value, or the mean of the two
    middle values. The histogram of whole days says which one or two whole days they fall in and
    how many closed complaints come before; one read of the exact times of just those (an index on
    first responder, days to close, registration) gives the values."""
    c = Complaint.__table__.c
    wanted = {}
    for k, row in counts.items():
        histogram = row[-1]
        n = sum(histogram.values())
        if not n:
            continue
        low, high = (n - 1) // 2, n // 2            # the middle positions, counted from 0
        below, first, before_first = 0, None, 0
        for whole in sorted(histogram):
            if first is None and low < below + histogram[whole]:
                first, before_first = whole, below
            if high < below + histogram[whole]:
                wanted[k] = (first, whole, (low - before_first, high - before_first))
                break
            below += histogram[whole]
    if not wanted:
        return {}
    query, key = _complaints(by, scope, date_from, date_to, _exact_days(session))
    query = query.where(c.days_to_close.is_not(None))
    out = {}
    for k, (lo, hi, (a, b)) in wanted.items():
        # days IN (…) rather than BETWEEN: the index then seeks each whole day's registrations in the period
        got = sorted(float(v) for _k, v in session.execute(
            query.where(_is_key(by, key, k), c.days_to_close.in_(list(range(lo, hi + 1))))).all())
        if b < len(got):
            out[k] = round((got[a] + got[b]) / 2, 1)
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
