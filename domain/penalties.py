"""Penalty rules and proposals (SPEC §6, seed 001 六.3 罚扣方式).

The admin keeps a table of amounts by severity × responsibility kind, and surcharges (percent) for
handling that ran over a time limit, for repeat complaints and for concealment confirmed by the
store audit. The seed names these cases but gives no amounts: the defaults below are a starting
point for the company to set. `propose(session, complaint)` applies the table to a complaint whose
responsibility is confirmed; a person may change the amount with a reason (next step of issue 7).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation

from sqlalchemy import exists, select

from domain import audit
from domain.attribution import KINDS
from domain.errors import InvalidInput, InvalidInputs, N_, NotAllowed
from domain.roles import Role
from domain.severity import Severity
from models import utcnow
from models.setting import Setting

RULES = "penalty_rules"
SURCHARGES = "penalty_surcharges"
SEVERITIES = [s.value for s in Severity]
# CNY by severity, then by responsibility kind (team, factory, individual, store, branch, department).
DEFAULT_RULES = {
    "minor": {"team": 100, "factory": 200, "individual": 50, "store": 100, "branch": 200, "department": 100},
    "general": {"team": 200, "factory": 500, "individual": 100, "store": 200, "branch": 500, "department": 200},
    "serious": {"team": 500, "factory": 1000, "individual": 300, "store": 500, "branch": 1000, "department": 500},
    "major": {"team": 2000, "factory": 5000, "individual": 1000, "store": 2000, "branch": 5000, "department": 2000},
}
DEFAULT_SURCHARGES = {"overdue": 20, "repeat": 50, "concealed": 100}      # percent of the base amount
SURCHARGE_LABELS = {"overdue": N_("处理超时"), "repeat": N_("二次投诉"), "concealed": N_("瞒报/漏报")}
MAX_AMOUNT = Decimal("1000000")


def rules(session) -> dict[str, dict[str, Decimal]]:
    row = session.get(Setting, RULES)
    stored = row.value if row is not None and isinstance(row.value, dict) else {}
    return {sev: {kind: Decimal(str(stored.get(sev, {}).get(kind, DEFAULT_RULES[sev][kind]))) for kind in KINDS}
            for sev in SEVERITIES}


def surcharges(session) -> dict[str, int]:
    row = session.get(Setting, SURCHARGES)
    stored = row.value if row is not None and isinstance(row.value, dict) else {}
    return {k: int(stored.get(k, v)) for k, v in DEFAULT_SURCHARGES.items()}


def set_rules(session, actor, table: dict, extra: dict, ip=None) -> None:
    """Save the table ({severity: {kind: amount}}) and the surcharges ({name: percent}); every bad
    cell is reported at once."""
    if not actor.has_role(Role.ADMIN):
        raise NotAllowed(N_("只有系统管理员可以修改设置。"))
    problems, clean_table, clean_extra = [], {}, {}
    for sev in SEVERITIES:
        clean_table[sev] = {}
        for kind in KINDS:
            raw = str(table.get(sev, {}).get(kind, "")).replace(",", "").strip()
            try:
                amount = Decimal(raw)
                if not amount.is_finite() or amount < 0 or amount > MAX_AMOUNT:
                    raise InvalidOperation
            except (InvalidOperation, ValueError):
                problems.append(InvalidInput(N_("请填写 0 到 1000000 之间的金额。"), field=f"rule_{sev}_{kind}"))
                continue
            clean_table[sev][kind] = f"{amount.quantize(Decimal('0.01')).normalize():f}"
    for name in DEFAULT_SURCHARGES:
        raw = str(extra.get(name, "")).strip().rstrip("%")
        if not raw.isdigit() or int(raw) > 500:
            problems.append(InvalidInput(N_("请填写 0 到 500 之间的百分比。"), field=f"surcharge_{name}"))
            continue
        clean_extra[name] = int(raw)
    if problems:
        raise InvalidInputs(problems)
    for key, value in ((RULES, clean_table), (SURCHARGES, clean_extra)):
        row = session.get(Setting, key) or Setting(key=key)
        row.value, row.updated_at, row.updated_by_id = value, utcnow(), actor.id
        session.add(row)
    audit.record(session, audit.SETTING_CHANGED, actor_id=actor.id, target=f"setting:{RULES}", ip=ip,
                 after={"surcharges": clean_extra})


@dataclass
class Proposal:
    base: Decimal
    parts: list = field(default_factory=list)      # [(surcharge name, percent, amount)]

    @property
    def amount(self) -> Decimal:
        return self.base + sum((a for _n, _p, a in self.parts), Decimal(0))


def ran_over(session, complaint, now) -> bool:
    """A clock of this complaint stopped after its deadline, or is running past it at `now`."""
    from models.sla import SlaClock
    late = exists().where(SlaClock.complaint_id == complaint.id,
                          ((SlaClock.stopped_at.is_not(None)) & (SlaClock.stopped_at > SlaClock.deadline))
                          | ((SlaClock.stopped_at.is_(None)) & (SlaClock.deadline <= now)))
    return bool(session.scalar(select(late)))


def propose(session, complaint, attribution, now) -> Proposal:
    """The rules' amount for `complaint`, whose responsibility is `attribution` (kind), at `now`."""
    from models.complaint import ConcealmentReview
    base = rules(session)[complaint.severity][attribution.kind]
    extra = surcharges(session)
    found = {
        "overdue": ran_over(session, complaint, now),
        "repeat": complaint.repeat_of_id is not None,
        "concealed": bool(session.scalar(select(exists().where(
            ConcealmentReview.complaint_id == complaint.id, ConcealmentReview.verdict == "confirmed")))),
    }
    parts = [(name, extra[name], (base * extra[name] / 100).quantize(Decimal("0.01")))
             for name in DEFAULT_SURCHARGES if found[name] and extra[name]]
    return Proposal(base, parts)


# --- penalty records: propose → approve / reject → publish; one appeal ----------------------------

SERIOUS = frozenset({"serious", "major"})          # published by the general manager's office (seed 001)
APPEAL_DECISIONS = {"upheld": N_("维持"), "reduced": N_("减免"), "withdrawn": N_("撤销")}


class Stale(InvalidInput):
    def __init__(self):
        super().__init__(N_("在您操作的同时，这条罚扣已有变化。请刷新后再看。"))


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


def _tell(session, p, people, kind, now, actor):
    from domain.workflow import notify
    notify(session, people, p.complaint, kind, now, actor=actor)


def _managers(session):
    from domain.workflow import _users_with
    return _users_with(session, Role.MANAGER)


def _reason(text, required, message):
    from domain.text import clean
    text = clean(text or "", multiline=True)
    if required and not text:
        raise InvalidInput(message, field="reason")
    if len(text) > 500:
        raise InvalidInput(N_("最多 %(max)d 个字。"), field="reason", max=500)
    return text or None


def _money(value) -> Decimal:
    try:
        amount = Decimal(str(value).replace(",", "").strip())
        if not amount.is_finite() or amount < 0 or amount > MAX_AMOUNT:
            raise InvalidOperation
    except (InvalidOperation, ValueError):
        raise InvalidInput(N_("请填写 0 到 1000000 之间的金额。"), field="amount") from None
    return amount.quantize(Decimal("0.01"))


def create(session, actor, complaint, now, amount=None, reason=None):
    """Quality (or the manager) puts a penalty for an attributed complaint to the manager, with the
    rules' amount or another one and the reason for it."""
    from models.complaint import Attribution, Penalty
    if not actor.has_role(Role.QUALITY, Role.MANAGER):
        raise NotAllowed(N_("只有品管或总经理可以提出罚扣。"))
    a = session.scalar(select(Attribution).where(Attribution.complaint_id == complaint.id))
    if a is None:
        raise InvalidInput(N_("请先确认责任归属。"))
    if session.scalar(select(Penalty.id).where(Penalty.complaint_id == complaint.id)) is not None:
        raise InvalidInput(N_("这条投诉已经有罚扣记录。"))
    proposal = propose(session, complaint, a, now)
    final = proposal.amount if amount in (None, "") else _money(amount)
    reason = _reason(reason, final != proposal.amount, N_("金额与标准不同，请写明理由。"))
    p = Penalty(complaint_id=complaint.id, kind=a.kind, unit_id=a.unit_id, user_id=a.user_id,
                severity=complaint.severity, proposed_amount=proposal.amount, amount=final, reason=reason,
                basis={"base": str(proposal.base), "surcharges": [[n, pct, str(x)] for n, pct, x in proposal.parts]},
                status="pending", version=0, created_at=now, updated_at=now)
    session.add(p)
    _event(session, p, actor, "proposed", now, final, reason)
    session.flush()
    _tell(session, p, _managers(session), "penalty:to_approve", now, actor)
    return p


def decide(session, actor, p, decision: str, now, version: int, comment=None):
    """The manager approves or rejects (one tap); a serious or major one is then published."""
    if not actor.has_role(Role.MANAGER):
        raise NotAllowed(N_("罚扣须由总经理审批。"))
    if version != p.version:
        raise Stale()
    if p.status != "pending" or decision not in ("approve", "reject"):
        raise InvalidInput(N_("这条罚扣现在不能审批。"))
    comment = _reason(comment, decision == "reject", N_("驳回请写明理由。"))
    p.status = "approved" if decision == "approve" else "rejected"
    _event(session, p, actor, "approved" if decision == "approve" else "rejected", now, comment=comment)
    if p.status == "approved" and p.severity in SERIOUS:
        p.status = "published"      # 情节严重的，由总经理办公室公布
        _event(session, p, actor, "published", now)
    if p.status == "rejected":
        _tell(session, p, [_proposer(p)], "penalty:rejected", now, actor)
    else:
        _tell(session, p, responsible_people(session, p), "penalty:" + p.status, now, actor)
    return p


def _proposer(p):
    return next((e.actor_id for e in p.events if e.kind == "proposed"), None)


def concerns(session, actor, p) -> bool:
    """The person penalised, or the head of the penalised unit or of a unit above it in the tree —
    not by seeing everything: the manager decides appeals and cannot file one."""
    from domain.orgtree import subtree_ids
    if actor.has_role(Role.MANAGER):
        return False
    return actor.id == p.user_id or (actor.is_head and p.unit_id in subtree_ids(session, actor.org_unit_id))


def file_appeal(session, actor, p, text, now, version: int):
    """The penalised unit's head (or the person penalised) objects once."""
    if version != p.version:
        raise Stale()
    if not concerns(session, actor, p):
        raise NotAllowed(N_("只有被罚扣的本人或其单位负责人可以申诉。"))
    if p.status not in ("approved", "published") or p.appeal is not None:
        raise InvalidInput(N_("每条罚扣只能申诉一次，且须在批准之后。"))
    p.appeal = _reason(text, True, N_("请写明申诉理由。"))
    p.appeal_by_id = actor.id
    _event(session, p, actor, "appealed", now, comment=p.appeal)
    _tell(session, p, _managers(session), "penalty:appealed", now, actor)
    return p


def decide_appeal(session, actor, p, decision: str, now, version: int, amount=None, comment=None):
    if not actor.has_role(Role.MANAGER):
        raise NotAllowed(N_("申诉由总经理决定。"))
    if version != p.version:
        raise Stale()
    if p.appeal is None or p.appeal_decision is not None or decision not in APPEAL_DECISIONS:
        raise InvalidInput(N_("这条罚扣没有待决定的申诉。"))
    comment = _reason(comment, True, N_("请写明决定的理由。"))
    if decision == "reduced":
        new = _money(amount)
        if new >= p.amount:
            raise InvalidInput(N_("减免后的金额须低于原金额。"), field="amount")
        p.amount = new
    elif decision == "withdrawn":
        p.amount = Decimal("0.00")
    p.appeal_decision = decision
    _event(session, p, actor, "appeal_" + decision, now, p.amount, comment)
    _tell(session, p, [p.appeal_by_id, *responsible_people(session, p)], "penalty:appeal_decided", now, actor)
    return p


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


# --- reports --------------------------------------------------------------------------------------

EFFECTIVE = ("approved", "published")


def report(session, by: str, date_from, date_to) -> list[tuple]:
    """Approved (and published) penalties proposed in [date_from, date_to), totalled per
    responsible unit (team, factory, store, branch, department) or per person:
    [(key, name, belongs to, count, total)], largest total first."""
    from sqlalchemy import func

    from domain.ledger import names_of
    from models.complaint import Penalty
    key = Penalty.user_id if by == "person" else Penalty.unit_id
    where = (Penalty.status.in_(EFFECTIVE), Penalty.created_at >= date_from, Penalty.created_at < date_to)
    if by == "person":
        where += (Penalty.user_id.is_not(None),)
    rows = session.execute(select(key, func.count(), func.sum(Penalty.amount)).where(*where)
                           .group_by(key)).all()
    names = names_of(session, by, [r[0] for r in rows])
    out = [(k, *names.get(k, ("—", "")), n, Decimal(total or 0)) for k, n, total in rows]
    return sorted(out, key=lambda r: (-r[4], r[1]))


def listing(session, by: str, key: int, date_from, date_to, limit: int = 200):
    """The penalties behind one report line (drill-down)."""
    from sqlalchemy.orm import selectinload

    from models.complaint import Penalty
    column = Penalty.user_id if by == "person" else Penalty.unit_id
    return session.scalars(select(Penalty).where(column == key, Penalty.status.in_(EFFECTIVE),
                                                 Penalty.created_at >= date_from, Penalty.created_at < date_to)
                           .options(selectinload(Penalty.complaint)).order_by(Penalty.created_at.desc())
                           .limit(limit)).all()
