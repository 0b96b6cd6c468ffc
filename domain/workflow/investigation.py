"""调查处理中 (SPEC §3 stage 2): the responsible department contacts the customer, finds the
cause, plans corrective/preventive actions and proposes a resolution — or hands it back."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from domain.errors import InvalidInput, InvalidInputs, N_
from domain.money import parse_amount
from domain.notify import notify, users_with
from domain.roles import Role
from domain.settings import head_approval_limit
from domain.text import checked
from domain.workflow.choices import ACTION_KINDS, ANSWER_METHODS, CAUSES, PROPOSAL_KINDS
from domain.fields import Reason
from domain.workflow.core import DISPATCHERS, Action, Fields, Outcome, S, complained_against, handles, register
from domain.workflow.approval import approval_level, rejection
from domain.workflow.new import DispatchFields, Explanation, dispatch_choices, pick, send_to, target
from models.complaint import CorrectiveAction, CustomerContact
from models.org import OrgUnit


class DepartmentAction(Action):
    """Taken by the responsible department; investigating and answering are not for the
    complained-against (impartiality, §3.4)."""
    roles = {Role.HANDLER}
    impartial = False

    def guard(self, session, actor, c):
        if not handles(session, actor, c):
            return N_("只有责任部门可以处理这条投诉。")
        if self.impartial and complained_against(actor, c):
            return N_("您是被投诉的一方，按公正原则不能调查或答复这条投诉。")
        return None


@register
class HandBack(DepartmentAction):
    name, label, who = "hand_back", N_("退回：不归本部门"), N_("责任部门")
    sources, targets = {S.INVESTIGATING}, [S.NEW]
    fields, on_the_road, button = Reason, False, "side"

    def apply(self, session, actor, c, f, now):
        reason = checked(f.reason, "reason", 2000, required=True, message=N_("请写明为什么不归本部门处理。"))
        notify(session, users_with(session, Role.QUALITY), c, "handed_back", now, actor)
        old = c.responsible_unit.name if c.responsible_unit else None
        c.responsible_unit_id, c.investigator_id = None, None
        return Outcome(S.NEW, {"unit": old}, reason)


@register
class Reassign(Action):
    name, label, who = "reassign", N_("改派部门"), N_("品管/总经理")
    sources, targets, roles = {S.INVESTIGATING}, [S.INVESTIGATING], DISPATCHERS
    fields, on_the_road = DispatchFields, False

    def apply(self, session, actor, c, f, now):
        old = c.responsible_unit.name if c.responsible_unit else None
        unit, investigator = target(session, c, f.unit_id, f.investigator_id)
        changes = send_to(session, actor, c, now, unit, investigator)
        changes["from_unit"] = old
        return Outcome(S.INVESTIGATING, changes, checked(f.comment, "comment", 2000))

    def form_context(self, session, actor, c):
        return dispatch_choices(session)


@dataclass(frozen=True)
class AddActionFields(Fields):
    kind: str = "corrective"
    text: str | None = None
    owner_unit_id: int | None = None
    owner_name: str | None = None
    due: date | None = None


def action_due(due, now, field: str = "due") -> date:
    """A corrective/preventive action's due date — a complaint's or the monthly meeting's: given,
    not before today, at most three years ahead. Raises InvalidInput on `field`."""
    if not isinstance(due, date):
        raise InvalidInput(N_("请填写完成期限。"), field=field)
    if due < now.date():
        raise InvalidInput(N_("完成期限不能早于今天。"), field=field)
    if due > now.date() + timedelta(days=3 * 366):
        raise InvalidInput(N_("完成期限最远三年以内。"), field=field)
    return due


@register
class AddAction(DepartmentAction):
    name, label, who = "add_action", N_("添加纠正/预防措施"), N_("责任部门")
    sources, targets = {S.INVESTIGATING}, [S.INVESTIGATING]
    fields, on_the_road, button = AddActionFields, False, "side"

    def apply(self, session, actor, c, f, now):
        kind = pick(f.kind, ACTION_KINDS, "kind")
        text = checked(f.text, "text", 1000, required=True, message=N_("请写明措施内容。"))
        if f.owner_unit_id:
            unit = session.get(OrgUnit, f.owner_unit_id) if f.owner_unit_id > 0 else None
            if unit is None or not unit.active:
                raise InvalidInput(N_("请从列表中选择单位。"), field="owner_unit_id")
        due = action_due(f.due, now)
        session.add(CorrectiveAction(complaint=c, kind=kind, text=text, owner_unit_id=f.owner_unit_id or None,
                                     owner_name=checked(f.owner_name, "owner_name", 60, multiline=False), due=due,
                                     created_by_id=actor.id, created_at=now))
        return Outcome(None, {"action": text[:80], "due": due.isoformat()})

    def form_context(self, session, actor, c):
        from domain.orgtree import work_unit_choices
        return {"units": work_unit_choices(session)}


@dataclass(frozen=True)
class ContactFields(Fields):
    method: str | None = None
    reached: bool = True
    note: str | None = None


@register
class LogContact(DepartmentAction):
    name, label, who = "log_contact", N_("记录联系顾客"), N_("责任部门")
    sources = {S.INVESTIGATING, S.EXECUTING}
    fields, impartial, button = ContactFields, True, "side"

    def apply(self, session, actor, c, f, now):
        method = pick(f.method, ANSWER_METHODS, "method", N_("请选择联系方式。"))
        note = checked(f.note, "note", 2000)
        session.add(CustomerContact(complaint_id=c.id, at=now, by_id=actor.id, method=method, reached=bool(f.reached),
                                    note=note, purpose="investigation"))
        return Outcome(None, {"method": method, "reached": bool(f.reached)}, note)


@register
class NotOurs(Explanation, DepartmentAction):
    """The department's finding (§3.1 stage 2): the complaint is unreasonable, or reasonable but
    another party's doing — explained to the customer, then the follow-up. Not for the
    complained-against (impartiality, §3.4)."""
    name, label, who = "not_ours", N_("调查结论：不合理或非我司责任"), N_("责任部门")
    sources, impartial, on_the_road, button = {S.INVESTIGATING}, True, False, "side"


@dataclass(frozen=True)
class ProposalFields(Fields):
    findings: str | None = None
    root_cause: str | None = None
    cause_category: str | None = None
    kind: str | None = None
    amount: str | None = None
    text: str | None = None


@register
class Propose(DepartmentAction):
    name, label, who = "propose", N_("提交处理方案"), N_("责任部门")
    sources, targets = {S.INVESTIGATING}, [S.PENDING_APPROVAL]
    fields, impartial = ProposalFields, True

    def form_context(self, session, actor, c):
        return {"rejected": rejection(c)}     # why the last one was rejected, above the form

    def initial(self, session, c):
        """The proposal on record (rejected, or its answer not accepted) to edit, not retype."""
        values = {"findings": c.findings, "root_cause": c.root_cause, "cause_category": c.cause_category,
                  "kind": c.proposal_kind, "amount": f"{c.proposal_amount:f}" if c.proposal_amount is not None else None,
                  "text": c.proposal_text}
        return {k: v for k, v in values.items() if v is not None}

    def apply(self, session, actor, c, f, now):
        problems = []
        for name, fn in (
                ("findings", lambda: checked(f.findings, "findings", 5000, required=True,
                                             message=N_("请写下调查结果。"))),
                ("root_cause", lambda: checked(f.root_cause, "root_cause", 2000, required=True,
                                               message=N_("请写下原因分析。"))),
                ("cause_category", lambda: pick(f.cause_category, CAUSES, "cause_category",
                                                N_("请选择原因类别（人/机/料/法/环/测）。"))),
                ("proposal_kind", lambda: pick(f.kind, PROPOSAL_KINDS, "kind", N_("请选择处理方式。"))),
                ("proposal_amount", lambda: parse_amount(f.amount, "amount")),
                ("proposal_text", lambda: checked(f.text, "text", 2000, required=True,
                                                  message=N_("请写下答复顾客的内容。")))):
            try:
                setattr(c, name, fn())
            except InvalidInput as err:
                problems.append(err)
        if not problems and c.proposal_kind in ("refund", "compensation") and not c.proposal_amount:
            problems.append(InvalidInput(N_("退款或赔偿请填写金额。"), field="amount"))
        if problems:
            raise InvalidInputs(problems)
        # Proposing a resolution is the department's finding: the complaint is reasonable and the
        # company's to settle (§3.1 stage 2).
        c.valid, c.company_responsible, c.other_party, c.explanation = True, True, None, None
        c.approval_level = approval_level(c, head_approval_limit(session))
        c.approved_by_id = c.approved_at = None
        approvers = users_with(session, Role.MANAGER) if c.approval_level == "manager" else \
            users_with(session, Role.HANDLER, c.responsible_unit_id, heads=True)
        notify(session, approvers, c, "to_approve", now, actor)
        return Outcome(S.PENDING_APPROVAL, {"kind": c.proposal_kind, "amount": str(c.proposal_amount or ""),
                                            "level": c.approval_level})
