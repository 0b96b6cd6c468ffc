"""Who sees what (SPEC §1). Enforced in queries: views start from these, never from scratch.

receiver / handler: their own unit, plus every unit below it when they are its head;
quality, manager: everything. The complaint queries of the next issues build on
`covered_unit_ids`.
"""
from __future__ import annotations

from domain.orgtree import subtree_ids
from domain.roles import SEE_ALL

EVERYTHING = None  # covered_unit_ids() answer for users who see every unit


def sees_everything(user) -> bool:
    return bool(user.roles & SEE_ALL)


def covered_unit_ids(session, user) -> frozenset[int] | None:
    """The org units whose records `user` may see, or EVERYTHING (None)."""
    if sees_everything(user):
        return EVERYTHING
    if user.is_head:
        return frozenset(subtree_ids(session, user.org_unit_id))
    return frozenset({user.org_unit_id})


def covers_unit(session, user, unit_id: int) -> bool:
    units = covered_unit_ids(session, user)
    return units is EVERYTHING or unit_id in units
