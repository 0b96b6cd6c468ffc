"""Scheduled reports: the half-year summary (SPEC §6, seed 001 三.4) and the monthly report (SPEC §8)."""
from __future__ import annotations

from jobs import with_app


@with_app
def half_year(at: str | None = None) -> dict | None:
    """Every ten minutes: in the first ten days of June and December, make the past half-year's
    summary if it is not there yet and announce it (once; see domain.halfyear.run_due). `at`
    (ISO time) stands in for the clock — for a re-run by hand or a test."""
    from datetime import datetime

    from domain import halfyear
    from models import db, utcnow
    result = halfyear.run_due(db.session, datetime.fromisoformat(at) if at else utcnow())
    db.session.commit()
    return result


@with_app
def half_year_for(start: str, end: str, actor_id: int | None = None) -> int:
    """On demand (quality or the manager pressed 生成): the report for [start, end), made once and
    announced when new. Returns the report's id."""
    from datetime import date

    from domain import halfyear
    from models import db, utcnow
    from models.user import User
    actor = db.session.get(User, actor_id) if actor_id else None
    report, _created, _told = halfyear.make(db.session, date.fromisoformat(start), date.fromisoformat(end), utcnow(),
                                            actor=actor)
    db.session.commit()
    return report.id


def job_id(start, end) -> str:
    return f"half-year-{start.isoformat()}-{end.isoformat()}"


@with_app
def monthly_report(at: str | None = None) -> dict | None:
    """Every ten minutes: from the first working day of a month (company calendar), last month's
    report if it is not there yet, announced to the managers and quality (once; see
    domain.monthly.run_due). `at` (ISO time) stands in for the clock — a re-run by hand or a test."""
    from datetime import datetime

    from domain import monthly
    from models import db, utcnow
    result = monthly.run_due(db.session, datetime.fromisoformat(at) if at else utcnow())
    db.session.commit()
    return result
