"""Who sees which meeting and action (scope in the queries: anything else is "not found"), and the
lists: the meetings, an owner's open actions, quality's actions to verify, the late ones.

Quality and the manager see every meeting and action; an attendee sees their meetings and the
actions decided there; an action's owner (its person, the people of its unit, the heads above it)
sees that action."""
from __future__ import annotations

from datetime import date

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import selectinload

from domain.errors import N_
from domain.roles import Role
from domain.scoping import covered_unit_ids
from models.complaint import CorrectiveAction
from models.meeting import Meeting, MeetingAttendee, MeetingItem

LIST_LIMIT = 200


def _reads_all(actor) -> bool:
    return actor.has_role(Role.QUALITY, Role.MANAGER)


def _attends(actor):
    return exists().where(MeetingAttendee.meeting_id == Meeting.id, MeetingAttendee.user_id == actor.id)


def meetings_for(session, actor, limit: int = 36) -> list[Meeting]:
    query = select(Meeting).order_by(Meeting.month.desc()).limit(limit)
    if not _reads_all(actor):
        query = query.where(_attends(actor))
    return list(session.scalars(query))


def meeting_or_none(session, actor, meeting_id) -> Meeting | None:
    if not isinstance(meeting_id, int):
        return None
    query = select(Meeting).where(Meeting.id == meeting_id).options(
        selectinload(Meeting.items).selectinload(MeetingItem.actions), selectinload(Meeting.attendees),
        selectinload(Meeting.signatures), selectinload(Meeting.addenda))
    if not _reads_all(actor):
        query = query.where(_attends(actor))
    return session.scalar(query)


def _owned(session, actor):
    """The condition "`actor` owns the action" (none for quality and the manager, who follow them)."""
    units = covered_unit_ids(session, actor)
    conds = [CorrectiveAction.owner_user_id == actor.id]
    if units is not None and not _reads_all(actor):
        conds.append(CorrectiveAction.owner_unit_id.in_(units))
    return or_(*conds)


def _visible(session, actor):
    if _reads_all(actor):
        return CorrectiveAction.meeting_item_id.is_not(None)
    attended = exists().where(MeetingItem.id == CorrectiveAction.meeting_item_id,
                              MeetingAttendee.meeting_id == MeetingItem.meeting_id,
                              MeetingAttendee.user_id == actor.id)
    return CorrectiveAction.meeting_item_id.is_not(None) & or_(_owned(session, actor), attended)


def action_or_none(session, actor, action_id) -> CorrectiveAction | None:
    if not isinstance(action_id, int):
        return None
    return session.scalar(select(CorrectiveAction).where(CorrectiveAction.id == action_id, _visible(session, actor)))


def _open():
    return (CorrectiveAction.meeting_item_id.is_not(None), CorrectiveAction.verdict.is_(None))


def my_actions(session, actor, limit: int = LIST_LIMIT) -> list[CorrectiveAction]:
    """The meeting actions `actor` owns that are not finished (reported done ones too, waiting for
    quality), the soonest due first."""
    if _reads_all(actor) and not actor.has_role(Role.HANDLER, Role.RECEIVER):
        owned = CorrectiveAction.owner_user_id == actor.id
    else:
        owned = _owned(session, actor)
    return list(session.scalars(select(CorrectiveAction).where(*_open(), owned)
                                .order_by(CorrectiveAction.due, CorrectiveAction.id).limit(limit)))


def to_verify(session, limit: int = LIST_LIMIT) -> list[CorrectiveAction]:
    """Reported done, waiting for quality's verdict: the longest waiting first."""
    return list(session.scalars(select(CorrectiveAction).where(*_open(), CorrectiveAction.done_at.is_not(None))
                                .order_by(CorrectiveAction.done_at, CorrectiveAction.id).limit(limit)))


def all_open(session, limit: int = LIST_LIMIT) -> list[CorrectiveAction]:
    return list(session.scalars(select(CorrectiveAction).where(*_open())
                                .order_by(CorrectiveAction.due, CorrectiveAction.id).limit(limit)))


def is_late(a, today: date) -> bool:
    return a.verdict is None and a.done_at is None and a.due is not None and a.due < today


def state(a, today: date) -> str:
    """open / late / done (waiting for quality) / effective / waived."""
    if a.verdict in ("effective", "waived"):
        return a.verdict
    if a.done_at is not None:
        return "done"
    return "late" if is_late(a, today) else "open"


STATE_LABELS = {"open": N_("进行中"), "late": N_("已逾期"), "done": N_("已完成，待品管验证"), "effective": N_("验证有效"),
                "waived": N_("免验证")}


def to_sign(session, actor) -> list[tuple[Meeting, list[int]]]:
    """The meetings whose minutes (part 0) or addenda `actor` attends and has not signed yet, with
    those parts — for their home page (a few rows: by the attendee index)."""
    rows = session.scalars(select(Meeting).join(MeetingAttendee, MeetingAttendee.meeting_id == Meeting.id)
                           .where(MeetingAttendee.user_id == actor.id, Meeting.status.in_(("issued", "signed")))
                           .options(selectinload(Meeting.signatures), selectinload(Meeting.addenda))
                           .order_by(Meeting.month.desc()).limit(12)).all()
    out = []
    for m in rows:
        done = {s.part for s in m.signatures if s.user_id == actor.id}
        parts = [p for p in [0, *(a.number for a in m.addenda)] if p not in done]
        if parts:
            out.append((m, parts))
    return out
