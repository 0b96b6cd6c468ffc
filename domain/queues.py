"""Each role's work queue (SPEC §3, issues 5 and 15): one scoped, indexed query per queue (or a
few, each stopping at the page's limit), the most urgent work first, and counts from the stage
counters or capped index ranges instead of scans."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, case, exists, func, not_, or_, select
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import set_committed_value

from domain import calendar as working_calendar
from domain import clocks, settings, sla
from domain.roles import Role
from domain.scoping import EVERYTHING, covered_unit_ids
from domain.severity import Severity
from domain.sla import ClockKind
from domain.stages import Stage
from models.complaint import Complaint, StageCount
from models.sla import SlaClock

LIMIT = 25
COUNT_CAP = 1000   # a count shown as "1000+" beyond this (a capped index range, not a scan)


def _newest(query, limit=LIMIT):
    # The rows show the receiving unit: one extra query for all of them (not one per row, and
    # not a join that could change the main query's plan).
    return query.options(selectinload(Complaint.receiving_unit)) \
        .order_by(Complaint.created_at.desc(), Complaint.id.desc()).limit(limit)


def _oldest(query, limit=LIMIT):
    return query.options(selectinload(Complaint.receiving_unit)) \
        .order_by(Complaint.created_at, Complaint.id).limit(limit)


# --- urgency: a running clock past its deadline, then major, then the rest ------------------------
#
# The overdue ones are read along the clocks' (kind, deadline) partial index, longest overdue
# first, and the page's limit stops the walk; the others by their own index range. When fewer than
# the limit are overdue, all of them are in hand, so the later tiers can leave them out by id.

MAJOR = Complaint.severity == Severity.MAJOR


def _ticking(kind: ClockKind, complaint_id=Complaint.id):
    """The complaint's clock `kind`, running and not paused (the partial index's own terms)."""
    return and_(SlaClock.complaint_id == complaint_id, SlaClock.kind == kind.value,
                SlaClock.stopped_at.is_(None), SlaClock.paused_at.is_(None))


def _overdue(session, base, kind: ClockKind, now: datetime, limit: int) -> list[Complaint]:
    return list(session.scalars(base.join(SlaClock, _ticking(kind)).where(SlaClock.deadline <= now)
                                .order_by(SlaClock.deadline, Complaint.id).limit(limit)))


def _by_deadline(session, base, kind: ClockKind, now: datetime, limit: int) -> list[Complaint]:
    """Not overdue yet, nearest deadline first; then those without a ticking clock (waiting for the
    customer, or none), oldest first."""
    rows = list(session.scalars(base.join(SlaClock, _ticking(kind)).where(SlaClock.deadline > now)
                                .order_by(SlaClock.deadline, Complaint.id).limit(limit)))
    if len(rows) < limit:
        rows += session.scalars(base.where(~exists().where(_ticking(kind)))
                                .order_by(Complaint.created_at, Complaint.id).limit(limit - len(rows)))
    return rows


def _with_units(session, rows: list[Complaint]) -> list[Complaint]:
    """The rows' receiving and responsible units, one query for all the tiers' rows."""
    from models.org import OrgUnit
    ids = {c.receiving_unit_id for c in rows} | {c.responsible_unit_id for c in rows if c.responsible_unit_id}
    units = {u.id: u for u in session.scalars(select(OrgUnit).where(OrgUnit.id.in_(ids)))} if ids else {}
    for c in rows:
        set_committed_value(c, "receiving_unit", units.get(c.receiving_unit_id))
        set_committed_value(c, "responsible_unit", units.get(c.responsible_unit_id))
    return rows


def _urgent(session, base, kind: ClockKind, now: datetime, limit: int, nearest_deadline: bool) -> list[Complaint]:
    """`base` (a Select of complaints) most urgent first: overdue on clock `kind` (major first, then
    longest overdue first), then major, then the rest — each of the last two by the nearest deadline of `kind`
    (`nearest_deadline`) or oldest registered first."""
    # Among the overdue, major ones first: a stable sort of the longest-overdue page (when more
    # than a page is overdue, the page is the longest overdue of them, majors on top).
    rows = sorted(_overdue(session, base, kind, now, limit), key=lambda c: c.severity != Severity.MAJOR)
    if len(rows) < limit:
        later = base.where(Complaint.id.not_in([c.id for c in rows])) if rows else base
        for tier in (later.where(MAJOR), later.where(~MAJOR)):
            left = limit - len(rows)
            if left <= 0:
                break
            rows += _by_deadline(session, tier, kind, now, left) if nearest_deadline else \
                session.scalars(tier.order_by(Complaint.created_at, Complaint.id).limit(left))
    return _with_units(session, rows)


CANDIDATES = 200   # a department's proposals sorted by urgency: its oldest this many


def _urgent_sorted(session, base, kind: ClockKind, now: datetime, limit: int) -> list[Complaint]:
    """The order of `_urgent(…, nearest_deadline=True)` in one sorted query, for a department's
    proposals: the oldest CANDIDATES of them (read in the order of the index, however many wait)
    joined to their clocks and sorted. Walking the clocks instead would cost a department with
    nothing overdue a walk through every other department's."""
    pool = base.with_only_columns(Complaint.id, Complaint.severity, Complaint.created_at) \
        .order_by(Complaint.created_at, Complaint.id).limit(CANDIDATES).subquery()
    overdue = SlaClock.deadline <= now
    ids = list(session.scalars(
        select(pool.c.id).outerjoin(SlaClock, _ticking(kind, pool.c.id)).order_by(
            case((overdue, 0), else_=1), case((pool.c.severity == Severity.MAJOR, 0), else_=1),
            SlaClock.deadline.is_(None), SlaClock.deadline, pool.c.created_at, pool.c.id).limit(limit)))
    found = {c.id: c for c in session.scalars(select(Complaint).where(Complaint.id.in_(ids)))} if ids else {}
    return [found[i] for i in ids]


@dataclass(frozen=True)
class Countdown:
    """A queue row's clock in words: its level (clocks.level), deadline and time left (negative:
    overdue; working time for working limits)."""
    level: str
    deadline: datetime
    left: timedelta
    confirmed: bool


def countdowns(session, complaint_ids, kind: ClockKind, now: datetime) -> dict[int, Countdown]:
    """complaint id → the countdown of its running clock `kind` (one query for all of them)."""
    if not complaint_ids:
        return {}
    found = session.scalars(select(SlaClock).where(SlaClock.complaint_id.in_(list(complaint_ids)),
                                                   SlaClock.kind == kind.value, SlaClock.stopped_at.is_(None))).all()
    if not found:
        return {}
    cal = working_calendar.load(session, settings.company_tz())
    return {k.complaint_id: Countdown(clocks.level(k, now, cal), k.deadline,
                                      sla.remaining(cal, k.paused_at or now, k.deadline, sla.Unit(k.unit)), k.confirmed)
            for k in found}


# Quality's queues as queries (no order, no limit): the lists below and quality's morning digest
# (domain.messages) ask the same question.

def dispatch_query():
    """New complaints nobody has sent anywhere yet (an inquiry transferred to a department is new
    with a responsible unit: the department's queue has it, not quality's)."""
    # Said of inquiries, not as "responsible_unit_id IS NULL" (the same rows: nothing else is new
    # with a responsible unit): that term talked both planners into the (responsible_unit_id, stage)
    # index and a sort of every new complaint — 2 → 21 ms at 1,000,000 rows.
    return select(Complaint).where(Complaint.stage == Stage.NEW,
                                   or_(Complaint.type != "inquiry", Complaint.responsible_unit_id.is_(None)))


def verify_query():
    return select(Complaint).where(Complaint.stage == Stage.VERIFYING)


def decide_query():
    """Follow-ups where the customer was dissatisfied or could not be reached three times."""
    # The workflow keeps needs_decision true only in follow_up (the state machine test checks it);
    # asking for the flag alone lets the (needs_decision, created_at) index serve the query.
    return select(Complaint).where(Complaint.needs_decision.is_(True))


def attribute_query():
    """Approved complaints whose responsibility quality has not confirmed yet."""
    # The same terms as the partial index ix_complaint_to_attribute_v2, so that SQLite uses it
    # ("attributed IS 0" would not match: a table scan, 200 ms at 1M rows).
    return select(Complaint).where(Complaint.approved_at.is_not(None), not_(Complaint.attributed),
                                   Complaint.type == "complaint")


def quality_queries() -> dict:
    """Quality's four queues: name → query of complaints."""
    return {"dispatch": dispatch_query(), "verify": verify_query(), "decide": decide_query(),
            "attribute": attribute_query()}


def to_dispatch(session, now: datetime, limit=LIMIT):
    """Quality's 待分派: overdue on the dispatch clock first (longest overdue first), then major
    ones, then the rest, oldest registered first."""
    return _urgent(session, dispatch_query(), ClockKind.DISPATCH, now, limit, nearest_deadline=False)


def to_verify(session, limit=LIMIT):
    return session.scalars(_newest(verify_query(), limit)).all()


def to_decide(session, limit=LIMIT):
    return session.scalars(_newest(decide_query(), limit)).all()


def department_query(session, user):
    """The complaints of the handler's department queue (no order, no limit: also its export)."""
    units = covered_unit_ids(session, user)
    # NEW: inquiries transferred to the department for its answer (seed 003; nothing else is new
    # with a responsible unit).
    stages = (Stage.NEW, Stage.INVESTIGATING, Stage.PENDING_APPROVAL, Stage.EXECUTING)
    query = select(Complaint).where(Complaint.stage.in_(stages), Complaint.responsible_unit_id.is_not(None))
    if units is not EVERYTHING:
        query = query.where(Complaint.responsible_unit_id.in_(units))
    return query


def department(session, user, limit=LIMIT):
    """The handler's department queue: assigned to a unit they cover, still to be worked on, oldest
    first (the nearest to their time limits; newest first let overdue ones fall off the list)."""
    return session.scalars(_oldest(department_query(session, user), limit)).all()


def approvable_query(session, user):
    """Proposals waiting for this user's approval (a Select), or None: the manager may approve
    all, a head the head-level ones of the units they cover."""
    pending = select(Complaint).where(Complaint.stage == Stage.PENDING_APPROVAL)
    if user.has_role(Role.MANAGER):
        return pending
    if not (user.has_role(Role.HANDLER) and user.is_head):
        return None
    units = covered_unit_ids(session, user)
    if units is EVERYTHING:
        return pending.where(Complaint.approval_level == "head")
    return pending.where(Complaint.approval_level == "head", Complaint.responsible_unit_id.in_(units))


_approvable = approvable_query   # its earlier name (tests/web/test_homes_issue15.py)


def to_approve(session, user, now: datetime, limit=LIMIT):
    """Proposals waiting for this user's approval, most urgent first: overdue on the approval clock
    (longest overdue first), then major ones, then the rest — each by the nearest approval deadline
    (those waiting for the customer or without a clock after them, oldest first)."""
    base = approvable_query(session, user)
    if base is None:
        return []
    if user.has_role(Role.MANAGER):   # every pending proposal: walk the clocks' index, tier by tier
        return _urgent(session, base, ClockKind.APPROVAL, now, limit, nearest_deadline=True)
    return _with_units(session, _urgent_sorted(session, base, ClockKind.APPROVAL, now, limit))   # a department


HEAD_COUNT_CAP = 100   # a head's count of proposals to approve stops here ("100+")


def count_to_approve(session, user) -> int:
    """The manager's from the stage counters; a head's counted up to HEAD_COUNT_CAP."""
    if user.has_role(Role.MANAGER):
        return stage_counts(session).get(Stage.PENDING_APPROVAL, 0)
    base = approvable_query(session, user)
    if base is None:
        return 0
    return session.scalar(select(func.count()).select_from(
        base.with_only_columns(Complaint.id).limit(HEAD_COUNT_CAP).subquery()))


def follow_up_query(user):
    """The first responder's complaints waiting for their answer or follow-up call (a Select)."""
    return select(Complaint).where(Complaint.first_responder_id == user.id,
                                   Complaint.stage.in_((Stage.FOLLOW_UP, Stage.EXECUTING)))


def my_follow_ups(session, user, limit=LIMIT):
    """The first responder's complaints waiting for their answer or follow-up call, oldest first."""
    return session.scalars(follow_up_query(user).options(selectinload(Complaint.receiving_unit))
                           .order_by(Complaint.created_at, Complaint.id).limit(limit)).all()


def my_waiting(session, user) -> dict[str, int]:
    """How many of the first responder's complaints wait for the answer (executing) and for the
    follow-up call (follow_up): one range of the (first responder, stage) index, capped."""
    out = {Stage.EXECUTING.value: 0, Stage.FOLLOW_UP.value: 0}
    for stage in out:
        mine = select(Complaint.id).where(Complaint.first_responder_id == user.id, Complaint.stage == stage) \
            .limit(COUNT_CAP).subquery()
        out[stage] = session.scalar(select(func.count()).select_from(mine))
    return out


def my_open(session, user, limit=20):
    return session.scalars(_newest(select(Complaint).where(
        Complaint.first_responder_id == user.id, Complaint.stage != Stage.CLOSED), limit)).all()


def stage_counts(session) -> dict[str, int]:
    return {row.stage: row.n for row in session.scalars(select(StageCount))}


def to_attribute(session, limit=LIMIT):
    """Approved complaints whose responsibility quality has not confirmed yet, most urgent first:
    major, then serious, then the rest (their penalties are the largest and serious ones are
    published), each longest waiting since the approval first. Each tier walks the partial index in
    approval order and stops at the limit."""
    base = attribute_query()
    heavy = (Severity.MAJOR.value, Severity.SERIOUS.value)
    rows: list[Complaint] = []
    for tier in (base.where(MAJOR), base.where(Complaint.severity == Severity.SERIOUS),
                 base.where(Complaint.severity.not_in(heavy))):
        if len(rows) >= limit:
            break
        rows += session.scalars(tier.order_by(Complaint.approved_at, Complaint.id).limit(limit - len(rows)))
    return _with_units(session, rows)


def count_to_attribute(session) -> int:
    """How many wait for quality's attribution (up to COUNT_CAP: the partial index's range)."""
    return session.scalar(select(func.count()).select_from(
        attribute_query().with_only_columns(Complaint.id).limit(COUNT_CAP).subquery()))


def penalties_to_approve(session, limit=LIMIT):
    """Penalties waiting for the manager, oldest first."""
    from models.complaint import Penalty
    return session.scalars(select(Penalty).where(Penalty.status == "pending")
                           .options(selectinload(Penalty.complaint), selectinload(Penalty.unit),
                                    selectinload(Penalty.user))
                           .order_by(Penalty.created_at, Penalty.id).limit(limit)).all()
