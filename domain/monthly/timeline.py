"""Time per stage from the timeline (the monthly report's medians)."""
from __future__ import annotations

from sqlalchemy import Integer, cast, func, literal_column, select, union_all

from domain.monthly.common import in_month, seconds, tag
from models.complaint import Complaint, ComplaintEvent

CLOSED = "closed"
BUCKET = 600    # medians are counted in 10-minute steps (rounded down)


def _bucket(session, secs):
    """A duration's 10-minute step; half a second of slack against floating-point days."""
    step = (secs + literal_column("0.5")) / literal_column(f"{BUCKET}.0")
    if session.get_bind().dialect.name == "sqlite":
        return cast(step, Integer)
    return cast(func.floor(step), Integer)


def stage_times(session, start, end, scope):
    """Statement 3, time per stage from the timeline. A complaint's time in a stage is the sum, over
    its visits, of the time from the event that moved it into the stage (registration enters 待分派)
    to the one that moved it out; only complaints that have left the stage count, each once, and the
    figure is the median over them in calendar time, to 10 minutes (rounded down). Time in 已结案
    before a reopening is not a stage's. Also `to_close`: registration → closure for the month's
    closed complaints ([count, median seconds]; the count is every closed one, the median over
    those with a closing time)."""
    from domain.stages import Stage
    c = Complaint.__table__.c
    out, back = ComplaintEvent.__table__.alias("out_ev"), ComplaintEvent.__table__.alias("in_ev")
    entered = (select(back.c.at).where(back.c.complaint_id == out.c.complaint_id, back.c.to_stage == out.c.from_stage,
                                       back.c.id < out.c.id)
               .order_by(back.c.id.desc()).limit(1).scalar_subquery())
    visits = (select(out.c.complaint_id, out.c.from_stage.label("stage"),
                     func.sum(seconds(session, out.c.at, entered)).label("secs"))
              .join_from(out, Complaint.__table__, c.id == out.c.complaint_id)
              .where(in_month(start, end, scope), out.c.from_stage.is_not(None), out.c.to_stage.is_not(None),
                     out.c.from_stage != CLOSED)
              .group_by(out.c.complaint_id, out.c.from_stage).subquery("visits"))
    bucket = _bucket(session, visits.c.secs)
    closing = _bucket(session, seconds(session, c.closed_at, c.created_at))
    rows = session.execute(union_all(
        select(visits.c.stage, bucket, func.count()).group_by(visits.c.stage, bucket),
        select(tag(CLOSED), closing, func.count()).where(in_month(start, end, scope), c.stage == CLOSED).group_by(closing)))
    found: dict[str, list] = {}
    for stage, step, n in rows:
        found.setdefault(stage, []).append((step, int(n)))
    order = [s.value for s in Stage]
    stages = [[stage, *_median(found[stage])] for stage in sorted(
        (s for s in found if s != CLOSED), key=lambda s: order.index(s) if s in order else len(order))]
    return stages, list(_median(found.get(CLOSED, [])))


def _median(steps) -> tuple[int, int | None]:
    """(count, median in seconds) from [(10-minute step or None, count)]: the middle value, or the
    mean of the two middle ones; steps without a time count but have no value."""
    n = sum(k for _s, k in steps)
    timed = sorted((s, k) for s, k in steps if s is not None)
    total = sum(k for _s, k in timed)
    if not total:
        return n, None

    def at(position):          # the position-th value (0-based) in order
        for step, k in timed:
            if position < k:
                return step * BUCKET
            position -= k
        return timed[-1][0] * BUCKET
    middle = (at((total - 1) // 2) + at(total // 2)) / 2
    return n, int(middle)
