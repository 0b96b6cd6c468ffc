"""Scheduled reports: the half-year summary (SPEC §6, seed 001 三.4)."""
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
