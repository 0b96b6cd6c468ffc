"""The closed loop (SPEC §3): one table of transitions, one function per action.

Every action is `act(session, actor, complaint, action, version=…, now=…, **fields)`: it checks
that the action exists for this complaint's type and stage, that the actor's role and scope allow
it (including impartiality, §3.4, and approval routing), that the form was filled on the current
version of the record (optimistic lock), then applies the change, writes the event, keeps the
stage counts and notifies the first responder — all in the caller's transaction. Views, jobs,
the CLI, demo data and tests call this; nothing else writes `Complaint.stage`.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select, update

from domain.errors import DomainError, InvalidInput, N_, NotAllowed
from domain.roles import Role
from domain.scoping import complaint_or_none, covers_unit
from domain.severity import Severity
from domain.stages import Stage
from domain.text import clean
from models.complaint import (Assignment, Category, Complaint, ComplaintEvent, CorrectiveAction,
                              CustomerContact, Notification, StageCount)
from models.org import OrgUnit
from models.user import User, UserRole

S = Stage
DISPATCHERS = frozenset({Role.QUALITY, Role.MANAGER})
OPEN = frozenset(s for s in Stage if s is not Stage.CLOSED)
COMPLAINT, INQUIRY, SUGGESTION = "complaint", "inquiry", "suggestion"
ALL_TYPES = frozenset({COMPLAINT, INQUIRY, SUGGESTION})

CAUSES = {"man": N_("人"), "machine": N_("机"), "material": N_("料"), "method": N_("法"),
          "environment": N_("环"), "measurement": N_("测")}
PROPOSAL_KINDS = {"refund": N_("退款"), "exchange": N_("换货"), "return": N_("退货"), "repair": N_("维修"),
                  "compensation": N_("赔偿"), "apology": N_("道歉/解释"), "other": N_("其他")}
OTHER_PARTIES = {"supplier": N_("供应商"), "carrier": N_("承运方"), "customer": N_("顾客自身"), "other": N_("其他")}
ANSWER_METHODS = {"phone": N_("电话"), "visit": N_("上门/到店"), "email": N_("邮件"), "message": N_("短信/微信"),
                  "letter": N_("书面")}
VERDICTS = {"effective": N_("有效"), "ineffective": N_("无效"), "waived": N_("免验证")}
DEFAULT_HEAD_APPROVAL_LIMIT = Decimal("2000")   # below this, not major/serious: the department head approves
FAILED_CONTACTS_TO_CLOSE = 3


class Stale(DomainError):
    """The record changed after the form was loaded. `events` are the changes since."""

    def __init__(self, events):
        super().__init__(N_("在您填写期间，有人修改了这条投诉。请看下面的最新情况后再操作，您的操作没有保存。"))
        self.events = events


CONFLICT = N_("在您操作的同时，有人已经处理了这条投诉。请刷新后查看最新情况，您的操作没有保存。")


def conflict_message(err) -> str | None:
    """CONFLICT when `err` is a lost race on the same record (optimistic lock at commit, or
    SQLite's writer lock), else None."""
    from sqlalchemy.exc import OperationalError
    from sqlalchemy.orm.exc import StaleDataError
    if isinstance(err, StaleDataError):
        return CONFLICT
    if isinstance(err, OperationalError) and "locked" in str(err).lower():
        return CONFLICT
    return None


@dataclass(frozen=True)
class Transition:
    action: str
    sources: frozenset
    targets: tuple          # possible next stages (the first is the usual one)
    roles: frozenset
    types: frozenset
    label: str
    who: str                # for the diagram and the help text


def T(action, sources, targets, roles, label, who, types=frozenset({COMPLAINT})):
    return Transition(action, frozenset(sources), tuple(targets), frozenset(roles), frozenset(types), label, who)


# The one table the code, the tests and the diagram on the record page read.
TRANSITIONS = {t.action: t for t in [
    T("dispatch", {S.NEW}, [S.INVESTIGATING], DISPATCHERS, N_("核实并分派"), N_("品管/总经理")),
    T("not_responsible", {S.NEW}, [S.FOLLOW_UP], DISPATCHERS, N_("非我司责任，解释答复"), N_("品管/总经理")),
    T("hand_back", {S.INVESTIGATING}, [S.NEW], {Role.HANDLER}, N_("退回：不归本部门"), N_("责任部门")),
    T("reassign", {S.INVESTIGATING}, [S.INVESTIGATING], DISPATCHERS, N_("改派部门"), N_("品管/总经理")),
    T("add_action", {S.INVESTIGATING}, [S.INVESTIGATING], {Role.HANDLER}, N_("添加纠正/预防措施"), N_("责任部门")),
    T("log_contact", {S.INVESTIGATING, S.EXECUTING}, [], {Role.HANDLER}, N_("记录联系顾客"), N_("责任部门")),
    T("propose", {S.INVESTIGATING}, [S.PENDING_APPROVAL], {Role.HANDLER}, N_("提交处理方案"), N_("责任部门")),
    T("approve", {S.PENDING_APPROVAL}, [S.EXECUTING], {Role.MANAGER, Role.HANDLER}, N_("批准"),
      N_("总经理（小额一般投诉：部门负责人）")),
    T("reject", {S.PENDING_APPROVAL}, [S.INVESTIGATING], {Role.MANAGER, Role.HANDLER}, N_("驳回"),
      N_("总经理（小额一般投诉：部门负责人）")),
    T("answer", {S.EXECUTING}, [S.VERIFYING, S.FOLLOW_UP, S.INVESTIGATING], {Role.HANDLER, Role.RECEIVER},
      N_("执行并答复顾客"), N_("责任部门或首问负责人")),
    T("verify", {S.VERIFYING}, [S.FOLLOW_UP, S.INVESTIGATING], {Role.QUALITY}, N_("验证措施效果"), N_("品管")),
    T("survey", {S.FOLLOW_UP}, [S.CLOSED, S.FOLLOW_UP], {Role.RECEIVER, Role.QUALITY, Role.MANAGER},
      N_("回访满意度"), N_("首问负责人/品管")),
    T("contact_failed", {S.FOLLOW_UP}, [S.FOLLOW_UP], {Role.RECEIVER, Role.QUALITY, Role.MANAGER},
      N_("回访未联系上"), N_("首问负责人/品管")),
    T("close", {S.FOLLOW_UP}, [S.CLOSED], DISPATCHERS, N_("结案"), N_("品管/总经理")),
    T("reopen", {S.FOLLOW_UP, S.CLOSED}, [S.INVESTIGATING, S.NEW], DISPATCHERS, N_("重新处理"), N_("品管/总经理"),
      ALL_TYPES),
    T("withdraw", OPEN, [S.CLOSED], DISPATCHERS | {Role.RECEIVER}, N_("顾客撤诉"), N_("品管/总经理/首问负责人"),
      ALL_TYPES),
    T("mark_duplicate", OPEN, [S.CLOSED], DISPATCHERS, N_("重复登记，关闭"), N_("品管/总经理"), ALL_TYPES),
    # §4.1: waiting for the customer's material pauses the clocks (visible on the record).
    T("pause", OPEN, [], DISPATCHERS | {Role.HANDLER, Role.RECEIVER}, N_("等待客户补充材料（暂停计时）"),
      N_("处理人/品管/首问负责人"), {COMPLAINT, INQUIRY}),
    T("resume", OPEN, [], DISPATCHERS | {Role.HANDLER, Role.RECEIVER}, N_("客户材料已到，恢复计时"),
      N_("处理人/品管/首问负责人"), {COMPLAINT, INQUIRY}),
    # §6: responsibility of a valid, company-responsible complaint (seed 001 六.1–2).
    T("attribute", {S.EXECUTING, S.VERIFYING, S.FOLLOW_UP, S.CLOSED}, [], DISPATCHERS, N_("确认责任归属"),
      N_("品管/总经理")),
    # §3.3: inquiries and suggestions take the short path.
    T("answer_inquiry", {S.NEW}, [S.ANSWERED], DISPATCHERS | {Role.RECEIVER, Role.HANDLER}, N_("答复咨询"),
      N_("受理人/品管/部门"), {INQUIRY}),
    T("acknowledge", {S.NEW}, [S.ACKNOWLEDGED], DISPATCHERS | {Role.RECEIVER}, N_("感谢并记录建议"),
      N_("受理人/品管"), {SUGGESTION}),
    T("close_short", {S.ANSWERED, S.ACKNOWLEDGED}, [S.CLOSED], DISPATCHERS | {Role.RECEIVER}, N_("结案"),
      N_("首问负责人/品管"), {INQUIRY, SUGGESTION}),
]}


# --- who may -------------------------------------------------------------------------

def _handles(session, actor, complaint) -> bool:
    """A handler of the responsible department (or a head above it)."""
    return (actor.has_role(Role.HANDLER) and complaint.responsible_unit_id is not None
            and covers_unit(session, actor, complaint.responsible_unit_id))


def _receiver_side(session, actor, complaint) -> bool:
    return complaint.first_responder_id == actor.id or (
        actor.has_role(Role.RECEIVER) and covers_unit(session, actor, complaint.receiving_unit_id))


def _complained_against(actor, complaint) -> bool:
    return actor.id == complaint.complained_user_id or (
        complaint.complained_unit_id is not None and actor.org_unit_id == complaint.complained_unit_id)


def _last_actor(complaint, kind) -> int | None:
    for event in reversed(complaint.events):
        if event.kind == kind:
            return event.actor_id
    return None


def refusal(session, actor, complaint, action) -> str | None:
    """Why `actor` may not take `action` now (a message id), or None when they may."""
    t = TRANSITIONS.get(action)
    if t is None or complaint.type not in t.types or complaint.stage not in t.sources:
        return N_("这条投诉现在不能做这个操作。")
    if not actor.roles & t.roles:
        return N_("您的角色不能做这个操作。")
    dispatcher = bool(actor.roles & DISPATCHERS)
    if action in ("hand_back", "add_action", "log_contact", "propose"):
        if not _handles(session, actor, complaint):
            return N_("只有责任部门可以处理这条投诉。")
        if _complained_against(actor, complaint) and action in ("propose", "log_contact"):
            return N_("您是被投诉的一方，按公正原则不能调查或答复这条投诉。")
    elif action in ("approve", "reject"):
        if _complained_against(actor, complaint) and actor.id == complaint.complained_user_id:
            return N_("您是被投诉人，按公正原则不能审批这条投诉。")
        if _last_actor(complaint, "propose") == actor.id:
            return N_("方案由您提交，须由另一人审批。")
        if complaint.approval_level == "manager" and not actor.has_role(Role.MANAGER):
            return N_("这条投诉须总经理审批。")
        if not actor.has_role(Role.MANAGER) and not (actor.is_head and _handles(session, actor, complaint)):
            return N_("只有总经理或责任部门负责人可以审批。")
    elif action == "answer":
        if not (_handles(session, actor, complaint) or complaint.first_responder_id == actor.id):
            return N_("只有责任部门或首问负责人可以答复顾客。")
        if _complained_against(actor, complaint):
            return N_("您是被投诉的一方，按公正原则不能答复顾客。")
    elif action in ("survey", "contact_failed"):
        if not (dispatcher or _receiver_side(session, actor, complaint)):
            return N_("只有首问负责人、本店受理人或品管可以回访。")
    elif action == "close":
        if not (complaint.satisfaction is not None and complaint.satisfaction <= 2) \
                and complaint.failed_contacts < FAILED_CONTACTS_TO_CLOSE:
            return N_("回访满意后会自动结案；只有顾客不满意或三次联系不上时才由品管/总经理结案。")
    elif action == "reopen":
        if complaint.stage == S.FOLLOW_UP and not (complaint.satisfaction is not None and complaint.satisfaction <= 2):
            return N_("只有已结案或顾客不满意的投诉可以重新处理。")
    elif action == "attribute":
        from domain.attribution import eligible
        if not eligible(complaint):
            return N_("只有处理方案已批准、且确属我司责任的投诉才需要确认责任归属。")
        if actor.id == complaint.complained_user_id:
            return N_("您是被投诉人，按公正原则不能确认这条投诉的责任归属。")
    elif action in ("pause", "resume"):
        if (complaint.paused_at is not None) == (action == "pause"):
            return N_("计时已经暂停。") if action == "pause" else N_("计时没有暂停。")
        if not (dispatcher or _handles(session, actor, complaint) or _receiver_side(session, actor, complaint)):
            return N_("只有责任部门、首问负责人或品管可以做这个操作。")
    elif action in ("withdraw", "answer_inquiry", "acknowledge", "close_short"):
        if not (dispatcher or _receiver_side(session, actor, complaint)
                or (action == "answer_inquiry" and _handles(session, actor, complaint))):
            return N_("只有首问负责人、本店受理人或品管可以做这个操作。")
    return None


def available(session, actor, complaint) -> list[Transition]:
    """The actions `actor` may take on `complaint` now (the record page shows these)."""
    return [t for action, t in TRANSITIONS.items() if refusal(session, actor, complaint, action) is None]


# --- helpers ---------------------------------------------------------------------------

def _text(value, name, limit=2000, required=True, message=None):
    value = clean(value, multiline=True)
    if required and not value:
        raise InvalidInput(message or N_("请填写这一项。"), field=name)
    if len(value) > limit:
        raise InvalidInput(N_("最多 %(max)d 个字。"), field=name, max=limit)
    return value or None


def _choice(value, options, name, message=N_("请选择一项。")):
    if value not in options:
        raise InvalidInput(message, field=name)
    return value


def _amount(value, name):
    from domain.intake import _amount as parse
    return parse(value, name)


def bump_stage_count(session, from_stage: str | None, to_stage: str | None) -> None:
    if from_stage == to_stage:
        return
    from models import upsert_insert
    insert = upsert_insert(session)
    for stage, delta in ((from_stage, -1), (to_stage, 1)):
        if stage is None:
            continue
        session.execute(insert(StageCount).values(stage=stage, n=0).on_conflict_do_nothing(index_elements=["stage"]))
        session.execute(update(StageCount).where(StageCount.stage == stage).values(n=StageCount.n + delta))


EMAIL_KINDS = frozenset({"major_registered"})   # notices that also go by e-mail (reminders always do)


def notify(session, user_ids, complaint, kind, now, actor=None) -> None:
    users = sorted({u for u in user_ids if u and (actor is None or u != actor.id)})
    rows = [Notification(user_id=user_id, complaint_id=complaint.id, kind=kind, at=now) for user_id in users]
    session.add_all(rows)
    if kind in EMAIL_KINDS and rows:
        from domain import channels
        if channels.smtp_config(session) is not None:
            from models.sla import Outbox
            session.flush()
            emails = dict(session.execute(select(User.id, User.email).where(User.id.in_(users))).all())
            session.add_all(Outbox(channel="email", dedupe_key=f"n{n.id}:mail", kind=kind, notification_id=n.id,
                                   user_id=n.user_id, complaint_id=complaint.id, next_attempt_at=now, created_at=now)
                            for n in rows if emails.get(n.user_id))


def _users_with(session, role, unit_id=None, heads=False):
    query = select(User.id).join(UserRole).where(UserRole.role == role, User.active.is_(True))
    if unit_id is not None:
        query = query.where(User.org_unit_id == unit_id)
    if heads:
        query = query.where(User.is_head.is_(True))
    return list(session.scalars(query))


# --- the actions -----------------------------------------------------------------------

def act(session, actor, complaint, action: str, *, version: int, now: datetime, **fields) -> Complaint:
    """Take `action` on `complaint` as `actor`. Raises NotAllowed, InvalidInput or Stale; the
    caller commits (or rolls back)."""
    if complaint_or_none(session, actor, complaint.id) is None:
        raise NotAllowed(N_("找不到这条投诉，或者它不在您的查看范围内。"))
    if version != complaint.version:
        raise Stale([e for e in complaint.events if (e.version or 0) > version])
    why = refusal(session, actor, complaint, action)
    if why:
        raise NotAllowed(why)
    before = complaint.stage
    handler = globals()["_" + action]
    to_stage, changes, comment, kind = handler(session, actor, complaint, now, **fields)
    if to_stage and to_stage != before:
        complaint.stage = to_stage
        bump_stage_count(session, before, to_stage)
    complaint.updated_at = now
    complaint.version += 1  # with version_id_col the UPDATE also checks the old value
    session.add(ComplaintEvent(complaint=complaint, at=now, actor_id=actor.id, kind=kind or action,
                               from_stage=before, to_stage=complaint.stage if complaint.stage != before else None,
                               changes=changes or None, comment=comment, version=complaint.version))
    if complaint.stage != before:
        notify(session, [complaint.first_responder_id], complaint, "stage:" + complaint.stage, now, actor)
    from domain import clocks
    if complaint.paused_at is not None and complaint.stage != before:
        _end_pause(session, complaint, now)   # the work moved on: the clocks run again
    if complaint.stage == S.CLOSED and before != S.CLOSED:
        clocks.on_event(session, complaint, "closed", now)
    elif action == "answer":
        if complaint.customer_accepted:
            clocks.on_event(session, complaint, "answer:accepted", now)
    elif action == "survey" and complaint.stage == S.FOLLOW_UP:
        clocks.on_event(session, complaint, "survey", now)
    else:
        clocks.on_event(session, complaint, action, now)
    return complaint


def _dispatch(session, actor, c, now, *, unit_id=None, investigator_id=None, category_id=None,
              severity=None, comment=None):
    unit = session.get(OrgUnit, unit_id) if isinstance(unit_id, int) and unit_id > 0 else None
    if unit is None or not unit.active or unit.kind == "company":
        raise InvalidInput(N_("请选择责任部门。"), field="unit_id")
    if c.complained_unit_id == unit.id:
        raise InvalidInput(N_("被投诉的单位不能调查自己（公正原则），请分派给其他部门。"), field="unit_id")
    investigator = None
    if investigator_id:
        investigator = session.get(User, investigator_id) if isinstance(investigator_id, int) else None
        if investigator is None or not investigator.active or not investigator.has_role(Role.HANDLER) \
                or investigator.org_unit_id != unit.id:
            raise InvalidInput(N_("调查人须是该部门的处理人。"), field="investigator_id")
        if investigator.id == c.complained_user_id:
            raise InvalidInput(N_("被投诉人不能调查自己的投诉（公正原则）。"), field="investigator_id")
    changes = _classify(session, c, category_id, severity)
    c.valid, c.company_responsible = True, True
    c.responsible_unit_id, c.investigator_id, c.dispatched_at = unit.id, investigator.id if investigator else None, now
    session.add(Assignment(complaint_id=c.id, unit_id=unit.id, at=now, by_id=actor.id))
    notify(session, _users_with(session, Role.HANDLER, unit.id, heads=True) + [c.investigator_id], c, "assigned",
           now, actor)
    changes.update(unit=unit.name, investigator=investigator.display_name if investigator else None)
    return S.INVESTIGATING, changes, _text(comment, "comment", required=False), None


def _classify(session, c, category_id, severity) -> dict:
    """The dispatcher confirms or corrects category and severity (never below a forced major)."""
    changes = {}
    if category_id and category_id != c.category_id:
        category = session.get(Category, category_id) if isinstance(category_id, int) else None
        if category is None or not category.active:
            raise InvalidInput(N_("请选择投诉类别。"), field="category_id")
        changes["category"] = [c.category.name, category.name]
        c.category_id = category.id
    if severity and severity != c.severity:
        try:
            chosen = Severity(severity)
        except ValueError:
            raise InvalidInput(N_("请选择严重程度。"), field="severity") from None
        if c.severity_reasons and chosen is not Severity.MAJOR:
            raise InvalidInput(N_("这条投诉因安全、金额或媒体等原因被定为重大，不能降级。"), field="severity")
        changes["severity"] = [c.severity, chosen.value]
        c.severity = chosen.value
    return changes


def _not_responsible(session, actor, c, now, *, valid=True, other_party=None, explanation=None, **_):
    c.valid = bool(valid)
    c.company_responsible = False
    c.other_party = _choice(other_party, OTHER_PARTIES, "other_party", N_("请选择责任方。")) if c.valid else None
    c.explanation = _text(explanation, "explanation", message=N_("请写下给顾客的解释。"))
    c.customer_accepted = None
    return S.FOLLOW_UP, {"valid": c.valid, "other_party": c.other_party}, c.explanation, None


def _hand_back(session, actor, c, now, *, reason=None, **_):
    reason = _text(reason, "reason", message=N_("请写明为什么不归本部门处理。"))
    notify(session, _users_with(session, Role.QUALITY), c, "handed_back", now, actor)
    old = c.responsible_unit.name if c.responsible_unit else None
    c.responsible_unit_id, c.investigator_id = None, None
    return S.NEW, {"unit": old}, reason, None


def _reassign(session, actor, c, now, *, unit_id=None, investigator_id=None, comment=None, **_):
    old = c.responsible_unit.name if c.responsible_unit else None
    _stage, changes, _comment, _kind = _dispatch(session, actor, c, now, unit_id=unit_id,
                                                 investigator_id=investigator_id)
    changes["from_unit"] = old
    return S.INVESTIGATING, changes, _text(comment, "comment", required=False), None


def _add_action(session, actor, c, now, *, kind="corrective", text=None, owner_unit_id=None, owner_name=None,
                due=None, **_):
    kind = _choice(kind, ("corrective", "preventive"), "kind")
    text = _text(text, "text", 1000, message=N_("请写明措施内容。"))
    if owner_unit_id:
        unit = session.get(OrgUnit, owner_unit_id) if isinstance(owner_unit_id, int) else None
        if unit is None or not unit.active:
            raise InvalidInput(N_("请从列表中选择单位。"), field="owner_unit_id")
    if not isinstance(due, date):
        raise InvalidInput(N_("请填写完成期限。"), field="due")
    if due < now.date():
        raise InvalidInput(N_("完成期限不能早于今天。"), field="due")
    if due > now.date() + timedelta(days=3 * 366):
        raise InvalidInput(N_("完成期限最远三年以内。"), field="due")
    action = CorrectiveAction(complaint=c, kind=kind, text=text, owner_unit_id=owner_unit_id or None,
                              owner_name=_text(owner_name, "owner_name", 60, required=False), due=due,
                              created_by_id=actor.id, created_at=now)
    session.add(action)
    return None, {"action": text[:80], "due": due.isoformat()}, None, None


def _log_contact(session, actor, c, now, *, method=None, reached=True, note=None, **_):
    method = _choice(method, ANSWER_METHODS, "method", N_("请选择联系方式。"))
    session.add(CustomerContact(complaint_id=c.id, at=now, by_id=actor.id, method=method, reached=bool(reached),
                                note=_text(note, "note", required=False), purpose="investigation"))
    return None, {"method": method, "reached": bool(reached)}, _text(note, "note", required=False), None


def _pause(session, actor, c, now, *, reason=None, **_):
    reason = _text(reason, "reason", 200, message=N_("请写明在等客户补充什么（例如：发票照片、检测样品）。"))
    from domain import clocks
    c.paused_at, c.pause_reason = now, reason
    clocks.pause(session, c, now)
    return None, {"reason": reason}, reason, None


def _end_pause(session, c, now) -> int:
    from domain import clocks
    minutes = max(0, int((now - c.paused_at).total_seconds() // 60))
    clocks.resume(session, c, now)
    c.paused_at, c.pause_reason = None, None
    return minutes


def _resume(session, actor, c, now, *, note=None, **_):
    note = _text(note, "note", 500, required=False)
    return None, {"paused_minutes": _end_pause(session, c, now)}, note, None


def _attribute(session, actor, c, now, *, kind=None, unit_id=None, user_id=None, reason=None, **_):
    from domain import attribution
    from models.complaint import Attribution
    unit, person = attribution.check(session, kind, unit_id, user_id)
    chosen = (kind, unit.id, person.id if person else None)
    proposal = attribution.propose(c)
    differs = proposal is None or chosen != (proposal.kind, proposal.unit_id, proposal.user_id)
    reason = _text(reason, "reason", 500, required=differs,
                   message=N_("与系统建议的归属不同，请写明理由。"))
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
    changes = {"kind": kind, "unit": unit.name, "user": person.display_name if person else None,
               "as_proposed": not differs}
    return None, changes, reason, None


def approval_level(c, head_limit: Decimal = DEFAULT_HEAD_APPROVAL_LIMIT) -> str:
    """§3 stage 3: major/serious or an amount above the limit → the manager; otherwise the head."""
    if c.severity in (Severity.MAJOR, Severity.SERIOUS) or (c.proposal_amount or 0) > head_limit:
        return "manager"
    return "head"


def _propose(session, actor, c, now, *, findings=None, root_cause=None, cause_category=None, kind=None,
             amount=None, text=None, **_):
    problems = []
    for name, fn in (("findings", lambda: _text(findings, "findings", 5000, message=N_("请写下调查结果。"))),
                     ("root_cause", lambda: _text(root_cause, "root_cause", 2000, message=N_("请写下原因分析。"))),
                     ("cause_category", lambda: _choice(cause_category, CAUSES, "cause_category",
                                                        N_("请选择原因类别（人/机/料/法/环/测）。"))),
                     ("proposal_kind", lambda: _choice(kind, PROPOSAL_KINDS, "kind", N_("请选择处理方式。"))),
                     ("proposal_amount", lambda: _amount(amount, "amount")),
                     ("proposal_text", lambda: _text(text, "text", 2000, message=N_("请写下答复顾客的内容。")))):
        try:
            setattr(c, name, fn())
        except InvalidInput as err:
            problems.append(err)
    if not problems and c.proposal_kind in ("refund", "compensation") and not c.proposal_amount:
        problems.append(InvalidInput(N_("退款或赔偿请填写金额。"), field="amount"))
    if problems:
        from domain.errors import InvalidInputs
        raise InvalidInputs(problems)
    from domain.settings import head_approval_limit
    c.approval_level = approval_level(c, head_approval_limit(session))
    c.approved_by_id = c.approved_at = None
    approvers = _users_with(session, Role.MANAGER) if c.approval_level == "manager" else \
        _users_with(session, Role.HANDLER, c.responsible_unit_id, heads=True)
    notify(session, approvers, c, "to_approve", now, actor)
    return S.PENDING_APPROVAL, {"kind": c.proposal_kind, "amount": str(c.proposal_amount or ""),
                                "level": c.approval_level}, None, None


def _approve(session, actor, c, now, *, comment=None, **_):
    c.approved_by_id, c.approved_at = actor.id, now
    notify(session, [c.investigator_id] + _users_with(session, Role.HANDLER, c.responsible_unit_id, heads=True),
           c, "approved", now, actor)
    return S.EXECUTING, {"level": c.approval_level}, _text(comment, "comment", required=False), None


def _reject(session, actor, c, now, *, comment=None, **_):
    comment = _text(comment, "comment", message=N_("驳回时请写明原因。"))
    notify(session, [c.investigator_id, _last_actor(c, "propose")], c, "rejected", now, actor)
    return S.INVESTIGATING, None, comment, None


def _answer(session, actor, c, now, *, method=None, note=None, accepted=None, **_):
    c.answer_method = _choice(method, ANSWER_METHODS, "method", N_("请选择答复方式。"))
    if accepted not in (True, False):
        raise InvalidInput(N_("请选择顾客是否认可。"), field="accepted")
    c.answer_note = _text(note, "note", required=not accepted,
                          message=N_("顾客不认可时，请写下顾客的意见。"))
    c.answered_by_id, c.answered_at, c.customer_accepted = actor.id, now, accepted
    if not accepted:
        notify(session, [c.investigator_id], c, "answer_not_accepted", now, actor)
        return S.INVESTIGATING, {"accepted": False}, c.answer_note, None
    pending = [a for a in c.actions if a.verdict not in ("effective", "waived")]
    return (S.VERIFYING if pending else S.FOLLOW_UP), {"accepted": True, "method": c.answer_method}, c.answer_note, None


def _verify(session, actor, c, now, *, verdicts=None, **_):
    """verdicts: {action id: (verdict, reason)} for every action still to verify."""
    verdicts = verdicts or {}
    pending = [a for a in c.actions if a.verdict not in ("effective", "waived")]
    problems = []
    for a in pending:
        verdict, reason = verdicts.get(a.id, (None, None))
        if verdict not in VERDICTS:
            problems.append(InvalidInput(N_("请为每项措施选择验证结果。"), field=f"verdict_{a.id}"))
            continue
        reason = clean(reason or "", multiline=True)
        if len(reason) > 500:
            problems.append(InvalidInput(N_("最多 %(max)d 个字。"), field=f"reason_{a.id}", max=500))
            continue
        if verdict != "effective" and not reason:
            problems.append(InvalidInput(N_("无效或免验证时请写明原因。"), field=f"reason_{a.id}"))
            continue
        a.verdict, a.verdict_reason, a.verified_by_id, a.verified_at = verdict, reason or None, actor.id, now
        a.done = verdict == "effective" or a.done
    if problems:
        from domain.errors import InvalidInputs
        raise InvalidInputs(problems)
    ineffective = [a for a in pending if a.verdict == "ineffective"]
    summary = {str(a.id): a.verdict for a in pending}
    if ineffective:
        notify(session, [c.investigator_id] + _users_with(session, Role.HANDLER, c.responsible_unit_id, heads=True),
               c, "ineffective", now, actor)
        return S.INVESTIGATING, summary, None, None
    return S.FOLLOW_UP, summary, None, None


def closure_problem(c) -> str | None:
    """§3 stage 7: an accepted answer (or an explanation), every action verified or waived."""
    if not (c.customer_accepted or c.spot_accepted or c.company_responsible is False):
        return N_("还没有顾客认可的答复，不能结案。")
    if any(a.verdict not in ("effective", "waived") for a in c.actions):
        return N_("还有纠正/预防措施没有验证，不能结案。")
    return None


def _survey(session, actor, c, now, *, score=None, comment=None, **_):
    if not isinstance(score, int) or isinstance(score, bool) or not 1 <= score <= 5:
        raise InvalidInput(N_("请选择 1 到 5 分。"), field="score")
    c.satisfaction, c.satisfaction_comment = score, _text(comment, "comment", required=False)
    session.add(CustomerContact(complaint_id=c.id, at=now, by_id=actor.id, method="phone", reached=True,
                                note=c.satisfaction_comment, purpose="follow_up"))
    if score <= 2:
        c.needs_decision = True
        notify(session, _users_with(session, Role.QUALITY) + _users_with(session, Role.MANAGER), c, "dissatisfied",
               now, actor)
        return S.FOLLOW_UP, {"score": score}, c.satisfaction_comment, None
    problem = closure_problem(c)
    if problem:
        raise InvalidInput(problem)
    c.close_reason, c.closed_at, c.needs_decision = "resolved", now, False
    return S.CLOSED, {"score": score}, c.satisfaction_comment, None


def _contact_failed(session, actor, c, now, *, note=None, **_):
    c.failed_contacts += 1
    c.needs_decision = c.needs_decision or c.failed_contacts >= FAILED_CONTACTS_TO_CLOSE
    session.add(CustomerContact(complaint_id=c.id, at=now, by_id=actor.id, method="phone", reached=False,
                                note=_text(note, "note", required=False), purpose="follow_up"))
    return None, {"attempt": c.failed_contacts}, _text(note, "note", required=False), None


def _close(session, actor, c, now, *, note=None, **_):
    note = _text(note, "note", message=N_("请写下结案说明。"))
    problem = closure_problem(c)
    if problem:
        raise InvalidInput(problem)
    c.close_reason = "no_contact" if c.satisfaction is None else "decided"
    c.needs_decision = False
    c.close_note, c.closed_at = note, now
    return S.CLOSED, {"reason": c.close_reason}, note, None


def _reopen(session, actor, c, now, *, comment=None, **_):
    comment = _text(comment, "comment", message=N_("请写明重新处理的原因。"))
    c.closed_at = c.close_reason = None
    c.satisfaction = None
    c.needs_decision = False
    c.failed_contacts = 0
    c.customer_accepted = None
    target = S.NEW if c.responsible_unit_id is None or c.type != COMPLAINT else S.INVESTIGATING
    notify(session, [c.investigator_id] + _users_with(session, Role.HANDLER, c.responsible_unit_id, heads=True)
           if c.responsible_unit_id else [], c, "reopened", now, actor)
    return target, None, comment, None


def _withdraw(session, actor, c, now, *, reason=None, **_):
    c.close_reason, c.closed_at = "withdrawn", now
    c.close_note = _text(reason, "reason", message=N_("请写明撤诉的情况。"))
    return S.CLOSED, {"reason": "withdrawn"}, c.close_note, None


def _mark_duplicate(session, actor, c, now, *, duplicate_of_id=None, reason=None, **_):
    if duplicate_of_id == c.id:
        raise InvalidInput(N_("不能标成与自己重复，请填写原投诉的编号。"), field="duplicate_of")
    other = complaint_or_none(session, actor, duplicate_of_id) if isinstance(duplicate_of_id, int) else None
    if other is None:
        raise InvalidInput(N_("请填写原投诉的编号。"), field="duplicate_of")
    c.duplicate_of_id = other.id
    c.close_reason, c.closed_at = "duplicate", now
    c.close_note = _text(reason, "reason", required=False)
    return S.CLOSED, {"duplicate_of": other.number}, c.close_note, None


def _answer_inquiry(session, actor, c, now, *, method=None, note=None, **_):
    c.answer_method = _choice(method, ANSWER_METHODS, "method", N_("请选择答复方式。"))
    c.answer_note = _text(note, "note", message=N_("请写下答复内容。"))
    c.answered_by_id, c.answered_at, c.customer_accepted = actor.id, now, True
    return S.ANSWERED, {"method": c.answer_method}, c.answer_note, None


def _acknowledge(session, actor, c, now, *, note=None, **_):
    c.answer_note = _text(note, "note", message=N_("请写下对建议的处理或感谢。"))
    c.answered_by_id, c.answered_at, c.customer_accepted = actor.id, now, True
    return S.ACKNOWLEDGED, None, c.answer_note, None


def _close_short(session, actor, c, now, *, note=None, **_):
    c.close_reason, c.closed_at = "resolved", now
    c.close_note = _text(note, "note", required=False)
    return S.CLOSED, None, c.close_note, None
