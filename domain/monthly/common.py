"""SQL pieces the monthly figures share: the month's complaints in a scope, counts, durations."""
from __future__ import annotations

from sqlalchemy import String, and_, case, func, literal_column

from models.complaint import Complaint


def count(cond):
    return func.coalesce(func.sum(case((cond, 1), else_=0)), 0)


def in_month(start, end, scope):
    c = Complaint.__table__.c
    conds = [c.created_at >= start, c.created_at < end, c.type == "complaint"]
    if scope is not None:
        conds.append(scope)
    return and_(*conds)


def seconds(session, later, earlier):
    if session.get_bind().dialect.name == "sqlite":
        return (func.julianday(later) - func.julianday(earlier)) * literal_column("86400.0")
    return func.extract("epoch", later - earlier)


def tag(name: str):
    """A constant naming a UNION ALL branch (inline: no parameter whose type PostgreSQL must guess)."""
    assert name.isalnum()
    return literal_column(f"'{name}'", String)
