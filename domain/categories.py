"""Complaint categories (SPEC §2): two levels, admin-editable. A category in use is never
deleted, only switched off (it stays on the complaints that have it)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from domain import audit
from domain.errors import InvalidInput, N_, NotAllowed
from domain.roles import Role
from domain.text import checked
from models.complaint import Category

NAME_MAX = 40


def _check_admin(actor):
    if actor is not None and not actor.has_role(Role.ADMIN):
        raise NotAllowed(N_("只有系统管理员可以修改投诉类别。"))


def _clean_name(session, name, parent_id, exclude_id=None) -> str:
    name = checked(name, "name", NAME_MAX, required=True, multiline=False, message=N_("请填写类别名称。"),
                   too_long=N_("类别名称最多 %(max)d 个字。"))
    query = select(Category.id).where(Category.name == name, Category.parent_id.is_(None) if parent_id is None
                                      else Category.parent_id == parent_id)
    if exclude_id:
        query = query.where(Category.id != exclude_id)
    if session.scalar(query) is not None:
        raise InvalidInput(N_("同一级已有名为“%(name)s”的类别。"), field="name", name=name)
    return name


def add(session, actor, name: str, parent: Category | None = None, *, now: datetime) -> Category:
    _check_admin(actor)
    if parent is not None and parent.parent_id is not None:
        raise InvalidInput(N_("类别只有两级：请选一个一级类别作为上级。"), field="parent_id")
    name = _clean_name(session, name, parent.id if parent else None)
    last = session.scalar(select(func.max(Category.sort)).where(
        Category.parent_id.is_(None) if parent is None else Category.parent_id == parent.id)) or 0
    category = Category(name=name, parent=parent, sort=last + 1, active=True)
    session.add(category)
    session.flush()
    audit.record(session, audit.CATEGORY_CHANGED, now=now, actor_id=actor.id if actor else None,
                 target=f"category:{category.id}", action="add")
    return category


def rename(session, actor, category: Category, name: str, *, now: datetime) -> None:
    _check_admin(actor)
    name = _clean_name(session, name, category.parent_id, exclude_id=category.id)
    if name != category.name:
        category.name = name
        audit.record(session, audit.CATEGORY_CHANGED, now=now, actor_id=actor.id, target=f"category:{category.id}",
                     action="rename")


def set_active(session, actor, category: Category, active: bool, *, now: datetime) -> None:
    """Switch a category off (no longer offered at intake) or on again; its sub-categories follow."""
    _check_admin(actor)
    if not active and category.parent_id is None:
        others = session.scalar(select(func.count()).select_from(Category).where(
            Category.parent_id.is_(None), Category.active.is_(True), Category.id != category.id))
        if not others:
            raise InvalidInput(N_("至少要保留一个启用的类别。"))
    if active and category.parent is not None and not category.parent.active:
        raise InvalidInput(N_("请先启用上级类别“%(name)s”。"), name=category.parent.name)
    for c in [category, *(category.children if not active else [])]:
        c.active = active
    audit.record(session, audit.CATEGORY_CHANGED, now=now, actor_id=actor.id, target=f"category:{category.id}",
                 action="activate" if active else "deactivate")


def options(session) -> list[tuple[int, str]]:
    """Top categories, each followed by its (indented) sub-categories — one query."""
    rows = session.execute(select(Category.id, Category.parent_id, Category.name)
                           .order_by(Category.sort, Category.id)).all()
    children: dict[int, list] = {}
    for row in rows:
        if row.parent_id is not None:
            children.setdefault(row.parent_id, []).append((row.id, "　" + row.name))
    pairs = []
    for row in rows:
        if row.parent_id is None:
            pairs.append((row.id, row.name))
            pairs.extend(children.get(row.id, []))
    return pairs
