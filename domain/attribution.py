"""Responsibility attribution (SPEC §6, seed 001 六.1–2 投诉罚扣责任归属).

When a complaint is found valid and company-responsible (its resolution was approved), the domain
proposes who answers for it:

- processing units (factories and their teams) — the **team** 班组 is the smallest unit; when no
  team can be identified, the whole **factory** 全厂 (六.1);
- business and service departments — the **individual**; when no individual can be identified,
  the **store** 专卖店 or the **branch** 分公司 (六.2); a complaint about neither (e.g. a head-office
  department on the hotline) falls to that **department**.

Quality (or the manager) confirms the proposal or changes it with a reason: the workflow action
`attribute` (domain.workflow) stores the result here and writes the event.
"""
from __future__ import annotations

from dataclasses import dataclass

from domain.errors import InvalidInput, N_
from domain.orgtree import UnitKind
from models.org import OrgUnit
from models.user import User

KINDS = {"team": N_("班组"), "factory": N_("全厂"), "individual": N_("个人"), "store": N_("门店"),
         "branch": N_("分公司"), "department": N_("部门")}
# The unit kind each attribution kind points at (an individual: the person's own unit).
UNIT_KIND = {"team": UnitKind.TEAM, "factory": UnitKind.FACTORY, "store": UnitKind.STORE,
             "branch": UnitKind.BRANCH, "department": UnitKind.DEPARTMENT}


@dataclass(frozen=True)
class Proposal:
    kind: str
    unit_id: int | None
    user_id: int | None
    rule: str          # which clause, in words (a msgid)


def eligible(complaint) -> bool:
    """Valid and company-responsible: a complaint whose resolution was approved and that its
    investigation found reasonable and the company's doing (None: not decided yet — not eligible)."""
    return (complaint.type == "complaint" and complaint.approved_at is not None
            and complaint.valid is True and complaint.company_responsible is True)


def _up(unit: OrgUnit | None, kind: UnitKind) -> OrgUnit | None:
    while unit is not None and unit.kind != kind:
        unit = unit.parent
    return unit


def propose(complaint) -> Proposal | None:
    """The rule's answer for `complaint`, or None when it is not eligible."""
    if not eligible(complaint):
        return None
    named = [u for u in (complaint.complained_unit, complaint.responsible_unit) if u is not None]
    for unit in named:                                   # 六.1: a team when one is known …
        if unit.kind == UnitKind.TEAM:
            return Proposal("team", unit.id, None, N_("加工单位以班组为最小单位（《客户投诉管理办法》六.1）"))
    for unit in named:                                   # … else the whole factory
        if unit.kind == UnitKind.FACTORY:
            return Proposal("factory", unit.id, None, N_("未能明确班组，归属全厂（《客户投诉管理办法》六.1）"))
    person = complaint.complained_user
    if person is not None:                               # 六.2: the individual when known …
        return Proposal("individual", person.org_unit_id, person.id, N_("业务、服务部门归属个人（《客户投诉管理办法》六.2）"))
    # … else the store or branch concerned: the one complained about, else where it was received.
    for unit in [complaint.complained_unit, complaint.receiving_unit]:
        store = _up(unit, UnitKind.STORE)
        if store is not None:
            return Proposal("store", store.id, None, N_("未能明确个人，归属专卖店（《客户投诉管理办法》六.2）"))
        branch = _up(unit, UnitKind.BRANCH)
        if branch is not None:
            return Proposal("branch", branch.id, None, N_("未能明确个人，归属分公司（《客户投诉管理办法》六.2）"))
    department = complaint.complained_unit or complaint.responsible_unit
    if department is not None and department.kind == UnitKind.DEPARTMENT:
        return Proposal("department", department.id, None, N_("非门店、分公司的投诉，归属责任部门"))
    return Proposal("department", None, None, N_("请选择责任单位"))


def check(session, kind: str, unit_id, user_id) -> tuple[OrgUnit, User | None]:
    """The chosen attribution, checked: the unit must be of the kind's sort; an individual needs
    a person (whose unit is taken)."""
    if kind not in KINDS:
        raise InvalidInput(N_("请选择责任归属（班组、全厂、个人、门店、分公司或部门）。"), field="kind")
    if kind == "individual":
        person = session.get(User, user_id) if isinstance(user_id, int) else None
        if person is None:
            raise InvalidInput(N_("归属个人时请选择责任人。"), field="user_id")
        return person.org_unit, person
    unit = session.get(OrgUnit, unit_id) if isinstance(unit_id, int) else None
    if unit is None or unit.kind != UNIT_KIND[kind]:
        raise InvalidInput(N_("请选择一个%(kind)s。"), field="unit_id", kind=KINDS[kind])
    return unit, None
