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


def visible_complaints(session, user):
    """A Select of the complaints `user` may see (SPEC §1); views add filters and ordering.

    receiver: registered at a unit they cover, or they are the first responder (§5: always).
    handler: also every complaint assigned to a unit they cover, now or before.
    quality, manager: everything. Admin alone: nothing (configuration only).
    """
    from sqlalchemy import false, or_, select

    from domain.roles import Role
    from models.complaint import Assignment, Complaint

    query = select(Complaint)
    if getattr(user, "customer_of", None) is not None:   # the customer through their link: that one
        return query.where(Complaint.id == user.customer_of)
    if sees_everything(user):
        return query
    if not user.has_role(Role.RECEIVER, Role.HANDLER):
        return query.where(false())
    units = covered_unit_ids(session, user)
    ours = [Complaint.receiving_unit_id.in_(units), Complaint.first_responder_id == user.id]
    if user.has_role(Role.HANDLER):
        ours.append(Complaint.id.in_(select(Assignment.complaint_id).where(Assignment.unit_id.in_(units))))
    return query.where(or_(*ours))


def complaint_or_none(session, user, complaint_id: int):
    """The complaint if `user` may see it; None otherwise (the view answers 404 either way)."""
    from domain.roles import Role
    from models.complaint import Complaint

    found = session.scalar(visible_complaints(session, user).where(Complaint.id == complaint_id))
    if found is None and getattr(user, "customer_of", None) is None and user.has_role(Role.RECEIVER, Role.HANDLER):
        found = _held_responsible(session, user, complaint_id)
    return found


def _held_responsible(session, user, complaint_id: int):
    """SPEC §6: whoever a complaint is attributed to — the person, or the heads and staff of the
    unit — may open it (to see why, and to appeal a penalty), even when it never passed through
    their unit. Only this single-record lookup widens; the registers stay as they are."""
    from sqlalchemy import or_, select

    from models.complaint import Attribution, Complaint

    units = covered_unit_ids(session, user)
    return session.scalar(select(Complaint).join(Attribution, Attribution.complaint_id == Complaint.id)
                          .where(Complaint.id == complaint_id,
                                 or_(Attribution.user_id == user.id, Attribution.unit_id.in_(units))))
