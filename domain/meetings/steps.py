"""The monthly complaint meeting's steps (SPEC §3.5); those of the actions it decides are in
actions.py, built the same way.

Like the workflow's actions and the penalty steps, each step is one object in STEPS: typed fields,
who may take it, the states it starts from, its effect. `act(session, actor, meeting, step, fields,
version=…, now=…)` is the only way a meeting changes; every step is an event on the meeting's
timeline (`event`) and tells the people concerned.

A meeting: draft (quality sets date, place, attendees and the agenda, then records each item's
conclusion and new actions) → issued (the minutes are locked and each attendee signs with one tap;
the unsigned are reminded daily) → signed (all have signed). A correction after issuing is an
addendum, which every attendee signs in turn.

"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import ClassVar

from sqlalchemy import select

from domain import numbering
from domain.errors import InvalidInput, N_, NotAllowed, Stale
from domain.fields import Fields
from domain.meetings import agenda
from domain.meetings.tell import owners, tell
from domain.roles import Role
from domain.text import checked
from domain.workflow.choices import ACTION_KINDS
from domain.workflow.investigation import action_due
from models.complaint import Complaint, CorrectiveAction
from models.meeting import Meeting, MeetingAttendee, MeetingEvent, MeetingItem
from models.org import OrgUnit
from models.user import User

STATUS_LABELS = {"draft": N_("筹备和记录中"), "issued": N_("纪要待签字"), "signed": N_("纪要已全体签字")}
SOURCE_LABELS = {"frequent": N_("本月高频类别"), "major": N_("重大投诉"), "urgent": N_("紧急程度高"),
                 "added": N_("品管添加")}
EVENT_LABELS = {
    "opened": N_("发起专题会"), "details": N_("修改会议信息"), "item_added": N_("添加议题"),
    "item_removed": N_("删除议题"), "concluded": N_("记录结论"), "action_added": N_("新增措施"),
    "action_removed": N_("删除措施"), "issued": N_("发出纪要，请参会人签字"), "signed": N_("签字确认"),
    "all_signed": N_("纪要全体签字"), "addendum": N_("补充纪要"), "action_done": N_("报告措施完成"),
    "action_verified": N_("验证措施效果"), "action_reopened": N_("措施无效，退回整改"),
}
STALE = N_("在您操作的同时，这次专题会已有变化。请刷新后再看。")
MAX_ATTENDEES = 40
MAX_ITEMS = 60


def title_for(month: str) -> str:
    year, mon = month.split("-")
    return f"{int(year)}年{int(mon)}月客诉专题会"


def event(session, meeting, actor, kind, now, action=None, **detail):
    meeting.version += 1
    session.add(MeetingEvent(meeting_id=meeting.id, action_id=action.id if action is not None else None, at=now,
                             actor_id=actor.id if actor is not None else None, kind=kind,
                             detail={k: v for k, v in detail.items() if v is not None} or None))


def attendee_ids(meeting) -> list[int]:
    return [a.user_id for a in meeting.attendees]


def signed_by(meeting, part: int = 0) -> set[int]:
    return {s.user_id for s in meeting.signatures if s.part == part}


def unsigned(meeting, part: int = 0) -> list[int]:
    done = signed_by(meeting, part)
    return [u for u in attendee_ids(meeting) if u not in done]


# --- opening a meeting -----------------------------------------------------------------------------

def open_meeting(session, actor, month: str, *, now: datetime) -> tuple[Meeting, bool]:
    """Quality opens `month`'s meeting with the proposed agenda → (meeting, True); when it is open
    already, that one → (meeting, False) (a second tap, or a colleague first)."""
    from domain.monthly import months
    from domain.settings import company_tz
    if not actor.has_role(Role.QUALITY):
        raise NotAllowed(N_("只有品管可以发起客诉专题会。"))
    first = months.parse(month)
    if first > months.this_month(now.astimezone(company_tz()).date()):
        raise InvalidInput(N_("不能为还没到的月份开会。"), field="month")
    month = months.name(first)
    existing = session.scalar(select(Meeting).where(Meeting.month == month))
    if existing is not None:
        return existing, False
    meeting = Meeting(month=month, title=title_for(month), status="draft", opened_by_id=actor.id, opened_at=now,
                      version=1)
    session.add(meeting)
    session.flush()
    for position, item in enumerate(agenda.propose(session, month), start=1):
        session.add(MeetingItem(meeting_id=meeting.id, position=position, **item))
    event(session, meeting, actor, "opened", now, month=month)
    session.flush()
    return meeting, True


# --- meeting steps -------------------------------------------------------------------------------------

class Step:
    name: ClassVar[str]
    fields: ClassVar[type[Fields]] = Fields
    sources: ClassVar[frozenset] = frozenset({"draft"})
    roles: ClassVar[frozenset] = frozenset({Role.QUALITY})
    refused: ClassVar[str] = N_("只有品管可以修改专题会。")
    locked: ClassVar[str] = N_("纪要已经发出，不能再修改；如需更正，请添加补充纪要。")

    def may(self, session, actor, meeting) -> bool:
        return bool(actor.roles & self.roles)

    def apply(self, session, actor, meeting, f, now):
        raise NotImplementedError


STEPS: dict[str, Step] = {}


def register(cls):
    STEPS[cls.name] = cls()
    return cls


def act(session, actor, meeting, step: str, fields: Fields | None = None, *, version: int | None, now: datetime):
    """Take `step` on `meeting` as `actor`. `version`: the meeting's version the form was filled on
    (None: not checked — a signature). Raises NotAllowed, InvalidInput or Stale; the caller commits."""
    s = STEPS[step]
    fields = s.fields() if fields is None else fields
    if type(fields) is not s.fields:
        raise TypeError(f"{step} takes {s.fields.__name__}, not {type(fields).__name__}")
    if not s.may(session, actor, meeting):
        raise NotAllowed(s.refused)
    if meeting.status not in s.sources:
        raise InvalidInput(s.locked)
    if version is not None and version != meeting.version:
        raise Stale(message=STALE)
    return s.apply(session, actor, meeting, fields, now)


def _item(meeting, item_id) -> MeetingItem:
    item = next((i for i in meeting.items if i.id == item_id), None)
    if item is None:
        raise InvalidInput(N_("找不到这个议题，请刷新后再试。"), field="item_id")
    return item


@dataclass(frozen=True)
class DetailsFields(Fields):
    title: str | None = None
    held_on: date | None = None
    place: str | None = None
    attendees: tuple = ()           # user ids

    @classmethod
    def from_form(cls, form, meeting):
        from domain.text import small_int
        ids = tuple(small_int(v) or -1 for v in (form.getlist("attendees") if hasattr(form, "getlist")
                                                  else form.get("attendees") or ()))
        base = super().from_form(form, meeting)
        return cls(base.title, base.held_on, base.place, ids)


@register
class Details(Step):
    """Title, date, place and attendees; the newly invited are told."""
    name = "details"
    fields = DetailsFields

    def apply(self, session, actor, meeting, f, now):
        title = checked(f.title, "title", 120, required=True, multiline=False, message=N_("请填写会议名称。"))
        if not isinstance(f.held_on, date):
            raise InvalidInput(N_("请填写会议日期。"), field="held_on")
        if abs((f.held_on - now.date()).days) > 366:
            raise InvalidInput(N_("会议日期应在一年以内。"), field="held_on")
        place = checked(f.place, "place", 120, multiline=False)
        wanted = list(dict.fromkeys(f.attendees))
        if not wanted:
            raise InvalidInput(N_("请至少选择一位参会人。"), field="attendees")
        if len(wanted) > MAX_ATTENDEES:
            raise InvalidInput(N_("参会人最多 %(n)d 位。"), field="attendees", n=MAX_ATTENDEES)
        found = set(session.scalars(select(User.id).where(User.id.in_(wanted), User.active.is_(True))))
        if len(found) != len(wanted):
            raise InvalidInput(N_("请从列表中选择参会人。"), field="attendees")
        before = set(attendee_ids(meeting))
        for row in list(meeting.attendees):
            if row.user_id not in found:
                meeting.attendees.remove(row)
                session.delete(row)
        for uid in wanted:
            if uid not in before:
                meeting.attendees.append(MeetingAttendee(meeting_id=meeting.id, user_id=uid))
        meeting.title, meeting.held_on, meeting.place = title, f.held_on, place
        added = [u for u in wanted if u not in before]
        tell(session, added, "meeting:invited", f"mtg:{meeting.id}:inv", now, actor)
        event(session, meeting, actor, "details", now, held_on=f.held_on.isoformat(), place=place,
               added=len(added) or None, removed=len(before - found) or None)
        return meeting


@dataclass(frozen=True)
class ItemFields(Fields):
    title: str | None = None
    number: str | None = None       # a complaint to discuss, by its number (optional)


@register
class AddItem(Step):
    name = "add_item"
    fields = ItemFields

    def apply(self, session, actor, meeting, f, now):
        title = checked(f.title, "title", 200, multiline=False)
        complaint_id = None
        if (f.number or "").strip():
            number = numbering.normalise(f.number)
            row = session.execute(select(Complaint.id, Complaint.content).where(Complaint.number == number)).first()
            if row is None:
                raise InvalidInput(N_("找不到编号为 %(n)s 的投诉。"), field="number", n=number[:24])
            complaint_id = row.id
            title = title or f"{number} {' '.join((row.content or '').split())}"[:200]
        if not title:
            raise InvalidInput(N_("请写明议题，或填写要讨论的投诉编号。"), field="title")
        if len(meeting.items) >= MAX_ITEMS:
            raise InvalidInput(N_("议题最多 %(n)d 个。"), field="title", n=MAX_ITEMS)
        position = max((i.position for i in meeting.items), default=0) + 1
        item = MeetingItem(meeting_id=meeting.id, position=position, source="added", complaint_id=complaint_id,
                           title=title)
        meeting.items.append(item)
        session.flush()
        event(session, meeting, actor, "item_added", now, title=title[:80])
        return item


@dataclass(frozen=True)
class ItemRef(Fields):
    item_id: int | None = None


@register
class RemoveItem(Step):
    name = "remove_item"
    fields = ItemRef

    def apply(self, session, actor, meeting, f, now):
        item = _item(meeting, f.item_id)
        if item.actions:
            raise InvalidInput(N_("这个议题已有措施，请先删除措施再删议题。"), field="item_id")
        meeting.items.remove(item)
        session.delete(item)
        event(session, meeting, actor, "item_removed", now, title=item.title[:80])
        return meeting


@dataclass(frozen=True)
class ConclusionFields(Fields):
    item_id: int | None = None
    conclusion: str | None = None


@register
class Conclude(Step):
    name = "conclude"
    fields = ConclusionFields

    def apply(self, session, actor, meeting, f, now):
        item = _item(meeting, f.item_id)
        item.conclusion = checked(f.conclusion, "conclusion", 2000, required=True, message=N_("请写下讨论的结论。"))
        event(session, meeting, actor, "concluded", now, item=item.position, title=item.title[:80])
        return item


@dataclass(frozen=True)
class ActionFields(Fields):
    item_id: int | None = None
    kind: str = "corrective"
    text: str | None = None
    owner_unit_id: int | None = None
    owner_user_id: int | None = None
    due: date | None = None


@register
class AddAction(Step):
    """A new corrective or preventive action on an agenda item: an owner unit or person (or both)
    and a due date; the owners are told at once."""
    name = "add_action"
    fields = ActionFields

    def apply(self, session, actor, meeting, f, now):
        item = _item(meeting, f.item_id)
        if f.kind not in ACTION_KINDS:
            raise InvalidInput(N_("请选择措施类型。"), field="kind")
        text = checked(f.text, "text", 1000, required=True, message=N_("请写明措施内容。"))
        unit = user = None
        if f.owner_unit_id:
            unit = session.get(OrgUnit, f.owner_unit_id) if f.owner_unit_id > 0 else None
            if unit is None or not unit.active:
                raise InvalidInput(N_("请从列表中选择单位。"), field="owner_unit_id")
        if f.owner_user_id:
            user = session.get(User, f.owner_user_id) if f.owner_user_id > 0 else None
            if user is None or not user.active:
                raise InvalidInput(N_("请从列表中选择负责人。"), field="owner_user_id")
        if unit is None and user is None:
            raise InvalidInput(N_("请选择负责单位或负责人。"), field="owner_unit_id")
        due = action_due(f.due, now)
        a = CorrectiveAction(complaint_id=None, meeting_item_id=item.id, kind=f.kind, text=text,
                             owner_unit_id=unit.id if unit else None, owner_user_id=user.id if user else None,
                             owner_name=user.display_name if user else None, due=due, created_by_id=actor.id, created_at=now)
        item.actions.append(a)
        session.flush()
        tell(session, owners(session, a), "meeting:action", f"cap:{a.id}:new", now, actor)
        event(session, meeting, actor, "action_added", now, a, text=text[:80], due=due.isoformat())
        return a


@dataclass(frozen=True)
class ActionRef(Fields):
    action_id: int | None = None


@register
class RemoveAction(Step):
    name = "remove_action"
    fields = ActionRef

    def apply(self, session, actor, meeting, f, now):
        a = next((a for i in meeting.items for a in i.actions if a.id == f.action_id), None)
        if a is None:
            raise InvalidInput(N_("找不到这项措施，请刷新后再试。"), field="action_id")
        if a.done_at is not None or a.verdict is not None:
            raise InvalidInput(N_("这项措施已经报告完成，不能删除。"), field="action_id")
        session.execute(MeetingEvent.__table__.update().where(MeetingEvent.action_id == a.id).values(action_id=None))
        a.meeting_item.actions.remove(a)
        session.delete(a)
        event(session, meeting, actor, "action_removed", now, text=a.text[:80])
        return meeting
