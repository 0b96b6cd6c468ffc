"""The short path of inquiries (咨询) and suggestions (建议), SPEC §3.3: answered or noted, then
closed."""
from __future__ import annotations

from dataclasses import dataclass

from domain.errors import N_
from domain.roles import Role
from domain.text import checked
from domain.workflow.anytime import ReceiverSideAction
from domain.workflow.choices import ANSWER_METHODS
from domain.fields import Note
from domain.workflow.core import DISPATCHERS, INQUIRY, SUGGESTION, Fields, Outcome, S, handles, register
from domain.workflow.new import DispatchFields, dispatch_choices, pick, send_to, target


@register
class TransferInquiry(ReceiverSideAction):
    """Seed 003: an inquiry the counter cannot answer is transferred to the department that can
    (within 24 h), whose handlers then answer it (within 3 working days). The transfer stops the
    transfer clock (分派); the answer clock runs on until the answer."""
    name, label, who = "transfer_inquiry", N_("转交部门答复"), N_("受理人/品管")
    sources, types, roles = {S.NEW}, {INQUIRY}, DISPATCHERS | {Role.RECEIVER}
    fields, on_the_road, button = DispatchFields, False, "side"

    def apply(self, session, actor, c, f, now):
        old = c.responsible_unit.name if c.responsible_unit else None
        unit, handler = target(session, c, f.unit_id, f.investigator_id)
        changes = send_to(session, actor, c, now, unit, handler, notice="inquiry_transferred")
        if old:
            changes["from_unit"] = old
        return Outcome(None, changes, checked(f.comment, "comment", 2000))

    def form_context(self, session, actor, c):
        return dispatch_choices(session)


@dataclass(frozen=True)
class InquiryAnswerFields(Fields):
    method: str | None = None
    note: str | None = None


@register
class AnswerInquiry(ReceiverSideAction):
    name, label, who = "answer_inquiry", N_("答复咨询"), N_("受理人/品管/部门")
    sources, targets, types = {S.NEW}, [S.ANSWERED], {INQUIRY}
    roles, fields = DISPATCHERS | {Role.RECEIVER, Role.HANDLER}, InquiryAnswerFields

    def guard(self, session, actor, c):
        return None if handles(session, actor, c) else super().guard(session, actor, c)

    def apply(self, session, actor, c, f, now):
        c.answer_method = pick(f.method, ANSWER_METHODS, "method", N_("请选择答复方式。"))
        c.answer_note = checked(f.note, "note", 2000, required=True, message=N_("请写下答复内容。"))
        c.answered_by_id, c.answered_at, c.customer_accepted = actor.id, now, True
        return Outcome(S.ANSWERED, {"method": c.answer_method}, c.answer_note, tell="answer")


@register
class Acknowledge(ReceiverSideAction):
    name, label, who = "acknowledge", N_("感谢并记录建议"), N_("受理人/品管")
    sources, targets, types, roles, fields = {S.NEW}, [S.ACKNOWLEDGED], {SUGGESTION}, DISPATCHERS | {Role.RECEIVER}, Note

    def apply(self, session, actor, c, f, now):
        c.answer_note = checked(f.note, "note", 2000, required=True, message=N_("请写下对建议的处理或感谢。"))
        c.answered_by_id, c.answered_at, c.customer_accepted = actor.id, now, True
        return Outcome(S.ACKNOWLEDGED, None, c.answer_note, tell="answer")


@register
class CloseShort(ReceiverSideAction):
    name, label, who = "close_short", N_("结案"), N_("首问负责人/品管")
    sources, targets, types = {S.ANSWERED, S.ACKNOWLEDGED}, [S.CLOSED], {INQUIRY, SUGGESTION}
    roles, fields = DISPATCHERS | {Role.RECEIVER}, Note

    def apply(self, session, actor, c, f, now):
        c.close_reason, c.closed_at = "resolved", now
        c.close_note = checked(f.note, "note", 2000)
        return Outcome(S.CLOSED, None, c.close_note)
