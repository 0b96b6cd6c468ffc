"""Store audit (seed 001 五.2: 各专卖店必需将顾客投诉记录在案，不能有瞒报、漏报).

A complaint about a store (the store is the unit complained about) that reached the company by
another way — the hotline, the web, head office — while the store has no complaint of its own
from the same customer (same phone) registered before it, is listed as possibly concealed.
Quality confirms or dismisses each one with a note; confirmed ones count against the store.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, exists, select
from sqlalchemy.orm import aliased, selectinload

from domain import audit
from domain.errors import InvalidInput, N_, NotAllowed
from domain.roles import Role
from domain.text import checked
from models.complaint import Complaint, ConcealmentReview
from models.org import OrgUnit

VERDICTS = {"confirmed": N_("确认瞒报/漏报"), "dismissed": N_("排除")}


def suspects(session, date_from: datetime, date_to: datetime, *, reviewed: bool = False, limit: int = 100):
    """Complaints registered in [date_from, date_to) about a store that the store did not record
    itself; without a verdict yet (or, with reviewed=True, those with one)."""
    c = Complaint
    store = aliased(OrgUnit)
    own = aliased(Complaint)
    recorded = exists().where(own.receiving_unit_id == c.complained_unit_id, own.customer_phone == c.customer_phone,
                              own.created_at <= c.created_at)
    verdict = exists().where(ConcealmentReview.complaint_id == c.id)
    query = (select(c).join(store, store.id == c.complained_unit_id)
             .where(store.kind == "store", c.receiving_unit_id != c.complained_unit_id, c.type == "complaint",
                    c.created_at >= date_from, c.created_at < date_to, ~recorded,
                    verdict if reviewed else ~verdict)
             .options(selectinload(c.complained_unit), selectinload(c.receiving_unit))
             .order_by(c.created_at.desc(), c.id.desc()).limit(limit))
    return session.scalars(query).all()


def review(session, actor, complaint, verdict: str, note: str, now: datetime, ip=None) -> ConcealmentReview:
    if not actor.has_role(Role.QUALITY, Role.MANAGER):
        raise NotAllowed(N_("只有品管或总经理可以核查瞒报。"))
    if complaint.complained_unit is None or complaint.complained_unit.kind != "store":
        raise InvalidInput(N_("这条投诉不涉及门店。"))
    if verdict not in VERDICTS:
        raise InvalidInput(N_("请选择确认或排除。"), field="verdict")
    note = checked(note, "note", 500, required=True,
                   message=N_("请写明核查情况（例如：门店顾客意见簿有记录、已电话核实）。"))
    row = session.scalar(select(ConcealmentReview).where(ConcealmentReview.complaint_id == complaint.id))
    if row is None:
        row = ConcealmentReview(complaint_id=complaint.id, store_id=complaint.complained_unit_id)
        session.add(row)
    row.verdict, row.note, row.by_id, row.at = verdict, note, actor.id, now
    audit.record(session, "concealment_review", actor_id=actor.id, target=f"complaint:{complaint.id}", ip=ip,
                 now=now, verdict=verdict)
    return row


def confirmed_count(session, store_id: int, date_from: datetime, date_to: datetime) -> int:
    from sqlalchemy import func
    return session.scalar(select(func.count()).select_from(ConcealmentReview).join(Complaint).where(
        and_(ConcealmentReview.store_id == store_id, ConcealmentReview.verdict == "confirmed",
             Complaint.created_at >= date_from, Complaint.created_at < date_to))) or 0
