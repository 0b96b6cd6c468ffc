"""The monthly report's figures (SPEC §8): set-based SQL over the complaints (type 投诉) received in
one company-time month and within the viewer's scope — six statements whatever the volume.

1. the month's complaints once (a CTE), grouped eight ways in one UNION ALL: category × urgency
   (categories at both levels and the matrix), severity, channel, receiving unit, responsible
   department, root-cause category, satisfaction, top products; plus the totals (closed, closed
   within the close clock's limit, repeats, rated);
2. their clocks by kind × responsible department, in four states (registry.clock_states);
3. time per stage from the timeline (timeline.py);
4. the 12-month trend: per month received and closed within the limit (one UNION ALL);
5. category and unit names; 6. the month's order volumes.

Scope: `visible_complaints(viewer)`'s condition — the register's own — so that every drill-down
link (the register with filters) counts what the figure counts. `viewer=None`: every complaint
(the stored snapshot).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, and_, case, cast, func, literal, null, select, text, union_all

from domain import registry
from domain.monthly import months
from domain.monthly.common import count, in_month, tag
from domain.monthly.timeline import stage_times
from domain.monthly.units import by_unit, rates
from domain.scoping import covered_unit_ids, visible_complaints
from domain.settings import company_tz
from models import UTCDateTime
from models.complaint import Category, Complaint
from models.org import OrgUnit
from models.report import MonthlyReport
from models.setting import Setting
from models.sla import SlaClock

VERSION = 1
TOP_PRODUCTS = 10
TOP_N_SETTING = "meeting_top_n"     # how many of the month's most frequent categories go on the meeting's agenda
DEFAULT_TOP_N = 3
URGENCIES = ("high", "medium", "low")
SEVERITIES = ("minor", "general", "serious", "major")
SCORES = (1, 2, 3, 4, 5)
TREND_MONTHS = 12
CLOSED = "closed"


def top_n(session) -> int:
    """The admin's N for 'frequent' (top N categories of the month), default 3."""
    row = session.get(Setting, TOP_N_SETTING)
    value = row.value if row is not None else None
    return value if isinstance(value, int) and 1 <= value <= 20 else DEFAULT_TOP_N


def _scope(session, viewer):
    """The register's scope condition for `viewer` (None: everything)."""
    if viewer is None:
        return None
    return visible_complaints(session, viewer).whereclause


def figures(session, viewer, month: str, *, now: datetime, top: int | None = None) -> dict:
    """The month's figures as plain JSON-ready data (stored as MonthlyReport.data)."""
    first = months.parse(month)
    tz = company_tz()
    start, end = months.bounds(first, tz)
    scope = _scope(session, viewer)
    if session.get_bind().dialect.name == "postgresql":
        # A compiled plan costs more than these aggregates take: no JIT for this transaction.
        session.execute(text("SET LOCAL jit = off"))
    top = top or top_n(session)
    cats = {i: (n, p, s) for i, n, p, s in session.execute(
        select(Category.id, Category.name, Category.parent_id, Category.sort))}
    units = {i: (n, k, p) for i, n, k, p in session.execute(
        select(OrgUnit.id, OrgUnit.name, OrgUnit.kind, OrgUnit.parent_id))}

    groups, totals = _groups(session, start, end, scope)
    d = {"version": VERSION, "month": months.name(first), "first": first.isoformat(),
         "last": months.last_day(first).isoformat(), "computed_at": now.isoformat(), "top_n": top,
         "everything": viewer is None or covered_unit_ids(session, viewer) is None, **totals}

    # categories: the second level as recorded, the first level summed
    by_cat: dict[int, dict[str, int]] = {}
    for (cat_id, urgency), n in groups["cat"].items():
        by_cat.setdefault(int(cat_id), {}).setdefault(urgency, 0)
        by_cat[int(cat_id)][urgency] += n
    top_of = {i: (p or i) for i, (_n, p, _s) in cats.items()}
    by_top: dict[int, dict[str, int]] = {}
    for cat_id, per in by_cat.items():
        row = by_top.setdefault(top_of.get(cat_id, cat_id), {})
        for urgency, n in per.items():
            row[urgency] = row.get(urgency, 0) + n
    name = lambda i: cats.get(i, ("—",))[0]  # noqa: E731
    d["categories"] = sorted(([i, name(i), sum(per.values())] for i, per in by_top.items()),
                             key=lambda r: (-r[2], cats.get(r[0], ("", None, 0))[2], r[1]))
    subs = sorted(([i, name(i), name(top_of.get(i, i)) if top_of.get(i, i) != i else "", sum(per.values())]
                   for i, per in by_cat.items()), key=lambda r: (-r[3], r[1]))
    d["subcategories"] = subs
    d["matrix"] = _matrix(d["categories"], by_top, top)
    d["pareto_categories"] = _pareto([[i, label, n] for i, label, _parent, n in subs])

    d["severity"] = [[s, groups["sev"].get((s,), 0)] for s in SEVERITIES]
    d["urgency"] = [[u, sum(per.get(u, 0) for per in by_top.values())] for u in URGENCIES]
    d["channel"] = sorted(([k[0], n] for k, n in groups["chan"].items()), key=lambda r: (-r[1], r[0]))
    d["satisfaction"] = [[s, groups["sat"].get((str(s),), 0)] for s in SCORES]
    causes = {k[0]: n for k, n in groups["cause"].items()}
    d["no_cause"] = causes.pop(None, 0)
    d["causes"] = _pareto([[k, k, n] for k, n in sorted(causes.items(), key=lambda kv: (-kv[1], kv[0]))])
    d["departments"] = sorted(([int(k[0]) if k[0] is not None else None,
                                units.get(int(k[0]), ("—",))[0] if k[0] is not None else None, n]
                               for k, n in groups["dept"].items()), key=lambda r: (-r[2], r[1] or ""))
    d["products"] = sorted(([k[0], n] for k, n in groups["prod"].items()), key=lambda r: (-r[1], r[0]))

    received = {int(k[0]): n for k, n in groups["recv"].items()}
    d["receiving"], d["branches"] = by_unit(units, received)
    d["rates"] = rates(session, viewer, d["month"], units, received)
    d["clocks"], d["clocks_by_dept"] = _clocks(session, start, end, scope, now, units)
    d["stages"], d["to_close"] = stage_times(session, start, end, scope)
    d["trend"] = _trend(session, first, tz, scope, stored=d["everything"], this=(d["total"], d["closed_in_time"]))
    d["previous"] = d["trend"][-2][1]
    return d


def _groups(session, start, end, scope):
    """Statement 1: the month's complaints grouped eight ways, and their totals."""
    c = Complaint.__table__.c
    close = SlaClock.__table__.alias("close_clock")
    in_time = and_(close.c.stopped_at.is_not(None), close.c.stopped_at <= close.c.deadline)
    m = (select(c.category_id, c.urgency, c.severity, c.channel, c.receiving_unit_id, c.responsible_unit_id,
                c.cause_category, c.satisfaction, c.product_name, c.stage,
                case((c.repeat_of_id.is_not(None), 1), else_=0).label("rep"),
                case((in_time, 1), else_=0).label("in_time"))
         .select_from(Complaint.__table__.outerjoin(close, and_(close.c.complaint_id == c.id, close.c.kind == "close")))
         .where(in_month(start, end, scope))).cte("m").prefix_with("MATERIALIZED")

    def grouped(kind, *columns):
        keys = [cast(col, String) for col in columns] + [null()] * (2 - len(columns))
        return (select(tag(kind).label("kind"), *[k.label(f"k{i}") for i, k in enumerate(keys)],
                       func.count().label("n")).select_from(m).group_by(*columns))

    products = (select(m.c.product_name, func.count().label("n")).where(m.c.product_name.is_not(None))
                .group_by(m.c.product_name).order_by(func.count().desc(), m.c.product_name)
                .limit(TOP_PRODUCTS).subquery())
    statements = [
        grouped("cat", m.c.category_id, m.c.urgency), grouped("sev", m.c.severity), grouped("chan", m.c.channel),
        grouped("recv", m.c.receiving_unit_id), grouped("dept", m.c.responsible_unit_id),
        grouped("cause", m.c.cause_category), grouped("sat", m.c.satisfaction),
        select(tag("prod"), products.c.product_name, null(), products.c.n),
        select(tag("tot"), cast(count(m.c.stage == CLOSED), String), cast(func.coalesce(func.sum(m.c.in_time), 0), String),
               func.count()).select_from(m),
        select(tag("tot2"), cast(func.coalesce(func.sum(m.c.rep), 0), String), cast(func.count(m.c.satisfaction), String),
               func.coalesce(func.sum(m.c.satisfaction), 0)).select_from(m),
    ]
    groups: dict[str, dict] = {k: {} for k in ("cat", "sev", "chan", "recv", "dept", "cause", "sat", "prod")}
    totals = {}
    for kind, k0, k1, n in session.execute(union_all(*statements)):
        if kind == "tot":
            totals.update(closed=int(k0), closed_in_time=int(k1), total=int(n))
        elif kind == "tot2":
            rated = int(k1)
            totals.update(repeats=int(k0), rated=rated,
                          satisfaction_avg=round(int(n) / rated, 2) if rated else None)
        else:
            key = (k0,) if kind != "cat" else (k0, k1)
            groups[kind][key] = groups[kind].get(key, 0) + int(n)
    return groups, totals


def is_frequent(n: int, ranked: list[int], top: int) -> bool:
    """A category with `n` complaints in the month is frequent when fewer than `top` categories have
    more (ties at the edge included) — the report's matrix and the meeting's agenda (SPEC §3.5)."""
    return bool(n) and sum(1 for x in ranked if x > n) < top


def _matrix(categories, by_top, top):
    """Seed 000 5.1.3.2: each top-level category's frequency in the month × urgency 高/中/低. A
    category is frequent when among the month's `top` most frequent (ties at the edge included);
    a cell is on the meeting's agenda (SPEC §3.5) when its category is frequent or its urgency high."""
    ranked = [n for _i, _name, n in categories]
    rows = []
    for i, label, n in categories:
        frequent = is_frequent(n, ranked, top)
        per = by_top.get(i, {})
        rows.append([i, label, *[per.get(u, 0) for u in URGENCIES], n, frequent])
    return rows


def _pareto(rows):
    """[key, label, n] in descending order → [key, label, n, share, cumulative share]."""
    total = sum(r[2] for r in rows)
    out, running = [], 0
    for key, label, n in rows:
        running += n
        out.append([key, label, n, round(n / total, 4) if total else 0.0, round(running / total, 4) if total else 0.0])
    return out


def _clocks(session, start, end, scope, now, units):
    """Statement 2: the month's complaints' clocks per kind and responsible department, by state."""
    from domain.sla import ClockKind
    c, k = Complaint.__table__.c, SlaClock.__table__.c
    states = registry.clock_states(now)
    rows = session.execute(
        select(k.kind, c.responsible_unit_id, *[count(states[s]) for s in registry.CLOCK_STATES])
        .join_from(SlaClock.__table__, Complaint.__table__, c.id == k.complaint_id)
        .where(in_month(start, end, scope)).group_by(k.kind, c.responsible_unit_id)).all()
    order = [kind.value for kind in ClockKind]
    place = lambda kind: order.index(kind) if kind in order else len(order)  # noqa: E731
    per_kind: dict[str, list[int]] = {}
    by_dept = []
    for kind, dept, *counts in rows:
        counts = [int(x) for x in counts]
        total = per_kind.setdefault(kind, [0] * len(counts))
        per_kind[kind] = [a + b for a, b in zip(total, counts)]
        by_dept.append([dept, units.get(dept, ("—",))[0] if dept is not None else None, kind, *counts])
    by_dept.sort(key=lambda r: (place(r[2]), -sum(r[3:]), r[1] or ""))
    return [[kind, *per_kind[kind]] for kind in sorted(per_kind, key=place)], by_dept


def _trend(session, first, tz, scope, stored: bool, this: tuple[int, int]):
    """Statement 4: the twelve months up to this one — received, and closed within the close clock's
    limit. With `stored` (a company-wide view), an earlier month that has its stored report takes
    both from it (as they were when it was made, early the next month: every month measured at the
    same age); the others are counted now (this month's are `this`, counted by statement 1). Each
    point: [month, received, in time, stored?]."""
    c = Complaint.__table__.c
    close = SlaClock.__table__.alias("close_clock")
    in_time = and_(close.c.stopped_at.is_not(None), close.c.stopped_at <= close.c.deadline)
    joined = Complaint.__table__.outerjoin(close, and_(close.c.complaint_id == c.id, close.c.kind == "close"))
    firsts = [months.shift(first, i - TREND_MONTHS + 1) for i in range(TREND_MONTHS)]
    found = {len(firsts) - 1: (*this, False)}
    if stored:
        names = [months.name(f) for f in firsts[:-1]]
        for month, data in session.execute(select(MonthlyReport.month, MonthlyReport.data)
                                           .where(MonthlyReport.month.in_(names))):
            if isinstance(data, dict) and data.get("version") == VERSION:
                found[names.index(month)] = (data["total"], data["closed_in_time"], True)
    missing = [i for i in range(len(firsts)) if i not in found]
    if not missing:
        return [[months.name(f), *found[i]] for i, f in enumerate(firsts)]
    starts = [months.bounds(f, tz)[0] for f in firsts] + [months.bounds(firsts[-1], tz)[1]]
    if session.get_bind().dialect.name == "postgresql":
        # one pass over the months still to count, each complaint put in its month by width_bucket
        # (with a UNION of ranges PostgreSQL would read the clocks once per month)
        from sqlalchemy.dialects.postgresql import array
        bucket = func.width_bucket(c.created_at, array([literal(t, UTCDateTime) for t in starts[:-1]]))
        rows = session.execute(select(bucket - 1, func.count(), count(in_time)).select_from(joined)
                               .where(in_month(starts[missing[0]], starts[missing[-1] + 1], scope)).group_by(bucket))
    else:
        # SQLite: a range of the created_at index per month (grouping a year would sort it)
        parts = [select(literal(i).label("i"), func.count().label("n"), count(in_time).label("in_time"))
                 .select_from(joined).where(in_month(starts[i], starts[i + 1], scope)) for i in missing]
        rows = session.execute(union_all(*parts) if len(parts) > 1 else parts[0])
    for i, n, t in rows:
        if int(i) in missing:
            found[int(i)] = (int(n), int(t), False)
    return [[months.name(f), *found.get(i, (0, 0, False))] for i, f in enumerate(firsts)]
