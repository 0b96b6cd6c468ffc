"""Each role's work queue (SPEC §3, issue 5): one scoped, indexed query per queue, newest
work first, and counts from the stage counters instead of scans."""
from __future__ import annotations

from sqlalchemy import not_, select
from sqlalchemy.orm import selectinload

from domain.roles import Role
from domain.scoping import covered_unit_ids
from domain.stages import Stage
from models.complaint import Complaint, StageCount

LIMIT = 25


def _newest(query, limit=LIMIT):
    # The rows show the receiving unit: one extra query for all of them (not one per row, and
    # not a join that could change the main query's plan).
    return query.options(selectinload(Complaint.receiving_unit)) \
        .order_by(Complaint.created_at.desc(), Complaint.id.desc()).limit(limit)


# Quality's queues as queries (no order, no limit): the lists below and quality's morning digest
# (domain.messages) ask the same question.

def dispatch_query():
    return select(Complaint).where(Complaint.stage == Stage.NEW)


def verify_query():
    return select(Complaint).where(Complaint.stage == Stage.VERIFYING)


def decide_query():
    """Follow-ups where the customer was dissatisfied or could not be reached three times."""
    # The workflow keeps needs_decision true only in follow_up (the state machine test checks it);
    # asking for the flag alone lets the (needs_decision, created_at) index serve the query.
    return select(Complaint).where(Complaint.needs_decision.is_(True))


def attribute_query():
    """Approved complaints whose responsibility quality has not confirmed yet."""
    # The same terms as the partial index ix_complaint_to_attribute_v2, so that SQLite uses it
    # ("attributed IS 0" would not match: a table scan, 200 ms at 1M rows).
    return select(Complaint).where(Complaint.approved_at.is_not(None), not_(Complaint.attributed),
                                   Complaint.type == "complaint")


def quality_queries() -> dict:
    """Quality's four queues: name → query of complaints."""
    return {"dispatch": dispatch_query(), "verify": verify_query(), "decide": decide_query(),
            "attribute": attribute_query()}


def to_dispatch(session, limit=LIMIT):
    return session.scalars(_newest(dispatch_query(), limit)).all()


def to_verify(session, limit=LIMIT):
    return session.scalars(_newest(verify_query(), limit)).all()


def to_decide(session, limit=LIMIT):
    return session.scalars(_newest(decide_query(), limit)).all()


def department(session, user, limit=LIMIT):
    """The handler's department queue: assigned to a unit they cover, still to be worked on."""
    units = covered_unit_ids(session, user)
    stages = (Stage.INVESTIGATING, Stage.PENDING_APPROVAL, Stage.EXECUTING)
    query = select(Complaint).where(Complaint.stage.in_(stages))
    if units is not None:
        query = query.where(Complaint.responsible_unit_id.in_(units))
    return session.scalars(_newest(query, limit)).all()


def to_approve(session, user, limit=LIMIT):
    """Proposals waiting for this user's approval: the manager sees all, a head the head-level
    ones of their department."""
    pending = select(Complaint).where(Complaint.stage == Stage.PENDING_APPROVAL).options(
        selectinload(Complaint.receiving_unit), selectinload(Complaint.responsible_unit))
    oldest = (Complaint.created_at, Complaint.id)   # first come, first served
    if not user.has_role(Role.MANAGER):
        if not (user.has_role(Role.HANDLER) and user.is_head):
            return []
        units = covered_unit_ids(session, user)
        query = pending.where(Complaint.approval_level == "head", Complaint.responsible_unit_id.in_(units))
        return session.scalars(query.order_by(*oldest).limit(limit)).all()
    # The manager: manager-level ones first (nobody else can approve them), then the rest.
    # Two index range scans on (stage, approval_level, created_at) instead of sorting them all.
    rows = session.scalars(pending.where(Complaint.approval_level == "manager").order_by(*oldest).limit(limit)).all()
    if len(rows) < limit:
        rows += session.scalars(pending.where(Complaint.approval_level == "head").order_by(*oldest)
                                .limit(limit - len(rows))).all()
    return rows


def count_to_approve(session, user) -> int:
    if user.has_role(Role.MANAGER):
        return stage_counts(session).get(Stage.PENDING_APPROVAL, 0)
    return len(to_approve(session, user, limit=500))


def my_follow_ups(session, user, limit=LIMIT):
    """The first responder's complaints waiting for their follow-up call, oldest first."""
    return session.scalars(select(Complaint).where(
        Complaint.first_responder_id == user.id,
        Complaint.stage.in_((Stage.FOLLOW_UP, Stage.EXECUTING))).options(selectinload(Complaint.receiving_unit))
        .order_by(Complaint.created_at, Complaint.id).limit(limit)).all()


def my_open(session, user, limit=20):
    return session.scalars(_newest(select(Complaint).where(
        Complaint.first_responder_id == user.id, Complaint.stage != Stage.CLOSED), limit)).all()


def stage_counts(session) -> dict[str, int]:
    return {row.stage: row.n for row in session.scalars(select(StageCount))}


def to_attribute(session, limit=LIMIT):
    """Approved complaints whose responsibility quality has not confirmed yet, oldest first."""
    return session.scalars(attribute_query().options(selectinload(Complaint.receiving_unit))
                           .order_by(Complaint.approved_at, Complaint.id).limit(limit)).all()


def penalties_to_approve(session, limit=LIMIT):
    """Penalties waiting for the manager, oldest first."""
    from models.complaint import Penalty
    return session.scalars(select(Penalty).where(Penalty.status == "pending")
                           .options(selectinload(Penalty.complaint), selectinload(Penalty.unit),
                                    selectinload(Penalty.user))
                           .order_by(Penalty.created_at, Penalty.id).limit(limit)).all()
