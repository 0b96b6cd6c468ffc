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
    limit = sla.limits_for(preset, type=complaint.type, foreign=bool(complaint.customer_foreign))[kind]
    cal = cal or working_calendar.load(session, settings.company_tz())
    plan = sla.schedule(cal, now, limit)
    clock = session.scalar(select(SlaClock).where(SlaClock.complaint_id == complaint.id, SlaClock.kind == kind))
    if clock is None:
        clock = SlaClock(complaint_id=complaint.id, kind=kind.value)
        session.add(clock)
    clock.preset, clock.amount, clock.unit, clock.source = preset, limit.amount, limit.unit.value, limit.source[:120]
    clock.started_at, clock.deadline, clock.warn_at, clock.escalate_at = now, plan.deadline, plan.warn_at, plan.escalate_at
    clock.confirmed, clock.stopped_at = plan.confirmed, None
    return clock


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
    red (due within a working hour) or overdue."""
    from datetime import timedelta
    found = running(session, complaint_ids)
    if not found:
        return {}
    cal = working_calendar.load(session, settings.company_tz())
    out = {}
    for ident, clock in found.items():
        if now >= clock.deadline:
            level = "overdue"
        elif sla.remaining(cal, now, clock.deadline, sla.Unit(clock.unit)) <= timedelta(hours=1):
            level = "red"
        elif now >= clock.warn_at:
            level = "amber"
        else:
            level = "green"
        out[ident] = (level, clock)
    return out
