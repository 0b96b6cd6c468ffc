"""Penalty rules and the amount they propose (SPEC §6, seed 001 六.3 罚扣方式).

The admin keeps a table of amounts by severity × responsibility kind, and surcharges (percent) for
handling that ran over a time limit, for repeat complaints and for concealment confirmed by the
store audit. The seed names these cases but gives no amounts: the defaults below are a starting
point for the company to set. `propose(session, complaint, attribution, now)` applies the table to a
complaint whose responsibility is confirmed; quality may put another amount, with a reason.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sqlalchemy import exists, select

from domain import audit
from domain.attribution import KINDS
from domain.errors import InvalidInput, InvalidInputs, N_, NotAllowed
from domain.money import parse_amount
from domain.roles import Role
from domain.severity import Severity
from models.setting import Setting, put

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
AMOUNT_MESSAGE = N_("请填写 0 到 1000000 之间的金额。")


def rules(session) -> dict[str, dict[str, Decimal]]:
    row = session.get(Setting, RULES)
    stored = row.value if row is not None and isinstance(row.value, dict) else {}
    return {sev: {kind: Decimal(str(stored.get(sev, {}).get(kind, DEFAULT_RULES[sev][kind]))) for kind in KINDS}
            for sev in SEVERITIES}


def surcharges(session) -> dict[str, int]:
    row = session.get(Setting, SURCHARGES)
    stored = row.value if row is not None and isinstance(row.value, dict) else {}
    return {k: int(stored.get(k, v)) for k, v in DEFAULT_SURCHARGES.items()}


def set_rules(session, actor, table: dict, extra: dict, ip=None, *, now: datetime) -> None:
    """Save the table ({severity: {kind: amount}}) and the surcharges ({name: percent}); every bad
    cell is reported at once."""
    if not actor.has_role(Role.ADMIN):
        raise NotAllowed(N_("只有系统管理员可以修改设置。"))
    problems, clean_table, clean_extra = [], {}, {}
    for sev in SEVERITIES:
        clean_table[sev] = {}
        for kind in KINDS:
            try:
                amount = parse_amount(table.get(sev, {}).get(kind, ""), f"rule_{sev}_{kind}", maximum=MAX_AMOUNT,
                                      required=True, message=AMOUNT_MESSAGE)
            except InvalidInput as err:
                problems.append(err)
                continue
            clean_table[sev][kind] = f"{amount.normalize():f}"
    for name in DEFAULT_SURCHARGES:
        raw = str(extra.get(name, "")).strip().rstrip("%")
        if not raw.isdigit() or int(raw) > 500:
            problems.append(InvalidInput(N_("请填写 0 到 500 之间的百分比。"), field=f"surcharge_{name}"))
            continue
        clean_extra[name] = int(raw)
    if problems:
        raise InvalidInputs(problems)
    for key, value in ((RULES, clean_table), (SURCHARGES, clean_extra)):
        put(session, key, value, by_id=actor.id, now=now)
    audit.record(session, audit.SETTING_CHANGED, actor_id=actor.id, target=f"setting:{RULES}", ip=ip, now=now,
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
