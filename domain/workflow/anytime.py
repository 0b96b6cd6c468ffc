"""Actions open at any stage: withdrawal, duplicates, waiting for the customer (§4.1), and the
attribution of responsibility once a resolution is approved (§6, seed 001 六.1–2)."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from domain import clocks
from domain.errors import InvalidInput, N_
from domain.roles import Role
from domain.text import checked
from domain.fields import Note, Reason
from domain.workflow.core import (ALL_TYPES, COMPLAINT, DISPATCHERS, INQUIRY, OPEN, Action, Fields, Outcome, S, dispatcher, end_pause, handles, receiver_side, register)
from models.complaint import Complaint


class ReceiverSideAction(Action):
    """Taken by the dispatchers or on the receiving side (the first responder, the store)."""

    def guard(self, session, actor, c):
        if not (dispatcher(actor) or receiver_side(session, actor, c)):
            return N_("只有首问负责人、本店受理人或品管可以做这个操作。")
        return None


@register
class Withdraw(ReceiverSideAction):
    name, label, who = "withdraw", N_("顾客撤诉"), N_("品管/总经理/首问负责人")
    sources, targets, roles, types = OPEN, [S.CLOSED], DISPATCHERS | {Role.RECEIVER}, ALL_TYPES
    fields, on_the_road, button = Reason, False, "warn"

    def apply(self, session, actor, c, f, now):
        c.close_reason, c.closed_at = "withdrawn", now
        c.close_note = checked(f.reason, "reason", 2000, required=True, message=N_("请写明撤诉的情况。"))
        return Outcome(S.CLOSED, {"reason": "withdrawn"}, c.close_note)


@dataclass(frozen=True)
class DuplicateFields(Fields):
    duplicate_of: str | None = None     # the other complaint's number
    reason: str | None = None


@register
class MarkDuplicate(Action):
    name, label, who = "mark_duplicate", N_("重复登记，关闭"), N_("品管/总经理")
    sources, targets, roles, types = OPEN, [S.CLOSED], DISPATCHERS, ALL_TYPES
    fields, on_the_road, button = DuplicateFields, False, "warn"

    def apply(self, session, actor, c, f, now):
        from domain.scoping import visible_complaints
        number = (f.duplicate_of or "").strip().upper()
        other = session.scalar(visible_complaints(session, actor).where(Complaint.number == number)) \
            if number else None
        if other is not None and other.id == c.id:
            raise InvalidInput(N_("不能标成与自己重复，请填写原投诉的编号。"), field="duplicate_of")
        if other is None:
            raise InvalidInput(N_("请填写原投诉的编号。"), field="duplicate_of")
        c.duplicate_of_id = other.id
        c.close_reason, c.closed_at = "duplicate", now
        c.close_note = checked(f.reason, "reason", 2000)
        return Outcome(S.CLOSED, {"duplicate_of": other.number}, c.close_note)


class ClockAction(Action):
    sources, roles, types = OPEN, DISPATCHERS | {Role.HANDLER, Role.RECEIVER}, {COMPLAINT, INQUIRY}
    who, on_the_road, button = N_("处理人/品管/首问负责人"), False, "side"
    pausing: bool

    def guard(self, session, actor, c):
        if (c.paused_at is not None) == self.pausing:
            return N_("计时已经暂停。") if self.pausing else N_("计时没有暂停。")
        if not (dispatcher(actor) or handles(session, actor, c) or receiver_side(session, actor, c)):
            return N_("只有责任部门、首问负责人或品管可以做这个操作。")
        return None


@register
class Pause(ClockAction):
    name, label, fields, pausing = "pause", N_("等待客户补充材料（暂停计时）"), Reason, True

    def apply(self, session, actor, c, f, now):
        reason = checked(f.reason, "reason", 200, required=True,
                         message=N_("请写明在等客户补充什么（例如：发票照片、检测样品）。"))
        c.paused_at, c.pause_reason = now, reason
        clocks.pause(session, c, now)
        return Outcome(None, {"reason": reason}, reason)


@register
class Resume(ClockAction):
    name, label, fields, pausing = "resume", N_("客户材料已到，恢复计时"), Note, False

    def apply(self, session, actor, c, f, now):
        note = checked(f.note, "note", 500)
        return Outcome(None, {"paused_minutes": end_pause(session, c, now)}, note)


@dataclass(frozen=True)
class AttributionFields(Fields):
    kind: str | None = None
    unit_id: int | None = None
    user_id: int | None = None
    reason: str | None = None


@register
class Attribute(Action):
    name, label, who = "attribute", N_("确认责任归属"), N_("品管/总经理")
    sources, roles = {S.EXECUTING, S.VERIFYING, S.FOLLOW_UP, S.CLOSED}, DISPATCHERS
    fields, on_the_road, button = AttributionFields, False, "side"

    def guard(self, session, actor, c):
        from domain.attribution import eligible
        if not eligible(c):
            return N_("只有处理方案已批准、且确属我司责任的投诉才需要确认责任归属。")
        if actor.id == c.complained_user_id:
            return N_("您是被投诉人，按公正原则不能确认这条投诉的责任归属。")
        return None

    def apply(self, session, actor, c, f, now):
        from domain import attribution
        from models.complaint import Attribution
        unit, person = attribution.check(session, f.kind, f.unit_id, f.user_id)
        chosen = (f.kind, unit.id, person.id if person else None)
        proposal = attribution.propose(c)
        differs = proposal is None or chosen != (proposal.kind, proposal.unit_id, proposal.user_id)
        reason = checked(f.reason, "reason", 500, required=differs, message=N_("与系统建议的归属不同，请写明理由。"))
        row = session.scalar(select(Attribution).where(Attribution.complaint_id == c.id))
        if row is None:
            row = Attribution(complaint_id=c.id)
            session.add(row)
        row.kind, row.unit_id, row.user_id = chosen
        row.proposed_kind = proposal.kind if proposal else None
        row.proposed_unit_id = proposal.unit_id if proposal else None
        row.proposed_user_id = proposal.user_id if proposal else None
        row.reason, row.confirmed_by_id, row.confirmed_at = reason, actor.id, now
        c.attributed = True
        return Outcome(None, {"kind": f.kind, "unit": unit.name, "user": person.display_name if person else None,
                              "as_proposed": not differs}, reason)

    def form_context(self, session, actor, c):
        from domain import attribution
        from domain.orgtree import work_unit_choices
        from models.org import OrgUnit
        from models.user import User
        people = session.execute(select(User.id, User.display_name, OrgUnit.name).join(OrgUnit)
                                 .where(User.active.is_(True)).order_by(OrgUnit.id, User.display_name)).all()
        return {"units": work_unit_choices(session), "people": [(i, f"{unit} · {name}") for i, name, unit in people],
                "proposal": attribution.propose(c)}

    def initial(self, session, c):
        from domain import attribution
        proposal = attribution.propose(c)   # the form starts from the proposal
        if proposal is None:
            return {}
        return {"kind": proposal.kind, "unit_id": str(proposal.unit_id or ""), "user_id": str(proposal.user_id or "")}
