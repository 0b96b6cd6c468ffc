"""The organisation tree (SPEC §1): which kind of unit may sit under which, moves without
cycles, deactivation, and deletion only of units nothing refers to."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from sqlalchemy import func, select

from domain import audit
from domain.errors import InvalidInput, N_
from domain.text import checked
from models import Base
from models.org import OrgUnit
from models.user import User


class UnitKind(StrEnum):
    COMPANY = "company"
    BRANCH = "branch"
    STORE = "store"
    DEPARTMENT = "department"
    FACTORY = "factory"
    TEAM = "team"


KIND_LABELS = {
    UnitKind.COMPANY: N_("公司"),
    UnitKind.BRANCH: N_("分公司"),
    UnitKind.STORE: N_("门店"),
    UnitKind.DEPARTMENT: N_("部门"),
    UnitKind.FACTORY: N_("工厂/加工单位"),
    UnitKind.TEAM: N_("班组"),
}

# company → branches → stores; company → departments; factories → teams (SPEC §1).
# Departments may also sit under a branch (a branch's own sales office) or a department.
ALLOWED_PARENTS: dict[UnitKind, frozenset[UnitKind]] = {
    UnitKind.COMPANY: frozenset(),
    UnitKind.BRANCH: frozenset({UnitKind.COMPANY}),
    UnitKind.STORE: frozenset({UnitKind.BRANCH}),
    UnitKind.DEPARTMENT: frozenset({UnitKind.COMPANY, UnitKind.BRANCH, UnitKind.DEPARTMENT}),
    UnitKind.FACTORY: frozenset({UnitKind.COMPANY}),
    UnitKind.TEAM: frozenset({UnitKind.FACTORY}),
}

NAME_MAX = 60


def subtree_ids(session, unit_id: int) -> set[int]:
    """The unit and every unit below it (recursive CTE; works on SQLite and PostgreSQL)."""
    tree = select(OrgUnit.id).where(OrgUnit.id == unit_id).cte("tree", recursive=True)
    tree = tree.union_all(select(OrgUnit.id).where(OrgUnit.parent_id == tree.c.id))
    return set(session.scalars(select(tree.c.id)))


@dataclass
class Node:
    unit: OrgUnit
    children: list[Node] = field(default_factory=list)
    user_count: int = 0


def tree(session) -> list[Node]:
    """The whole tree as nested nodes (roots first), with active-user counts, in two queries."""
    units = session.scalars(select(OrgUnit).order_by(OrgUnit.id)).all()
    counts = dict(session.execute(
        select(User.org_unit_id, func.count()).where(User.active.is_(True)).group_by(User.org_unit_id)
    ).all())
    nodes = {u.id: Node(u, user_count=counts.get(u.id, 0)) for u in units}
    roots = []
    for node in nodes.values():
        parent = nodes.get(node.unit.parent_id)
        (parent.children if parent else roots).append(node)
    return roots


def _clean_name(name: str) -> str:
    return checked(name, "name", NAME_MAX, required=True, multiline=False, message=N_("请填写单位名称。"),
                   too_long=N_("单位名称最多 %(max)d 个字。"))


def _check_sibling_name(session, name: str, parent_id: int | None, exclude_id: int | None = None):
    q = select(OrgUnit.id).where(OrgUnit.name == name, OrgUnit.active.is_(True))
    q = q.where(OrgUnit.parent_id.is_(None) if parent_id is None else OrgUnit.parent_id == parent_id)
    if exclude_id is not None:
        q = q.where(OrgUnit.id != exclude_id)
    if session.scalar(q.limit(1)) is not None:
        raise InvalidInput(N_("同一上级下已有名为“%(name)s”的单位。"), field="name", name=name)


def _check_parent(kind: UnitKind, parent: OrgUnit | None):
    allowed = ALLOWED_PARENTS[kind]
    if parent is None:
        if allowed:
            raise InvalidInput(N_("请选择上级单位。"), field="parent_id")
        return
    if UnitKind(parent.kind) not in allowed:
        raise InvalidInput(N_("%(kind)s不能放在%(parent_kind)s下面。"), field="parent_id",
                           kind=KIND_LABELS[kind], parent_kind=KIND_LABELS[UnitKind(parent.kind)])
    if not parent.active:
        raise InvalidInput(N_("上级单位已停用。"), field="parent_id")


def add_unit(session, actor, *, name: str, kind: str, parent: OrgUnit | None, now: datetime) -> OrgUnit:
    kind = UnitKind(kind)
    name = _clean_name(name)
    _check_parent(kind, parent)
    if kind is UnitKind.COMPANY and session.scalar(
            select(OrgUnit.id).where(OrgUnit.kind == UnitKind.COMPANY).limit(1)) is not None:
        raise InvalidInput(N_("公司已存在，只能有一个。"), field="kind")
    _check_sibling_name(session, name, parent.id if parent else None)
    unit = OrgUnit(name=name, kind=kind.value, parent=parent, active=True)
    session.add(unit)
    session.flush()
    audit.record(session, audit.UNIT_CHANGED, now=now, actor_id=actor.id if actor else None,
                 target=f"unit:{unit.id}", action="add")
    return unit


def rename_unit(session, actor, unit: OrgUnit, name: str, *, now: datetime) -> None:
    name = _clean_name(name)
    if name == unit.name:
        return
    _check_sibling_name(session, name, unit.parent_id, exclude_id=unit.id)
    unit.name = name
    audit.record(session, audit.UNIT_CHANGED, now=now, actor_id=actor.id, target=f"unit:{unit.id}", action="rename")


def move_unit(session, actor, unit: OrgUnit, new_parent: OrgUnit | None, *, now: datetime) -> None:
    if new_parent is not None and new_parent.id in subtree_ids(session, unit.id):
        raise InvalidInput(N_("不能把单位移到它自己或它的下级单位下面。"), field="parent_id")
    _check_parent(UnitKind(unit.kind), new_parent)
    if unit.parent_id == (new_parent.id if new_parent else None):
        return
    _check_sibling_name(session, unit.name, new_parent.id if new_parent else None, exclude_id=unit.id)
    unit.parent = new_parent
    audit.record(session, audit.UNIT_CHANGED, now=now, actor_id=actor.id, target=f"unit:{unit.id}",
                 action="move", parent_id=new_parent.id if new_parent else None)


def deactivate_unit(session, actor, unit: OrgUnit, *, now: datetime) -> None:
    if not unit.active:
        return
    if unit.kind == UnitKind.COMPANY:
        raise InvalidInput(N_("公司不能停用。"))
    users = session.scalar(select(func.count()).select_from(User)
                           .where(User.org_unit_id == unit.id, User.active.is_(True)))
    if users:
        raise InvalidInput(N_("该单位还有 %(n)d 名在职用户，请先把他们调到其他单位或停用。"), n=users)
    children = session.scalar(select(func.count()).select_from(OrgUnit)
                              .where(OrgUnit.parent_id == unit.id, OrgUnit.active.is_(True)))
    if children:
        raise InvalidInput(N_("该单位还有 %(n)d 个启用的下级单位，请先停用或移走它们。"), n=children)
    unit.active = False
    audit.record(session, audit.UNIT_CHANGED, now=now, actor_id=actor.id, target=f"unit:{unit.id}", action="deactivate")


def reactivate_unit(session, actor, unit: OrgUnit, *, now: datetime) -> None:
    if unit.active:
        return
    if unit.parent is not None and not unit.parent.active:
        raise InvalidInput(N_("上级单位已停用，请先启用上级单位。"))
    _check_sibling_name(session, unit.name, unit.parent_id, exclude_id=unit.id)
    unit.active = True
    audit.record(session, audit.UNIT_CHANGED, now=now, actor_id=actor.id, target=f"unit:{unit.id}", action="reactivate")


def references(session, unit: OrgUnit) -> int:
    """How many rows anywhere in the schema point at this unit. Reads every foreign key to
    org_unit from the metadata, so tables added later (complaints …) are counted too."""
    total = 0
    for table in Base.metadata.sorted_tables:
        for fk in table.foreign_keys:
            if fk.column.table.name == OrgUnit.__tablename__:
                total += session.scalar(
                    select(func.count()).select_from(table).where(fk.parent == unit.id))
    return total


def delete_unit(session, actor, unit: OrgUnit, *, now: datetime) -> None:
    """Hard delete, only for a unit nothing refers to (a mistake just made). Otherwise: deactivate."""
    if unit.kind == UnitKind.COMPANY:
        raise InvalidInput(N_("公司不能删除。"))
    n = references(session, unit)
    if n:
        raise InvalidInput(N_("该单位仍被 %(n)d 条记录（用户、下级单位等）引用，不能删除；可以停用。"), n=n)
    audit.record(session, audit.UNIT_CHANGED, now=now, actor_id=actor.id, target=f"unit:{unit.id}",
                 action="delete", name=unit.name)
    session.delete(unit)


# Units that can be given work — investigate a complaint, own a corrective action, answer for
# one: every kind but the company itself (SPEC §3 stage 1).
WORK_KINDS = (UnitKind.DEPARTMENT, UnitKind.FACTORY, UnitKind.TEAM, UnitKind.BRANCH, UnitKind.STORE)


def is_work_unit(unit: OrgUnit | None) -> bool:
    return unit is not None and unit.active and unit.kind in WORK_KINDS


def work_unit_choices(session) -> list[tuple[int, str]]:
    """Active work units as (id, label); teams and stores share names across factories and
    branches, so they read "嘉兴食品厂 / 包装班"."""
    rows = session.scalars(select(OrgUnit).where(OrgUnit.active.is_(True), OrgUnit.kind.in_(WORK_KINDS))
                           .order_by(OrgUnit.kind, OrgUnit.id)).all()
    names = {u.id: u.name for u in rows}
    return [(u.id, f"{names[u.parent_id]} / {u.name}" if u.kind in (UnitKind.TEAM, UnitKind.STORE)
             and u.parent_id in names else u.name) for u in rows]
