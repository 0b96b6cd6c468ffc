"""Reminders and escalation (SPEC §4.4): the minute sweep, in set-based SQL.

`sweep(session, now)` finds the running clocks whose next reminder time has passed (one range of
one partial index: `next_alert_at <= now` among running clocks), and in a handful of
INSERT … SELECT statements writes an in-app notice for every recipient of every level crossed:

    warn (75 % of the limit used)        → the current assignee
    due                                  → the assignee + their head + the first responder
    escalate (due + 25 % of the limit)   → the manager(s)

plus their e-mail copies and the department robots' messages (Outbox rows), then moves each clock
on to its next level. Every notice carries a dedupe key (clock, level, recipient) with a unique
index — the ledger: a sweep that overlaps another, or re-runs after a worker was killed mid-job,
inserts nothing twice (ON CONFLICT DO NOTHING). Everything happens in the caller's transaction;
the database is the truth and Redis only carries the delivery jobs.

A clock that crossed several levels at once (Redis was down for an hour) gets each of them, but
not the warning when it is already due.

The "current assignee" is whoever's queue the complaint sits in (domain.queues): quality for
new and verifying complaints, the named investigator (else the responsible department's heads)
while it is investigated or carried out (or, an inquiry transferred to the department, to be
answered), the approver while it waits for approval, and the first responder for the follow-up.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import String, and_, case, cast, exists, func, literal, literal_column, or_, select, true, union, update
from sqlalchemy.orm import aliased

from domain import notify
from domain.roles import Role
from domain.stages import Stage
from models import UTCDateTime, upsert_insert
from models.complaint import Complaint, Notification
from models.org import OrgUnit
from models.sla import Outbox, SlaClock
from models.user import User, UserRole

LEVELS = {"warn": 1, "due": 2, "escalate": 3}
EMAIL = "email"
ROBOTS = ("wecom", "dingtalk", "feishu")


@dataclass
class SweepResult:
    clocks: int        # clocks moved on to a new level
    notices: int       # in-app notices written (ledger rows)
    outbox: int        # e-mail and robot messages queued


def const(text: str):
    """A constant string written into the SQL (typed for PostgreSQL's UNION and ||)."""
    assert "'" not in text
    return literal_column(f"'{text}'", String)


def _crossed(now):
    """(clock, complaint, clock kind, level) for each level crossed and not yet sent."""
    c = SlaClock.__table__.c
    due_now = and_(c.stopped_at.is_(None), c.next_alert_at <= now)

    def level(name, *where):
        return select(c.id.label("clock_id"), c.complaint_id, c.kind, const(name).label("level")).where(due_now, *where)

    return union(
        level("warn", c.alert_level < 1, c.deadline > now),
        level("due", c.alert_level < 2, c.deadline <= now),
        level("escalate", c.alert_level < 3, c.escalate_at <= now),
    ).cte("crossed")


def _active(role=None):
    """Active users (with `role`)."""
    u = aliased(User, name="u_" + (role or "any"))
    query = select(u.id, u.org_unit_id, u.is_head).where(u.active.is_(True))
    if role:
        query = query.where(exists().where(UserRole.user_id == u.id, UserRole.role == role))
    return query


def _recipients(crossed):
    """A query of (clock_id, complaint_id, kind, level, user_id): everyone to remind."""
    t = Complaint.__table__.c
    k = crossed.c
    target = select(k.clock_id, k.complaint_id, k.kind, k.level, t.stage, t.investigator_id, t.responsible_unit_id,
                    t.approval_level, t.first_responder_id) \
        .join_from(crossed, Complaint.__table__, t.id == k.complaint_id).cte("target")
    x = target.c
    cols = (x.clock_id, x.complaint_id, x.kind, x.level)
    people = User.__table__.alias("people")
    quality = _active(Role.QUALITY).subquery()
    managers = _active(Role.MANAGER).subquery()
    handlers = _active(Role.HANDLER).subquery()
    alive = people.c.active.is_(True)
    # An inquiry transferred to a department (new, with a responsible unit) is the department's to
    # answer (seed 003); other new complaints are quality's to dispatch.
    transferred = and_(x.stage == Stage.NEW, x.responsible_unit_id.is_not(None))
    worked_on = or_(x.stage.in_((Stage.INVESTIGATING, Stage.EXECUTING)), transferred)
    asked = x.level.in_(("warn", "due"))

    def pick(*columns):
        return select(*cols, *columns).select_from(target)

    assignee = union(
        # new (not transferred) and verifying: the quality department
        pick(quality.c.id.label("user_id")).join(quality, true())
        .where(asked, or_(x.stage == Stage.VERIFYING, and_(x.stage == Stage.NEW, x.responsible_unit_id.is_(None)))),
        # investigated / carried out by a named investigator
        pick(people.c.id).join(people, people.c.id == x.investigator_id).where(asked, worked_on, alive),
        # … or by the department (its heads), and head-level approvals
        pick(handlers.c.id).join(handlers, and_(handlers.c.org_unit_id == x.responsible_unit_id,
                                                         handlers.c.is_head.is_(True)))
        .where(asked, or_(and_(worked_on, x.investigator_id.is_(None)),
                          and_(x.stage == Stage.PENDING_APPROVAL, x.approval_level == "head"))),
        # manager-level approvals
        pick(managers.c.id).join(managers, true())
        .where(asked, x.stage == Stage.PENDING_APPROVAL, x.approval_level == "manager"),
        # the follow-up call and the short path: the first responder
        pick(people.c.id).join(people, people.c.id == x.first_responder_id)
        .where(asked, x.stage.in_((Stage.FOLLOW_UP, Stage.ANSWERED, Stage.ACKNOWLEDGED)), alive),
    ).cte("assignee")
    a = assignee.c
    acols = (a.clock_id, a.complaint_id, a.kind, a.level)
    me, head = User.__table__.alias("me"), User.__table__.alias("head")
    return union(
        select(*acols, a.user_id),
        # due: the assignee's head(s)
        select(*acols, head.c.id).select_from(assignee).join(me, me.c.id == a.user_id)
        .join(head, and_(head.c.org_unit_id == me.c.org_unit_id, head.c.is_head.is_(True), head.c.active.is_(True)))
        .where(a.level == "due"),
        # due: the first responder
        pick(people.c.id).join(people, people.c.id == x.first_responder_id).where(x.level == "due", alive),
        # escalate: the manager(s)
        pick(managers.c.id).join(managers, true()).where(x.level == "escalate"),
    ).subquery("recipient")


def _key(*parts):
    """'r<clock>:<level>:u<user>' as SQL (both databases)."""
    out = None
    for p in parts:
        p = const(p) if isinstance(p, str) else cast(p, String)
        out = p if out is None else out.concat(p)
    return out


def sweep(session, now: datetime) -> SweepResult:
    """One pass; the caller commits. Safe to run concurrently with itself."""
    c = SlaClock.__table__.c
    # The nothing-to-do case costs one index probe.
    # (ORDER BY the indexed column: with LIMIT alone PostgreSQL may choose to scan the table.)
    if session.scalar(select(c.id).where(c.stopped_at.is_(None), c.next_alert_at <= now)
                      .order_by(c.next_alert_at).limit(1)) is None:
        return SweepResult(0, 0, 0)
    insert = upsert_insert(session)
    crossed = _crossed(now)
    r = _recipients(crossed)
    key = _key("r", r.c.clock_id, ":", r.c.level, ":u", r.c.user_id)
    session.execute(
        insert(Notification).from_select(
            ["user_id", "complaint_id", "kind", "at", "dedupe_key"],
            select(r.c.user_id, r.c.complaint_id, _key("sla:", r.c.level, ":", r.c.kind), literal(now, UTCDateTime), key)
            .where(true()))       # SQLite: a WHERE before ON CONFLICT (upsert parsing rule)
        .on_conflict_do_nothing())
    # (A statement that starts with WITH gets no rowcount from SQLite: count what we wrote.)
    notices = _written(session, now, "r%")
    if notices and notify.email_on(session):
        notify.queue_emails(session, now)
    if session.scalar(select(OrgUnit.id).where(OrgUnit.robot_url.is_not(None), OrgUnit.active.is_(True)).limit(1)):
        _queue_robots(session, now, _crossed(now))
    queued = session.scalar(select(func.count()).where(Outbox.status == "pending", Outbox.next_attempt_at == now,
                                                       Outbox.created_at == now)) or 0
    moved = session.execute(
        update(SlaClock).where(c.stopped_at.is_(None), c.next_alert_at <= now).values(
            alert_level=case((c.escalate_at <= now, 3), (c.deadline <= now, 2), else_=1),
            next_alert_at=case((c.escalate_at <= now, None), (c.deadline <= now, c.escalate_at), else_=c.deadline))
        .execution_options(synchronize_session=False)).rowcount
    return SweepResult(moved, notices, queued)


def _written(session, now, prefix) -> int:
    n = Notification.__table__.c
    return session.scalar(select(func.count()).where(n.dedupe_key.is_not(None), n.at == now,
                                                     n.dedupe_key.like(prefix))) or 0


def _queue_robots(session, now, crossed) -> None:
    """One message per (clock, level) to the group robot of the department the complaint sits
    with (the responsible department, else the receiving unit)."""
    t = Complaint.__table__.c
    o = OrgUnit.__table__.c
    unit_id = func.coalesce(t.responsible_unit_id, t.receiving_unit_id)
    x = crossed.c
    session.execute(
        upsert_insert(session)(Outbox).from_select(
            ["channel", "dedupe_key", "kind", "unit_id", "complaint_id", "status", "attempts", "next_attempt_at",
             "created_at"],
            select(o.robot_kind, _key("r", x.clock_id, ":", x.level, ":g", o.id), _key("sla:", x.level, ":", x.kind),
                   o.id, x.complaint_id, const("pending"), literal(0), literal(now, UTCDateTime),
                   literal(now, UTCDateTime))
            .join_from(crossed, Complaint.__table__, t.id == x.complaint_id)
            .join(OrgUnit.__table__, o.id == unit_id)
            .where(o.robot_url.is_not(None), o.robot_kind.in_(ROBOTS), o.active.is_(True)))
        .on_conflict_do_nothing())


def overdue_where(now):
    """A running clock past its deadline, not waiting for the customer (the overdue list, its export)."""
    return (SlaClock.stopped_at.is_(None), SlaClock.deadline <= now, SlaClock.paused_at.is_(None))


def overdue_count(session, now: datetime) -> int:
    """Complaints with at least one running clock past its deadline (not waiting for the customer)."""
    return session.scalar(select(func.count(func.distinct(SlaClock.complaint_id))).where(*overdue_where(now))) or 0


OVERDUE_CAP = 1000


def overdue_by_clock(session, now: datetime, cap: int = OVERDUE_CAP) -> dict[str, int]:
    """Overdue running clocks by kind (the manager's home), each count capped at `cap` (shown as
    "1000+"): one statement, a short range of the (kind, deadline) index per kind."""
    from domain.sla import ClockKind
    counts = []
    for kind in ClockKind:
        capped = select(SlaClock.id).where(SlaClock.kind == kind.value, *overdue_where(now)).limit(cap).subquery()
        counts.append(select(func.count()).select_from(capped).scalar_subquery().label(kind.value))
    row = session.execute(select(*counts)).one()
    return {kind.value: n for kind, n in zip(ClockKind, row) if n}


def overdue_complaints(session, user, now: datetime, limit: int = 50):
    """The complaints `user` may see with an overdue clock, longest overdue first:
    [(complaint, clock)]."""
    from domain.scoping import visible_complaints
    visible = visible_complaints(session, user).subquery()
    rows = session.execute(
        select(SlaClock, Complaint).join(Complaint, Complaint.id == SlaClock.complaint_id)
        .where(*overdue_where(now), Complaint.id.in_(select(visible.c.id)))
        # ties in a stable order (complaint, then clock), as the overdue export lists them
        .order_by(SlaClock.deadline, SlaClock.complaint_id, SlaClock.id).limit(limit * 3)).all()
    out, seen = [], set()
    for clock, complaint in rows:       # a complaint once, with its most overdue clock
        if complaint.id not in seen:
            seen.add(complaint.id)
            out.append((complaint, clock))
    return out[:limit]


# --- morning digests ------------------------------------------------------------------------

# audience → (its time in settings.digest_times, role, heads only). The head of quality (品管部)
# gets quality's queues at the heads' time: their department handles no complaints of its own.
DIGESTS = {"head": ("head", Role.HANDLER, True), "quality": ("head", Role.QUALITY, True),
           "manager": ("manager", Role.MANAGER, False)}


def send_digests(session, now: datetime) -> int:
    """On working days, once the configured time has passed: each department head's digest, the
    quality head's and the manager's (a notice each, plus an e-mail copy). The dedupe key (day,
    audience, user) makes it once a day, whichever sweep gets there first."""
    from domain import calendar as working_calendar
    from domain import settings
    tz = settings.company_tz()
    local = now.astimezone(tz)
    times = settings.digest_times(session)
    due = [who for who, (at, _role, _heads) in DIGESTS.items() if local.strftime("%H:%M") >= times[at]]
    if not due or not working_calendar.load(session, tz).is_workday(local.date()):
        return 0
    insert = upsert_insert(session)
    for who in due:
        _at, role, heads_only = DIGESTS[who]
        people = _active(role).subquery()
        query = select(people.c.id, const(f"digest:{who}"), literal(now, UTCDateTime),
                       _key(f"d{local.date().isoformat()}:{who}:u", people.c.id)).where(true())
        if heads_only:
            query = query.where(people.c.is_head.is_(True))
        session.execute(insert(Notification).from_select(
            ["user_id", "kind", "at", "dedupe_key"], query).on_conflict_do_nothing())
    written = _written(session, now, "d%")
    if written and notify.email_on(session):
        notify.queue_emails(session, now, "d")
    return written


# --- the weekly accountability page (SPEC §5) -----------------------------------------------

def send_weekly_ledger(session, now: datetime) -> int:
    """Mondays (company time), from the heads' digest time on: each store and branch head gets
    their unit's accountability page for the past week — once per week (dedupe key)."""
    from domain import settings
    local = now.astimezone(settings.company_tz())
    if local.weekday() != 0 or local.strftime("%H:%M") < settings.digest_times(session)["head"]:
        return 0
    year, week, _day = local.isocalendar()
    insert = upsert_insert(session)
    u, o = User.__table__.c, OrgUnit.__table__.c
    heads = (select(u.id, const("ledger:weekly"), literal(now, UTCDateTime),
                    _key(f"w{year}-{week:02d}:u", u.id))
             .join_from(User.__table__, OrgUnit.__table__, o.id == u.org_unit_id)
             .where(u.active.is_(True), u.is_head.is_(True), o.kind.in_(("store", "branch"))))
    session.execute(insert(Notification).from_select(["user_id", "kind", "at", "dedupe_key"], heads)
                    .on_conflict_do_nothing())
    written = _written(session, now, "w%")
    if written and notify.email_on(session):
        notify.queue_emails(session, now, "w")
    return written
