"""Starting and stopping the SLA clocks (SPEC §4.1) on the workflow's events.

`on_event(session, complaint, event, now)` is called by intake and by workflow.act in the same
transaction as the change; no view touches a clock. A clock's limit, deadline, warn and
escalation times are fixed when it starts (later policy edits do not move them).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select

from domain import calendar as working_calendar
from domain import settings, sla
from domain.sla import ClockKind as K
from models.sla import SlaClock

# event → (clocks to start, clocks to stop). "*" stops every running clock.
EVENTS = {
    "registered": ((K.DISPATCH, K.FIRST_CONTACT, K.ANSWER, K.CLOSE), ()),
    "settled_on_the_spot": ((K.FOLLOW_UP, K.CLOSE), ()),
    "dispatch": ((K.INITIAL_CAUSE, K.PROPOSAL), (K.DISPATCH,)),
    # Explained and answered (not_responsible at dispatch, not_ours in the investigation).
    "not_responsible": ((K.FOLLOW_UP,), (K.DISPATCH, K.FIRST_CONTACT, K.ANSWER, K.INITIAL_CAUSE, K.PROPOSAL)),
    "hand_back": ((K.DISPATCH,), (K.INITIAL_CAUSE, K.PROPOSAL)),
    "log_contact": ((), (K.FIRST_CONTACT,)),
    "propose": ((K.APPROVAL,), (K.FIRST_CONTACT, K.INITIAL_CAUSE, K.PROPOSAL)),
    "approve": ((), (K.APPROVAL,)),
    "reject": ((K.PROPOSAL,), (K.APPROVAL,)),
    "answer:accepted": ((K.FOLLOW_UP,), (K.ANSWER,)),
    "survey": ((), (K.FOLLOW_UP,)),
    # seed 003: an inquiry's transfer clock (分派, 24 h) stops when it is transferred; its answer
    # clock (3 working days) runs on until the department answers. One answered at the counter
    # without a transfer stops both.
    "transfer_inquiry": ((), (K.DISPATCH,)),
    "answer_inquiry": ((), (K.DISPATCH, K.FIRST_CONTACT, K.ANSWER)),
    "acknowledge": ((), (K.DISPATCH, K.FIRST_CONTACT, K.ANSWER)),
    "reopen": ((K.ANSWER, K.CLOSE), ()),
    "closed": ((), "*"),
}


def start(session, complaint, kind: K, now: datetime, cal=None) -> SlaClock:
    preset = settings.sla_preset(session)
    limit = sla.limits_for(preset, type=complaint.type, foreign=bool(complaint.customer_foreign),
                           severity=complaint.severity, category=_top_category(session, complaint),
                           overrides=settings.sla_overrides(session))[kind]
    cal = cal or working_calendar.load(session, settings.company_tz())
    plan = sla.schedule(cal, now, limit)
    clock = session.scalar(select(SlaClock).where(SlaClock.complaint_id == complaint.id, SlaClock.kind == kind))
    if clock is None:
        clock = SlaClock(complaint_id=complaint.id, kind=kind.value)
        session.add(clock)
    clock.preset, clock.amount, clock.unit, clock.source = preset, limit.amount, limit.unit.value, limit.source[:120]
    clock.started_at, clock.deadline, clock.warn_at, clock.escalate_at = now, plan.deadline, plan.warn_at, plan.escalate_at
    clock.confirmed, clock.stopped_at = plan.confirmed, None
    clock.alert_level, clock.next_alert_at = 0, plan.warn_at
    clock.paused_at, clock.paused_seconds = None, 0
    if complaint.paused_at is not None:   # started while waiting for the customer: waits too
        pause_clock(clock, now)
    return clock


def _top_category(session, complaint) -> str | None:
    from models.complaint import Category
    category = session.get(Category, complaint.category_id) if complaint.category_id else None
    if category is not None and category.parent_id:
        category = session.get(Category, category.parent_id)
    return category.name if category is not None else None


def stop(session, complaint, kinds, now: datetime) -> None:
    query = select(SlaClock).where(SlaClock.complaint_id == complaint.id, SlaClock.stopped_at.is_(None))
    if kinds != "*":
        query = query.where(SlaClock.kind.in_([k.value for k in kinds]))
    for clock in session.scalars(query):   # through the session, so that a restart sees it stopped
        clock.stopped_at = now


def on_event(session, complaint, event: str, now: datetime) -> None:
    if event not in EVENTS:
        return
    starts, stops = EVENTS[event]
    session.flush()   # the complaint has its id
    if stops:
        stop(session, complaint, stops, now)
    if starts:
        cal = working_calendar.load(session, settings.company_tz())
        for kind in starts:
            start(session, complaint, kind, now, cal)
    keep_outcome(session, complaint)
    if event in FIRST_EVENTS:        # intake's: the complaint starts counting in the ledger
        from domain import ledger
        ledger.track(session, complaint, None)


FIRST_EVENTS = ("registered", "settled_on_the_spot")


def keep_outcome(session, complaint) -> None:
    """What the ledger reads of a complaint's clocks, kept on the complaint whenever they change
    (started, stopped, paused, resumed): its close clock stopped by the deadline (None while it
    runs), and the earliest deadline of its running, unpaused clocks (domain.ledger)."""
    rows = session.execute(select(SlaClock.kind, SlaClock.deadline, SlaClock.stopped_at, SlaClock.paused_at)
                           .where(SlaClock.complaint_id == complaint.id)).all()
    ticking = [d for _k, d, stopped, paused in rows if stopped is None and paused is None]
    complaint.ticking_deadline = min(ticking) if ticking else None
    complaint.close_in_time = next((stopped <= d for k, d, stopped, _p in rows if k == K.CLOSE and stopped is not None),
                                   None)


def running(session, complaint_ids) -> dict[int, SlaClock]:
    """The most urgent running clock of each complaint (for countdown badges): one query."""
    if not complaint_ids:
        return {}
    rows = session.scalars(select(SlaClock).where(SlaClock.complaint_id.in_(list(complaint_ids)),
                                                  SlaClock.stopped_at.is_(None))
                           .order_by(SlaClock.deadline)).all()
    out: dict[int, SlaClock] = {}
    for clock in rows:
        out.setdefault(clock.complaint_id, clock)
    return out


RED = timedelta(hours=1)   # due within a working hour (working limits) or an hour: red


def level(clock: SlaClock, now: datetime, cal) -> str:
    """How a clock shows on every screen (the register's badge, the record's list of clocks).
    Running: paused (waiting for the customer: the countdown is frozen), overdue, red (due within
    RED), amber (warned), green. Stopped: late or done."""
    if clock.stopped_at is not None:
        return "late" if clock.stopped_at > clock.deadline else "done"
    if clock.paused_at is not None:
        return "paused"
    if now >= clock.deadline:
        return "overdue"
    if sla.remaining(cal, now, clock.deadline, sla.Unit(clock.unit)) <= RED:
        return "red"
    if now >= clock.warn_at:
        return "amber"
    return "green"


def badges(session, complaint_ids, now: datetime) -> dict[int, tuple[str, SlaClock]]:
    """complaint id → (level, clock) for its most urgent running clock."""
    found = running(session, complaint_ids)
    if not found:
        return {}
    cal = working_calendar.load(session, settings.company_tz())
    return {ident: (level(clock, now, cal), clock) for ident, clock in found.items()}


def of_complaint(session, complaint, now: datetime) -> list[tuple[SlaClock, str]]:
    """Every clock of a complaint (running and stopped), in the order they started, with its level."""
    rows = session.scalars(select(SlaClock).where(SlaClock.complaint_id == complaint.id)
                           .order_by(SlaClock.started_at, SlaClock.id)).all()
    if not rows:
        return []
    cal = working_calendar.load(session, settings.company_tz())
    return [(clock, level(clock, now, cal)) for clock in rows]


# --- waiting for the customer (等待客户补充材料) ----------------------------------------------

def pause_clock(clock: SlaClock, now: datetime) -> None:
    clock.paused_at, clock.next_alert_at = now, None   # no reminder while waiting


def _next_alert(clock: SlaClock):
    return (clock.warn_at, clock.deadline, clock.escalate_at, None)[min(clock.alert_level, 3)]


def resume_clock(clock: SlaClock, now: datetime, cal) -> None:
    """Move the clock's remaining times on by the time spent waiting (working time for working
    limits: a pause over a weekend costs the limit nothing either way)."""
    since = clock.paused_at
    if since is None:
        return
    (clock.deadline, clock.warn_at, clock.escalate_at), clock.confirmed = _moved(
        (clock.deadline, clock.warn_at, clock.escalate_at), clock.confirmed, sla.Unit(clock.unit), since, now, cal)
    clock.paused_seconds = (clock.paused_seconds or 0) + max(0, int((now - since).total_seconds()))
    clock.paused_at = None
    clock.next_alert_at = _next_alert(clock)


def _moved(times, confirmed: bool, unit, since: datetime, now: datetime, cal):
    """(deadline, warn, escalate) after a pause from `since` to `now`, and whether they are confirmed.
    A time already passed when the pause began stays (its reminder went out)."""
    working = unit in (sla.Unit.WORKING_HOURS, sla.Unit.WORKING_DAYS)

    def shift(moment):
        nonlocal confirmed
        if moment <= since:
            return moment
        if not working:
            return now + (moment - since)
        left = calendar_hours(cal.working_time_between(since, moment))
        moved, sure = cal.add(now, left, sla.Unit.WORKING_HOURS)
        confirmed = confirmed and sure
        return moved

    return tuple(shift(t) for t in times), confirmed


def calendar_hours(span) -> "Decimal":
    from decimal import Decimal
    return Decimal(int(span.total_seconds())) / 3600


def _running_query(complaint):
    return select(SlaClock).where(SlaClock.complaint_id == complaint.id, SlaClock.stopped_at.is_(None))


def pause(session, complaint, now: datetime) -> None:
    session.flush()
    for clock in session.scalars(_running_query(complaint).where(SlaClock.paused_at.is_(None))):
        pause_clock(clock, now)
    keep_outcome(session, complaint)


def resume(session, complaint, now: datetime) -> None:
    session.flush()
    paused = session.scalars(_running_query(complaint).where(SlaClock.paused_at.is_not(None))).all()
    if paused:
        cal = working_calendar.load(session, settings.company_tz())
        for clock in paused:
            resume_clock(clock, now, cal)
        keep_outcome(session, complaint)


@dataclass(frozen=True)
class Imported:
    year: int
    days: int
    recomputed: int     # running clocks whose estimated deadlines were computed again


def import_calendar(session, actor, text: str, now: datetime) -> Imported:
    """Import a year's official holiday arrangement (CSV: date,holiday|workday,name) and compute
    again the deadlines that were estimated without it. The admin page and `flask calendar-import`
    both call this; raises InvalidInput for a file that is not an arrangement."""
    year, days = working_calendar.store_arrangement(session, actor, text, now)
    return Imported(year, days, recompute_unconfirmed(session))


def recompute_unconfirmed(session) -> int:
    """After an official arrangement is imported: running clocks whose deadline was estimated
    (a year the calendar did not cover) are computed again from their start and stored limit,
    and the pauses they went through (waiting for the customer) are replayed on the new calendar,
    as if the clock had started and waited on it; a clock waiting now keeps waiting. Returns how
    many were recomputed."""
    cal = working_calendar.load(session, settings.company_tz())
    rows = session.scalars(select(SlaClock).where(SlaClock.stopped_at.is_(None), SlaClock.confirmed.is_(False))).all()
    history = _pauses(session, {k.complaint_id for k in rows if k.paused_seconds or k.paused_at is not None})
    done = 0
    for clock in rows:
        spans = _clock_pauses(clock, history.get(clock.complaint_id, []))
        if spans is None:
            continue    # the timeline does not explain the stored pause: keep the estimate (still 未确认)
        unit = sla.Unit(clock.unit)
        plan = sla.schedule(cal, clock.started_at, sla.Limit(clock.amount, unit, clock.source))
        times, confirmed = (plan.deadline, plan.warn_at, plan.escalate_at), plan.confirmed
        for since, until in spans:
            if until is not None:        # the open pause (if any) moves them when it ends
                times, confirmed = _moved(times, confirmed, unit, since, until, cal)
        (clock.deadline, clock.warn_at, clock.escalate_at), clock.confirmed = times, confirmed
        clock.next_alert_at = None if clock.paused_at is not None else _next_alert(clock)
        done += 1
    _keep_outcomes(session, {clock.complaint_id for clock in rows})
    return done


def _keep_outcomes(session, complaint_ids) -> None:
    """keep_outcome for many complaints at once (their deadlines moved): set-based, in slices."""
    from sqlalchemy import func, update

    from models.complaint import Complaint
    session.flush()
    ids = sorted(complaint_ids)
    k = SlaClock.__table__.c
    ticking = select(func.min(k.deadline)).where(k.complaint_id == Complaint.__table__.c.id, k.stopped_at.is_(None),
                                                 k.paused_at.is_(None)).scalar_subquery()
    for i in range(0, len(ids), 500):
        session.execute(update(Complaint.__table__).where(Complaint.__table__.c.id.in_(ids[i:i + 500]))
                        .values(ticking_deadline=ticking))
    for obj in list(session.identity_map.values()):
        if isinstance(obj, Complaint) and obj.id in complaint_ids:
            session.expire(obj, ["ticking_deadline"])


def _pauses(session, complaint_ids) -> dict[int, list[tuple[datetime, datetime | None]]]:
    """Each complaint's waits for the customer, from its timeline: a `pause` event to the next
    `resume` or change of stage (workflow.act ends the wait then); None: still waiting."""
    from models.complaint import ComplaintEvent
    ids, out = sorted(complaint_ids), {}
    for i in range(0, len(ids), 500):
        events = session.execute(
            select(ComplaintEvent.complaint_id, ComplaintEvent.at, ComplaintEvent.kind, ComplaintEvent.to_stage)
            .where(ComplaintEvent.complaint_id.in_(ids[i:i + 500]),
                   or_(ComplaintEvent.kind.in_(("pause", "resume")), ComplaintEvent.to_stage.is_not(None)))
            .order_by(ComplaintEvent.complaint_id, ComplaintEvent.id)).all()
        since = {}
        for complaint_id, at, kind, to_stage in events:
            if complaint_id not in since and kind == "pause":
                since[complaint_id] = at
            elif complaint_id in since and (kind == "resume" or to_stage is not None):
                out.setdefault(complaint_id, []).append((since.pop(complaint_id), at))
        for complaint_id, at in since.items():
            out.setdefault(complaint_id, []).append((at, None))
    return out


def _clock_pauses(clock: SlaClock, spans) -> list | None:
    """The complaint's waits as this clock lived them (from its start on), or None when they do not
    add up to the clock's own record (paused_seconds, paused_at)."""
    start, mine = clock.started_at, []
    for since, until in spans:
        if until is not None and (until < start or (until == start and since < start)):
            continue    # over before this clock started (or ended by the action that started it)
        mine.append((max(since, start), until))
    waited = sum(max(0, int((until - since).total_seconds())) for since, until in mine if until is not None)
    still = next((since for since, until in mine if until is None), None)
    if waited != (clock.paused_seconds or 0) or still != clock.paused_at:
        return None
    return mine
