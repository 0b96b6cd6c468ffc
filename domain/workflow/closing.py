"""执行答复 → 待验证 → 待回访 → 已结案 (SPEC §3 stages 4–7): the answer to the customer, the
verification of the actions, the follow-up survey, closing and reopening."""
from __future__ import annotations

from dataclasses import dataclass

from domain.errors import InvalidInput, InvalidInputs, N_
from domain.notify import notify, users_with
from domain.roles import Role
from domain.text import checked
from domain.workflow.choices import ANSWER_METHODS, FAILED_CONTACTS_TO_CLOSE, VERDICTS
from domain.fields import Comment, Note
from domain.workflow.core import (ALL_TYPES, DISPATCHERS, Action, Fields, Outcome, S, complained_against, dispatcher, handles, receiver_side, register)
from domain.workflow.new import pick
from models.complaint import CustomerContact


def closure_problem(c) -> str | None:
    """§3 stage 7: an accepted answer (or an explanation), every action verified or waived."""
    if not (c.customer_accepted or c.spot_accepted or c.company_responsible is False):
        return N_("还没有顾客认可的答复，不能结案。")
    if any(a.verdict not in ("effective", "waived") for a in c.actions):
        return N_("还有纠正/预防措施没有验证，不能结案。")
    return None


def unverified(c):
    return [a for a in c.actions if a.verdict not in ("effective", "waived")]


def record_verdict(a, verdict, reason, actor, now, suffix: str = "") -> None:
    """Quality's verdict on one corrective/preventive action — a complaint's (Verify below) or the
    monthly meeting's (domain.meetings): effective, or ineffective / waived with a reason. Raises
    InvalidInput on field verdict<suffix> / reason<suffix>."""
    if verdict not in VERDICTS:
        raise InvalidInput(N_("请为每项措施选择验证结果。"), field=f"verdict{suffix}")
    reason = checked(reason, f"reason{suffix}", 500, required=verdict != "effective",
                     message=N_("无效或免验证时请写明原因。"))
    a.verdict, a.verdict_reason, a.verified_by_id, a.verified_at = verdict, reason, actor.id, now
    a.done = verdict == "effective" or a.done


@dataclass(frozen=True)
class AnswerFields(Fields):
    method: str | None = None
    accepted: bool | None = None
    note: str | None = None
    upload_token: str | None = None     # the answer's letter, receipts …: files.py


@register
class Answer(Action):
    name, label, who = "answer", N_("执行并答复顾客"), N_("责任部门或首问负责人")
    sources, targets = {S.EXECUTING}, [S.VERIFYING, S.FOLLOW_UP, S.INVESTIGATING]
    roles, fields = {Role.HANDLER, Role.RECEIVER}, AnswerFields

    def guard(self, session, actor, c):
        if not (handles(session, actor, c) or c.first_responder_id == actor.id):
            return N_("只有责任部门或首问负责人可以答复顾客。")
        if complained_against(actor, c):
            return N_("您是被投诉的一方，按公正原则不能答复顾客。")
        return None

    def apply(self, session, actor, c, f, now):
        c.answer_method = pick(f.method, ANSWER_METHODS, "method", N_("请选择答复方式。"))
        if f.accepted not in (True, False):
            raise InvalidInput(N_("请选择顾客是否认可。"), field="accepted")
        c.answer_note = checked(f.note, "note", 2000, required=not f.accepted,
                                message=N_("顾客不认可时，请写下顾客的意见。"))
        c.answered_by_id, c.answered_at, c.customer_accepted = actor.id, now, f.accepted
        from domain.workflow.files import claim_uploads, listing
        names = claim_uploads(session, actor, c, f.upload_token)
        files = {"files": names} if names else {}
        if not f.accepted:
            notify(session, [c.investigator_id], c, "answer_not_accepted", now, actor)
            return Outcome(S.INVESTIGATING, {"accepted": False, **files}, listing(names, c.answer_note))
        return Outcome(S.VERIFYING if unverified(c) else S.FOLLOW_UP,
                       {"accepted": True, "method": c.answer_method, **files}, listing(names, c.answer_note),
                       tell="answer")

    def clock_event(self, c):
        return "answer:accepted" if c.customer_accepted else None


@dataclass(frozen=True)
class VerifyFields(Fields):
    verdicts: dict | None = None    # {action id: (verdict, reason)} for every action still to verify

    @classmethod
    def from_form(cls, form, complaint):
        return cls({a.id: (form.get(f"verdict_{a.id}"), form.get(f"reason_{a.id}")) for a in complaint.actions})


@register
class Verify(Action):
    name, label, who = "verify", N_("验证措施效果"), N_("品管")
    sources, targets, roles = {S.VERIFYING}, [S.FOLLOW_UP, S.INVESTIGATING], {Role.QUALITY}
    fields = VerifyFields

    def apply(self, session, actor, c, f, now):
        verdicts = f.verdicts or {}
        pending = unverified(c)
        problems = []
        for a in pending:
            verdict, reason = verdicts.get(a.id, (None, None))
            try:
                record_verdict(a, verdict, reason, actor, now, f"_{a.id}")
            except InvalidInput as err:
                problems.append(err)
        if problems:
            raise InvalidInputs(problems)
        summary = {str(a.id): a.verdict for a in pending}
        if any(a.verdict == "ineffective" for a in pending):
            notify(session, [c.investigator_id] + users_with(session, Role.HANDLER, c.responsible_unit_id, heads=True),
                   c, "ineffective", now, actor)
            return Outcome(S.INVESTIGATING, summary)
        return Outcome(S.FOLLOW_UP, summary)


class FollowUpAction(Action):
    sources, roles = {S.FOLLOW_UP}, {Role.RECEIVER, Role.QUALITY, Role.MANAGER}
    who = N_("首问负责人/品管")

    def guard(self, session, actor, c):
        if not (dispatcher(actor) or receiver_side(session, actor, c)):
            return N_("只有首问负责人、本店受理人或品管可以回访。")
        return None


@dataclass(frozen=True)
class SurveyFields(Fields):
    score: int | None = None
    comment: str | None = None


@register
class Survey(FollowUpAction):
    name, label, targets, fields = "survey", N_("回访满意度"), [S.CLOSED, S.FOLLOW_UP], SurveyFields

    def expected_on(self, c):
        return not c.needs_decision   # then quality decides: close (or reopen)

    def apply(self, session, actor, c, f, now):
        score = f.score
        if not isinstance(score, int) or isinstance(score, bool) or not 1 <= score <= 5:
            raise InvalidInput(N_("请选择 1 到 5 分。"), field="score")
        c.satisfaction, c.satisfaction_comment = score, checked(f.comment, "comment", 2000)
        session.add(CustomerContact(complaint_id=c.id, at=now, by_id=actor.id, method="phone", reached=True,
                                    note=c.satisfaction_comment, purpose="follow_up"))
        if score <= 2:
            c.needs_decision = True
            notify(session, users_with(session, Role.QUALITY) + users_with(session, Role.MANAGER), c,
                   "dissatisfied", now, actor)
            return Outcome(S.FOLLOW_UP, {"score": score}, c.satisfaction_comment)
        problem = closure_problem(c)
        if problem:
            raise InvalidInput(problem)
        c.close_reason, c.closed_at, c.needs_decision = "resolved", now, False
        return Outcome(S.CLOSED, {"score": score}, c.satisfaction_comment)


@register
class ContactFailed(FollowUpAction):
    name, label, targets, fields = "contact_failed", N_("回访未联系上"), [S.FOLLOW_UP], Note
    on_the_road = False

    def apply(self, session, actor, c, f, now):
        c.failed_contacts += 1
        c.needs_decision = c.needs_decision or c.failed_contacts >= FAILED_CONTACTS_TO_CLOSE
        note = checked(f.note, "note", 2000)
        session.add(CustomerContact(complaint_id=c.id, at=now, by_id=actor.id, method="phone", reached=False,
                                    note=note, purpose="follow_up"))
        return Outcome(None, {"attempt": c.failed_contacts}, note)


def dissatisfied(c) -> bool:
    return c.satisfaction is not None and c.satisfaction <= 2


@register
class Close(Action):
    name, label, who = "close", N_("结案"), N_("品管/总经理")
    sources, targets, roles, fields = {S.FOLLOW_UP}, [S.CLOSED], DISPATCHERS, Note

    def guard(self, session, actor, c):
        if not (c.needs_decision or dissatisfied(c)) and c.failed_contacts < FAILED_CONTACTS_TO_CLOSE:
            return N_("回访满意后会自动结案；只有顾客不满意或三次联系不上时才由品管/总经理结案。")
        return None

    def apply(self, session, actor, c, f, now):
        note = checked(f.note, "note", 2000, required=True, message=N_("请写下结案说明。"))
        problem = closure_problem(c)
        if problem:
            raise InvalidInput(problem)
        c.close_reason = "no_contact" if c.satisfaction is None else "decided"
        c.needs_decision = False
        c.close_note, c.closed_at = note, now
        return Outcome(S.CLOSED, {"reason": c.close_reason}, note)


@register
class Reopen(Action):
    name, label, who = "reopen", N_("重新处理"), N_("品管/总经理")
    sources, targets, roles, types = {S.FOLLOW_UP, S.CLOSED}, [S.INVESTIGATING, S.NEW], DISPATCHERS, ALL_TYPES
    fields, on_the_road = Comment, False     # a step back, never the one expected

    def guard(self, session, actor, c):
        if c.stage == S.FOLLOW_UP and not (dissatisfied(c) or c.needs_decision):
            return N_("只有已结案或顾客不满意的投诉可以重新处理。")
        return None

    def apply(self, session, actor, c, f, now):
        comment = checked(f.comment, "comment", 2000, required=True, message=N_("请写明重新处理的原因。"))
        c.closed_at = c.close_reason = None
        c.satisfaction = None
        c.needs_decision = False
        c.failed_contacts = 0
        c.customer_accepted = None
        target = S.NEW if c.responsible_unit_id is None or c.type != "complaint" else S.INVESTIGATING
        notify(session, [c.investigator_id] + users_with(session, Role.HANDLER, c.responsible_unit_id, heads=True)
               if c.responsible_unit_id else [], c, "reopened", now, actor)
        return Outcome(target, None, comment)
