"""A penalty's life (SPEC §6, seed 001 六.3): quality proposes → the manager approves (a serious or
major one is then published by the general manager's office) or rejects; the penalised may appeal
once; the manager upholds, reduces or withdraws.

Each step is one object in STEPS, like the workflow's actions: its typed fields, who may take it,
its guard and its effect. `act(session, actor, complaint, step, fields, version=…, now=…)` is the
only way a penalty changes; every step is a versioned event and tells the people concerned."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import ClassVar

from sqlalchemy import select

from domain.errors import InvalidInput, N_, NotAllowed, Stale
from domain.fields import Comment, Fields
from domain.money import parse_amount
from domain.notify import notify, users_with
from domain.penalties.rules import AMOUNT_MESSAGE, MAX_AMOUNT, propose
from domain.roles import Role
from domain.text import checked

SERIOUS = frozenset({"serious", "major"})          # published by the general manager's office (seed 001)
STATUS_LABELS = {"pending": N_("待总经理审批"), "approved": N_("已批准"), "rejected": N_("已驳回"),
                 "published": N_("已批准并公布")}
EVENT_LABELS = {"proposed": N_("提出罚扣"), "approved": N_("批准"), "rejected": N_("驳回"), "published": N_("公布"),
                "appealed": N_("申诉"), "appeal_upheld": N_("申诉：维持"), "appeal_reduced": N_("申诉：减免"),
                "appeal_withdrawn": N_("申诉：撤销")}
APPEAL_DECISIONS = {"upheld": N_("维持"), "reduced": N_("减免"), "withdrawn": N_("撤销")}
STALE = N_("在您操作的同时，这条罚扣已有变化。请刷新后再看。")


@dataclass(frozen=True)
class ProposeFields(Fields):
    amount: str | None = None        # empty: the rules' amount
    reason: str | None = None


@dataclass(frozen=True)
class AppealFields(Fields):
    appeal: str | None = None


@dataclass(frozen=True)
class AppealDecisionFields(Fields):
    amount: str | None = None
    comment: str | None = None


def _reason(text, required, message, field="reason"):
    return checked(text, field, 500, required=required, message=message)


def _amount(value):
    return parse_amount(value, "amount", maximum=MAX_AMOUNT, required=True, message=AMOUNT_MESSAGE)


class Step:
    name: ClassVar[str]
    label: ClassVar[str]
    fields: ClassVar[type[Fields]] = Comment
    refused: ClassVar[str]             # NotAllowed message for the wrong person

    def may(self, session, actor, p) -> bool:
        return actor.has_role(Role.MANAGER)

    def check(self, session, actor, complaint, p) -> None:
        """Raise InvalidInput when the penalty is not in a state for this step."""

    def apply(self, session, actor, complaint, p, f, now):
        raise NotImplementedError


STEPS: dict[str, Step] = {}


def register(cls):
    STEPS[cls.name] = cls()
    return cls


def penalty_of(session, complaint):
    from models.complaint import Penalty
    return session.scalar(select(Penalty).where(Penalty.complaint_id == complaint.id))


def act(session, actor, complaint, step: str, fields: Fields | None = None, *, version: int | None, now: datetime):
    """Take `step` on the penalty of `complaint` (proposing creates it). `version` is the
    penalty's version the form was filled on (None when proposing). Raises NotAllowed,
    InvalidInput or Stale; the caller commits."""
    s = STEPS[step]
    fields = s.fields() if fields is None else fields
    if not isinstance(fields, s.fields):
        raise TypeError(f"{step} takes {s.fields.__name__}, not {type(fields).__name__}")
    p = penalty_of(session, complaint)
    if not s.may(session, actor, p):
        raise NotAllowed(s.refused)
    if p is not None and version is not None and version != p.version:
        raise Stale(message=STALE)
    s.check(session, actor, complaint, p)
    return s.apply(session, actor, complaint, p, fields, now)


def _event(session, p, actor, kind, now, amount=None, comment=None):
    from models.complaint import PenaltyEvent
    p.version += 1
    p.updated_at = now
    session.add(PenaltyEvent(penalty=p, at=now, actor_id=actor.id, kind=kind, amount=amount, comment=comment,
                             version=p.version))


def responsible_people(session, p) -> list[int]:
    """The person penalised and the heads of the penalised unit and of the unit above it (a team's
    factory, a store's branch)."""
    from models.org import OrgUnit
    from models.user import User
    parent = session.scalar(select(OrgUnit.parent_id).where(OrgUnit.id == p.unit_id))
    heads = session.scalars(select(User.id).where(User.org_unit_id.in_([u for u in (p.unit_id, parent) if u]),
                                                  User.is_head.is_(True), User.active.is_(True))).all()
    return [*heads, *([p.user_id] if p.user_id else [])]


def _proposer(p):
    return next((e.actor_id for e in p.events if e.kind == "proposed"), None)


def concerns(session, actor, p) -> bool:
    """The person penalised, or the head of the penalised unit or of a unit above it in the tree —
    not by seeing everything: the manager decides appeals and cannot file one."""
    from domain.orgtree import subtree_ids
    if actor.has_role(Role.MANAGER):
        return False
    return actor.id == p.user_id or (actor.is_head and p.unit_id in subtree_ids(session, actor.org_unit_id))


@register
class Propose(Step):
    """Quality (or the manager) puts a penalty for an attributed complaint to the manager, with
    the rules' amount or another one and the reason for it."""
    name, label, fields = "propose", N_("提出罚扣"), ProposeFields
    refused = N_("只有品管或总经理可以提出罚扣。")

    def may(self, session, actor, p):
        return actor.has_role(Role.QUALITY, Role.MANAGER)

    def check(self, session, actor, complaint, p):
        if p is not None:
            raise InvalidInput(N_("这条投诉已经有罚扣记录。"))

    def apply(self, session, actor, complaint, p, f, now):
        from models.complaint import Attribution, Penalty
        a = session.scalar(select(Attribution).where(Attribution.complaint_id == complaint.id))
        if a is None:
            raise InvalidInput(N_("请先确认责任归属。"))
        proposal = propose(session, complaint, a, now)
        final = proposal.amount if f.amount in (None, "") else _amount(f.amount)
        reason = _reason(f.reason, final != proposal.amount, N_("金额与标准不同，请写明理由。"))
        p = Penalty(complaint_id=complaint.id, kind=a.kind, unit_id=a.unit_id, user_id=a.user_id,
                    severity=complaint.severity, proposed_amount=proposal.amount, amount=final, reason=reason,
                    basis={"base": str(proposal.base),
                           "surcharges": [[n, pct, str(x)] for n, pct, x in proposal.parts]},
                    status="pending", version=0, created_at=now, updated_at=now)
        session.add(p)
        _event(session, p, actor, "proposed", now, final, reason)
        session.flush()
        notify(session, users_with(session, Role.MANAGER), complaint, "penalty:to_approve", now, actor)
        return p


class Decision(Step):
    """The manager approves or rejects (one tap); a serious or major one is then published."""
    refused = N_("罚扣须由总经理审批。")

    def check(self, session, actor, complaint, p):
        if p is None or p.status != "pending":
            raise InvalidInput(N_("这条罚扣现在不能审批。"))


@register
class Approve(Decision):
    name, label = "approve", N_("批准")

    def apply(self, session, actor, complaint, p, f, now):
        comment = _reason(f.comment, False, None, "comment")
        p.status = "approved"
        _event(session, p, actor, "approved", now, comment=comment)
        if p.severity in SERIOUS:
            p.status = "published"      # 情节严重的，由总经理办公室公布
            _event(session, p, actor, "published", now)
        notify(session, responsible_people(session, p), complaint, "penalty:" + p.status, now, actor)
        return p


@register
class Reject(Decision):
    name, label = "reject", N_("驳回")

    def apply(self, session, actor, complaint, p, f, now):
        comment = _reason(f.comment, True, N_("驳回请写明理由。"), "comment")
        p.status = "rejected"
        _event(session, p, actor, "rejected", now, comment=comment)
        notify(session, [_proposer(p)], complaint, "penalty:rejected", now, actor)
        return p


@register
class Appeal(Step):
    """The penalised unit's head (or the person penalised) objects once."""
    name, label, fields = "appeal", N_("申诉"), AppealFields
    refused = N_("只有被罚扣的本人或其单位负责人可以申诉。")

    def may(self, session, actor, p):
        return p is not None and concerns(session, actor, p)

    def check(self, session, actor, complaint, p):
        if p.status not in ("approved", "published") or p.appeal is not None:
            raise InvalidInput(N_("每条罚扣只能申诉一次，且须在批准之后。"))

    def apply(self, session, actor, complaint, p, f, now):
        p.appeal = _reason(f.appeal, True, N_("请写明申诉理由。"), "appeal")
        p.appeal_by_id = actor.id
        _event(session, p, actor, "appealed", now, comment=p.appeal)
        notify(session, users_with(session, Role.MANAGER), complaint, "penalty:appealed", now, actor)
        return p


class AppealDecision(Step):
    fields, refused = AppealDecisionFields, N_("申诉由总经理决定。")

    def check(self, session, actor, complaint, p):
        if p is None or p.appeal is None or p.appeal_decision is not None:
            raise InvalidInput(N_("这条罚扣没有待决定的申诉。"))

    def amount(self, p, f) -> Decimal:
        return p.amount

    def apply(self, session, actor, complaint, p, f, now):
        comment = _reason(f.comment, True, N_("请写明决定的理由。"), "comment")
        p.amount = self.amount(p, f)
        p.appeal_decision = self.name
        _event(session, p, actor, "appeal_" + self.name, now, p.amount, comment)
        notify(session, [p.appeal_by_id, *responsible_people(session, p)], complaint, "penalty:appeal_decided", now,
               actor)
        return p


@register
class Upheld(AppealDecision):
    name, label = "upheld", APPEAL_DECISIONS["upheld"]


@register
class Reduced(AppealDecision):
    name, label = "reduced", APPEAL_DECISIONS["reduced"]

    def amount(self, p, f):
        new = _amount(f.amount)
        if new >= p.amount:
            raise InvalidInput(N_("减免后的金额须低于原金额。"), field="amount")
        return new


@register
class Withdrawn(AppealDecision):
    name, label = "withdrawn", APPEAL_DECISIONS["withdrawn"]

    def amount(self, p, f):
        return Decimal("0.00")


@dataclass
class Publication:
    number: str            # 总办通〔2026〕3号: the year's publications in order
    at: datetime
    by_id: int


def publication(session, p) -> Publication | None:
    """The general manager's office notice of a published penalty (seed 001 六.3): its number
    counts the publications of that company-year up to this one."""
    from sqlalchemy import func

    from domain.settings import company_tz
    from models.complaint import PenaltyEvent
    event = next((e for e in p.events if e.kind == "published"), None)
    if event is None:
        return None
    tz = company_tz()
    year = event.at.astimezone(tz).year
    start = datetime(year, 1, 1, tzinfo=tz)
    n = session.scalar(select(func.count()).select_from(PenaltyEvent).where(
        PenaltyEvent.kind == "published", PenaltyEvent.at >= start,
        (PenaltyEvent.at < event.at) | ((PenaltyEvent.at == event.at) & (PenaltyEvent.id <= event.id))))
    return Publication(f"总办通〔{year}〕{n}号", event.at, event.actor_id)
