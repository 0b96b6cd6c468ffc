"""Starting and stopping the SLA clocks (SPEC §4.1) on the workflow's events.

`on_event(session, complaint, event, now)` is called by intake and by workflow.act in the same
transaction as the change; no view touches a clock. A clock's limit, deadline, warn and
escalation times are fixed when it starts (later policy edits do not move them).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from domain import calendar as working_calendar
from domain import settings, sla
from domain.sla import ClockKind as K
from models.sla import SlaClock

# event → (clocks to start, clocks to stop). "*" stops every running clock.
EVENTS = {
    "registered": ((K.DISPATCH, K.FIRST_CONTACT, K.ANSWER, K.CLOSE), ()),
    "settled_on_the_spot": ((K.FOLLOW_UP, K.CLOSE), ()),
    "dispatch": ((K.INITIAL_CAUSE, K.PROPOSAL), (K.DISPATCH,)),
    "not_responsible": ((K.FOLLOW_UP,), (K.DISPATCH, K.FIRST_CONTACT, K.ANSWER)),
    "hand_back": ((K.DISPATCH,), (K.INITIAL_CAUSE, K.PROPOSAL)),
    "log_contact": ((), (K.FIRST_CONTACT,)),
    "propose": ((K.APPROVAL,), (K.FIRST_CONTACT, K.INITIAL_CAUSE, K.PROPOSAL)),
    "approve": ((), (K.APPROVAL,)),
    "reject": ((K.PROPOSAL,), (K.APPROVAL,)),
    "answer:accepted": ((K.FOLLOW_UP,), (K.ANSWER,)),
    "survey": ((), (K.FOLLOW_UP,)),
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


def badges(session, complaint_ids, now: datetime) -> dict[int, tuple[str, SlaClock]]:
    """complaint id → (level, clock) for its most urgent running clock: green, amber (warned),
    red (due within a working hour), overdue, or paused (waiting for the customer)."""
    from datetime import timedelta
    found = running(session, complaint_ids)
    if not found:
        return {}
    cal = working_calendar.load(session, settings.company_tz())
    out = {}
    for ident, clock in found.items():
        if clock.paused_at is not None:
            level = "paused"     # waiting for the customer: the countdown is frozen
        elif now >= clock.deadline:
            level = "overdue"
        elif sla.remaining(cal, now, clock.deadline, sla.Unit(clock.unit)) <= timedelta(hours=1):
            level = "red"
        elif now >= clock.warn_at:
            level = "amber"
        else:
            level = "green"
        out[ident] = (level, clock)
    return out


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
    working = sla.Unit(clock.unit) in (sla.Unit.WORKING_HOURS, sla.Unit.WORKING_DAYS)
    confirmed = clock.confirmed

    def shift(moment):
        nonlocal confirmed
        if moment <= since:            # already passed before the pause (its reminder went out)
            return moment
        if not working:
            return now + (moment - since)
        left = calendar_hours(cal.working_time_between(since, moment))
        moved, sure = cal.add(now, left, sla.Unit.WORKING_HOURS)
        confirmed = confirmed and sure
        return moved

    clock.deadline, clock.warn_at, clock.escalate_at = shift(clock.deadline), shift(clock.warn_at), shift(clock.escalate_at)
    clock.confirmed = confirmed
    clock.paused_seconds = (clock.paused_seconds or 0) + max(0, int((now - since).total_seconds()))
    clock.paused_at = None
    clock.next_alert_at = _next_alert(clock)


def calendar_hours(span) -> "Decimal":
    from decimal import Decimal
    return Decimal(int(span.total_seconds())) / 3600


def _running_query(complaint):
    return select(SlaClock).where(SlaClock.complaint_id == complaint.id, SlaClock.stopped_at.is_(None))


def pause(session, complaint, now: datetime) -> None:
    session.flush()
    for clock in session.scalars(_running_query(complaint).where(SlaClock.paused_at.is_(None))):
        pause_clock(clock, now)


def resume(session, complaint, now: datetime) -> None:
    session.flush()
    paused = session.scalars(_running_query(complaint).where(SlaClock.paused_at.is_not(None))).all()
    if paused:
        cal = working_calendar.load(session, settings.company_tz())
        for clock in paused:
            resume_clock(clock, now, cal)


def recompute_unconfirmed(session) -> int:
    """After an official arrangement is imported: running clocks whose deadline was estimated
    (a year the calendar did not cover) are computed again from their start and stored limit.
    Clocks that were paused keep their estimate (a pause moved them by hand of the calendar of
    the time); returns how many were recomputed."""
    cal = working_calendar.load(session, settings.company_tz())
    rows = session.scalars(select(SlaClock).where(SlaClock.stopped_at.is_(None), SlaClock.confirmed.is_(False),
                                                  SlaClock.paused_at.is_(None), SlaClock.paused_seconds == 0)).all()
    for clock in rows:
        plan = sla.schedule(cal, clock.started_at, sla.Limit(clock.amount, sla.Unit(clock.unit), clock.source))
        clock.deadline, clock.warn_at, clock.escalate_at, clock.confirmed = (
            plan.deadline, plan.warn_at, plan.escalate_at, plan.confirmed)
        clock.next_alert_at = _next_alert(clock)
    return len(rows)
