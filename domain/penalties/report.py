"""Penalty totals for a period, per responsible unit or person, and the penalties behind a line."""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from domain.errors import N_

EFFECTIVE = ("approved", "published")
BY_LABELS = {"unit": N_("按责任单位"), "person": N_("按责任人")}


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
