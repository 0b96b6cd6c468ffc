"""The minutes' steps of the monthly meeting (registered in domain.meetings.steps' STEPS): issuing
them (locked, every attendee asked to sign), one attendee's signature (one tap, once) and an
addendum — the only way to correct issued minutes, signed by everyone in turn."""
from __future__ import annotations

from dataclasses import dataclass

from domain.errors import InvalidInput, N_
from domain.fields import Fields
from domain.meetings.steps import Step, attendee_ids, event, register, signed_by, unsigned
from domain.meetings.tell import tell
from domain.text import checked
from models.meeting import MeetingAddendum, MeetingSignature


@register
class Issue(Step):
    """Draft → issued: the minutes are locked and every attendee is asked to sign."""
    name = "issue"

    def apply(self, session, actor, meeting, f, now):
        if meeting.held_on is None or not meeting.attendees:
            raise InvalidInput(N_("请先填写会议日期和参会人。"), field="")
        if not meeting.items:
            raise InvalidInput(N_("议程是空的：请至少添加一个议题。"), field="")
        missing = [n for n, i in enumerate(meeting.items, start=1) if not i.conclusion]
        if missing:
            raise InvalidInput(N_("还有议题没有记录结论（第 %(items)s 项）。"), field="",
                               items="、".join(str(p) for p in missing[:10]))
        meeting.status, meeting.issued_at = "issued", now
        tell(session, attendee_ids(meeting), "meeting:sign", f"mtg:{meeting.id}:p0", now, actor)
        event(session, meeting, actor, "issued", now, attendees=len(meeting.attendees))
        return meeting


@dataclass(frozen=True)
class SignFields(Fields):
    part: int | None = 0            # 0: the minutes; n: addendum n


@register
class Sign(Step):
    """An attendee confirms the minutes (or an addendum) with one tap; a second tap changes nothing."""
    name = "sign"
    fields = SignFields
    sources = frozenset({"issued", "signed"})
    refused = N_("只有参会人可以签字确认纪要。")
    locked = N_("纪要还没有发出，发出后才能签字。")

    def may(self, session, actor, meeting):
        return actor.id in attendee_ids(meeting)

    def apply(self, session, actor, meeting, f, now):
        part = f.part or 0
        if part and part not in {a.number for a in meeting.addenda}:
            raise InvalidInput(N_("找不到这份补充纪要，请刷新后再试。"), field="part")
        if actor.id in signed_by(meeting, part):
            return False
        meeting.signatures.append(MeetingSignature(meeting_id=meeting.id, part=part, user_id=actor.id, at=now))
        event(session, meeting, actor, "signed", now, part=part or None)
        if part == 0 and not unsigned(meeting, 0):
            meeting.status, meeting.signed_at = "signed", now
            event(session, meeting, None, "all_signed", now)
        return True


@dataclass(frozen=True)
class AddendumFields(Fields):
    text: str | None = None


@register
class Addendum(Step):
    """A correction to issued minutes: numbered, locked like them, signed by every attendee."""
    name = "addendum"
    fields = AddendumFields
    sources = frozenset({"issued", "signed"})
    locked = N_("纪要还没有发出：直接修改纪要即可。")

    def apply(self, session, actor, meeting, f, now):
        text = checked(f.text, "text", 2000, required=True, message=N_("请写明补充或更正的内容。"))
        number = max((a.number for a in meeting.addenda), default=0) + 1
        meeting.addenda.append(MeetingAddendum(meeting_id=meeting.id, number=number, text=text,
                                               created_by_id=actor.id, created_at=now))
        tell(session, attendee_ids(meeting), "meeting:sign", f"mtg:{meeting.id}:p{number}", now, actor)
        event(session, meeting, actor, "addendum", now, number=number)
        return number
