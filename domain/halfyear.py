"""The half-year summary (SPEC §6; seed 001 三.4: 市场部每年6月和12月的前10日汇总半年来的投诉处理状况,
会同加工单位、销售分公司经理判定责任归属并探讨各投诉项目).

In the first ten days of June the summary covers December–May; in the first ten days of December,
June–November — the six whole months before. `run_due` (an RQ cron job) generates it once per
period and announces it to the manager(s) and the market department; `generate` does any period
on demand (CLI). A report is a snapshot of the figures when it was made, stored as JSON; the Excel
file is written from that snapshot.

Figures (set-based SQL over the complaints received in the period):
- totals: received, closed, closed within the limit, open, valid / not valid, company-responsible,
  attributed; by severity; by top-level category;
- time limits: per clock, stopped within / after the limit and still running late;
- per responsible department (the unit the complaint was dispatched to): received, closed, within
  the limit, attributed, penalties;
- per branch and per store (the accountability ledger);
- responsibility: per attribution kind and unit;
- penalties approved in the period: per unit and per person, with totals.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import aliased

from domain import once
from domain.errors import N_, InvalidInput
from domain.roles import Role
from domain.stages import Stage
from models.complaint import Attribution, Category, Complaint, Penalty
from models.org import OrgUnit
from models.report import HalfYearReport
from models.setting import Setting, put
from models.sla import SlaClock
from models.user import User

DUE_DAYS = 10                      # 前10日
RECIPIENT_UNITS = "halfyear_recipient_units"
DEFAULT_UNIT_NAME = "市场部"
NOTICE = "report:halfyear"
MAX_DAYS = 400                     # a CLI period longer than this is a typo


# --- periods ---------------------------------------------------------------------------------------

def period_for(day: date) -> tuple[date, date]:
    """The half-year summarised in `day`'s month: June → 1 Dec – 1 Jun, December → 1 Jun – 1 Dec."""
    if day.month == 6:
        return date(day.year - 1, 12, 1), date(day.year, 6, 1)
    if day.month == 12:
        return date(day.year, 6, 1), date(day.year, 12, 1)
    raise ValueError("half-year summaries are made in June and December")


def due_period(local_day: date) -> tuple[date, date] | None:
    """The period to summarise on `local_day`, if it is one of the first ten days of June or December."""
    if local_day.month in (6, 12) and local_day.day <= DUE_DAYS:
        return period_for(local_day)
    return None


def last_period(local_day: date) -> tuple[date, date]:
    """The latest half-year (Dec–May or Jun–Nov) that has ended by `local_day`."""
    if local_day.month >= 12:
        return date(local_day.year, 6, 1), date(local_day.year, 12, 1)
    if local_day.month >= 6:
        return date(local_day.year - 1, 12, 1), date(local_day.year, 6, 1)
    return date(local_day.year - 1, 6, 1), date(local_day.year - 1, 12, 1)


def recent_periods(local_day: date, n: int = 4) -> list[tuple[date, date]]:
    """The last `n` half-years that have ended by `local_day`, newest first (offered on the page)."""
    out = []
    for _i in range(n):
        out.append(last_period(local_day))
        local_day = out[-1][0]
    return out


def check_period(start: date, end: date) -> None:
    if end <= start:
        raise InvalidInput(N_("结束日期须晚于开始日期。"), field="to")
    if (end - start).days > MAX_DAYS:
        raise InvalidInput(N_("一次最多汇总 %(n)d 天。"), field="to", n=MAX_DAYS)


def _bounds(start: date, end: date, tz) -> tuple[datetime, datetime]:
    return datetime.combine(start, time(), tz), datetime.combine(end, time(), tz)


# --- the figures -----------------------------------------------------------------------------------

def _count(cond):
    return func.coalesce(func.sum(case((cond, 1), else_=0)), 0)


def summarize(session, start: date, end: date, now: datetime) -> dict:
    """The snapshot for complaints received in [start, end) (company-time dates)."""
    from domain import ledger, penalties
    from domain.settings import company_tz
    date_from, date_to = _bounds(start, end, company_tz())
    c = Complaint.__table__.c
    close = SlaClock.__table__.alias("close_clock")
    in_period = and_(c.created_at >= date_from, c.created_at < date_to, c.type == "complaint")
    closed = c.closed_at.is_not(None)
    in_time = and_(closed, close.c.stopped_at.is_not(None), close.c.stopped_at <= close.c.deadline)
    with_close = Complaint.__table__.outerjoin(close, and_(close.c.complaint_id == c.id, close.c.kind == "close"))

    t = session.execute(select(
        func.count().label("received"), _count(closed).label("closed"), _count(in_time).label("closed_in_time"),
        _count(c.stage != Stage.CLOSED).label("open"), _count(c.valid.is_(True)).label("valid"),
        _count(c.valid.is_(False)).label("not_valid"), _count(c.company_responsible.is_(True)).label("company"),
        _count(c.attributed.is_(True)).label("attributed"), _count(c.repeat_of_id.is_not(None)).label("repeats"),
        func.avg(c.satisfaction).label("satisfaction"),
    ).select_from(with_close).where(in_period)).one()
    totals = {k: int(getattr(t, k)) for k in ("received", "closed", "closed_in_time", "open", "valid", "not_valid",
                                              "company", "attributed", "repeats")}
    totals["satisfaction"] = round(float(t.satisfaction), 2) if t.satisfaction is not None else None

    from domain.severity import Severity
    counted = dict(session.execute(select(c.severity, func.count()).where(in_period).group_by(c.severity)).all())
    severity = [[s.value, counted.get(s.value, 0)] for s in Severity]

    cat, top = Category.__table__.alias("cat"), Category.__table__.alias("top")
    top_id = func.coalesce(cat.c.parent_id, cat.c.id)
    categories = [[name, n] for name, n in session.execute(
        select(top.c.name, func.count()).select_from(Complaint.__table__)
        .join(cat, cat.c.id == c.category_id).join(top, top.c.id == top_id)
        .where(in_period).group_by(top.c.name).order_by(func.count().desc(), top.c.name)).all()]

    k = SlaClock.__table__.c
    clocks = [[kind, int(stopped), int(on_time), int(late_running)] for kind, stopped, on_time, late_running in
              session.execute(select(k.kind, _count(k.stopped_at.is_not(None)),
                                     _count(and_(k.stopped_at.is_not(None), k.stopped_at <= k.deadline)),
                                     _count(and_(k.stopped_at.is_(None), k.deadline <= now)))
                              .join_from(SlaClock.__table__, Complaint.__table__, c.id == k.complaint_id)
                              .where(in_period).group_by(k.kind)).all()]
    from domain.sla import ClockKind
    order = list(ClockKind)
    clocks.sort(key=lambda r: order.index(r[0]) if r[0] in order else len(order))

    pen = Penalty.__table__.c
    att = Attribution.__table__.c
    effective = pen.status.in_(penalties.EFFECTIVE)
    unit = aliased(OrgUnit)
    unit_rows = session.execute(
        select(c.responsible_unit_id, func.count(), _count(closed), _count(in_time), _count(att.id.is_not(None)),
               _count(and_(pen.id.is_not(None), effective)),
               func.coalesce(func.sum(case((effective, pen.amount), else_=None)), 0))
        .select_from(with_close.outerjoin(Attribution.__table__, att.complaint_id == c.id)
                     .outerjoin(Penalty.__table__, pen.complaint_id == c.id))
        .where(in_period, c.responsible_unit_id.is_not(None)).group_by(c.responsible_unit_id)).all()
    names = dict(session.execute(select(unit.id, unit.name).where(unit.id.in_([r[0] for r in unit_rows]))).all())
    units = sorted(([names.get(r[0], "—"), int(r[1]), int(r[2]), int(r[3]), int(r[4]), int(r[5]), _money(r[6])]
                    for r in unit_rows), key=lambda r: (-r[1], r[0]))

    attribution = [[kind, name, int(n)] for kind, name, n in session.execute(
        select(att.kind, OrgUnit.name, func.count())
        .join_from(Attribution.__table__, Complaint.__table__, c.id == att.complaint_id)
        .join(OrgUnit, OrgUnit.id == att.unit_id).where(in_period)
        .group_by(att.kind, OrgUnit.name).order_by(func.count().desc(), OrgUnit.name)).all()]

    def ledger_rows(by):
        rows = ledger.sort(ledger.ledger(session, None, by, date_from, date_to, now), "received")
        return [[r.name, r.unit, r.received, r.closed, r.closed_in_time, r.open, r.repeats, r.idle, r.satisfaction]
                for r in rows]

    def penalty_rows(by):
        return [[name, belongs, n, _money(total)] for _k, name, belongs, n, total in
                penalties.report(session, by, date_from, date_to)]

    return {"from": start.isoformat(), "to": end.isoformat(), "totals": totals, "severity": severity,
            "categories": categories, "clocks": clocks, "units": units, "attribution": attribution,
            "branches": ledger_rows("branch"), "stores": ledger_rows("store"),
            "penalties_by_unit": penalty_rows("unit"), "penalties_by_person": penalty_rows("person")}


def _money(value) -> str:
    return f"{Decimal(value or 0).quantize(Decimal('0.01')):f}"


# --- generating and announcing ---------------------------------------------------------------------

def find(session, start: date, end: date) -> HalfYearReport | None:
    return session.scalar(select(HalfYearReport).where(HalfYearReport.period_start == start,
                                                       HalfYearReport.period_end == end))


def generate(session, start: date, end: date, now: datetime, actor=None, replace: bool = False
             ) -> tuple[HalfYearReport, bool]:
    """The report for [start, end): made if absent (→ created True), refreshed when `replace`.
    Two runs at once write one row: the period is unique (domain.once.store_once)."""
    check_period(start, end)
    by = actor.id if actor is not None else None
    if replace and (existing := find(session, start, end)) is not None:
        existing.data, existing.generated_at, existing.generated_by_id = summarize(session, start, end, now), now, by
        return existing, False
    return once.store_once(session, HalfYearReport, lambda: find(session, start, end), lambda: dict(
        period_start=start, period_end=end, data=summarize(session, start, end, now), generated_at=now,
        generated_by_id=by))


def recipient_units(session) -> list[int]:
    """The units told of a new summary besides the managers: the admin's choice, else the
    department(s) named 市场部 (the seed's market department)."""
    row = session.get(Setting, RECIPIENT_UNITS)
    if row is not None and isinstance(row.value, list):
        return [int(u) for u in row.value if isinstance(u, int)]
    return list(session.scalars(select(OrgUnit.id).where(OrgUnit.name == DEFAULT_UNIT_NAME, OrgUnit.active.is_(True))))


def set_recipient_units(session, actor, unit_ids: list[int], ip=None, *, now: datetime) -> None:
    from domain import audit
    from domain.errors import NotAllowed
    from domain.roles import Role
    if not actor.has_role(Role.ADMIN):
        raise NotAllowed(N_("只有系统管理员可以修改设置。"))
    known = set(session.scalars(select(OrgUnit.id).where(OrgUnit.id.in_(unit_ids), OrgUnit.active.is_(True))))
    if len(known) != len(set(unit_ids)):
        raise InvalidInput(N_("请选择有效的单位。"), field="units")
    put(session, RECIPIENT_UNITS, sorted(known), by_id=actor.id, now=now)
    audit.record(session, audit.SETTING_CHANGED, actor_id=actor.id, target=f"setting:{RECIPIENT_UNITS}", ip=ip,
                 now=now, after={"units": sorted(known)})


def recipients(session) -> list[int]:
    from domain.roles import Role
    from domain.notify import users_with
    staff = select(User.id).where(User.org_unit_id.in_(recipient_units(session)), User.active.is_(True))
    return sorted(set(users_with(session, Role.MANAGER)) | set(session.scalars(staff)))


READERS = (Role.QUALITY, Role.MANAGER)   # who read (and make) every summary; also those announced_to


def announced_to(session, user) -> bool:
    """Someone in a unit the summary is announced to."""
    return user.org_unit_id in recipient_units(session)


def may_read(session, user) -> bool:
    return user.has_role(*READERS) or announced_to(session, user)


def key_prefix(report: HalfYearReport) -> str:
    """The notices' keys: h<from>-<to>:u<user id> (domain.messages reads the period back)."""
    return f"h{report.period_start:%Y%m%d}-{report.period_end:%Y%m%d}:"


def announce(session, report: HalfYearReport, now: datetime, also: int | None = None) -> int:
    """An in-app notice (and an e-mail copy) to each recipient — and to `also`, who asked for it —
    once per period and person."""
    people = set(recipients(session)) | ({also} if also else set())
    return once.announce_once(session, NOTICE, key_prefix(report), people, now)


def make(session, start: date, end: date, now: datetime, actor=None) -> tuple[HalfYearReport, bool, int]:
    """The report for [start, end), announced when it is new (also to `actor`, who asked for it):
    (report, created, people told)."""
    report, created = generate(session, start, end, now, actor=actor)
    told = announce(session, report, now, also=actor.id if actor is not None else None) if created else 0
    return report, created, told


def run_due(session, now: datetime) -> dict | None:
    """The scheduled run: in the first ten days of June or December (company time), make the past
    half-year's summary if it is not there yet and announce it. Any number of runs: one report,
    one notice per person."""
    from domain.settings import company_tz
    period = due_period(now.astimezone(company_tz()).date())
    if period is None:
        return None
    report, created, told = make(session, *period, now)
    return {"report": report.id, "created": created, "told": told}


# --- the Excel file --------------------------------------------------------------------------------

def _plain(x):
    return x


def labels(_=_plain) -> dict:
    """Names of severities, clocks and attribution kinds, in the reader's language."""
    from domain.attribution import KINDS
    from domain.severity import SEVERITY_LABELS
    from domain.sla import CLOCK_LABELS
    return {"severity": {s.value: _(v) for s, v in SEVERITY_LABELS.items()},
            "clock": {k.value: _(v) for k, v in CLOCK_LABELS.items()}, "kind": {k: _(v) for k, v in KINDS.items()}}


def to_xlsx(report: HalfYearReport, _=_plain, labels: dict | None = None) -> bytes:
    """The snapshot as a workbook: 概况, 责任部门, 分公司与门店, 责任归属, 罚扣. `_` translates the
    headings (the web passes the reader's language); `labels` names severities, clocks and kinds."""
    from domain import xlsx
    labels = labels or {}
    name = lambda group, key: labels.get(group, {}).get(key, key)  # noqa: E731
    d = report.data
    last = (report.period_end - timedelta(days=1)).isoformat()
    book = xlsx.workbook()

    def sheet(title, first=False):
        ws = book.active if first else book.create_sheet()
        ws.title = title
        return ws

    def head(ws, *cells):
        xlsx.append(ws, cells, bold=True)

    ws = sheet(_("概况"), first=True)
    xlsx.append(ws, [_("客诉处理半年汇总"), f"{report.period_start.isoformat()} — {last}"], bold=True, size=14)
    t = d["totals"]
    head(ws, _("项目"), _("数量"))
    for key, label in (("received", _("受理")), ("closed", _("已结")), ("closed_in_time", _("按时结案")),
                       ("open", _("未结")), ("valid", _("投诉成立")), ("not_valid", _("投诉不成立")),
                       ("company", _("本公司责任")), ("attributed", _("已归属责任")), ("repeats", _("二次投诉"))):
        xlsx.append(ws, [label, t[key]])
    xlsx.append(ws, [_("按时结案率"), round(t["closed_in_time"] / t["closed"], 4) if t["closed"] else None])
    ws.cell(ws.max_row, 2).number_format = "0.0%"
    xlsx.append(ws, [_("平均满意度"), t["satisfaction"]])
    xlsx.append(ws, [])
    head(ws, _("严重程度"), _("数量"))
    for key, n in d["severity"]:
        xlsx.append(ws, [name("severity", key), n])
    xlsx.append(ws, [])
    head(ws, _("类别"), _("数量"))
    for row in d["categories"]:
        xlsx.append(ws, row)
    xlsx.append(ws, [])
    head(ws, _("时限"), _("已完成"), _("按时完成"), _("超时未完成"))
    for kind, stopped, on_time, late in d["clocks"]:
        xlsx.append(ws, [name("clock", kind), stopped, on_time, late])

    ws = sheet(_("责任部门"))
    head(ws, _("责任部门"), _("受理"), _("已结"), _("按时结案"), _("已归属责任"), _("罚扣笔数"), _("罚扣金额（元）"))
    for row in d["units"]:
        xlsx.append(ws, [*row[:6], float(row[6])])

    ws = sheet(_("分公司与门店"))
    columns = (_("受理"), _("已结"), _("按时结案"), _("未结"), _("二次投诉"), _("束之高阁"), _("平均满意度"))
    head(ws, _("分公司"), _("所属"), *columns)
    for row in d["branches"]:
        xlsx.append(ws, row)
    xlsx.append(ws, [])
    head(ws, _("门店"), _("所属"), *columns)
    for row in d["stores"]:
        xlsx.append(ws, row)

    ws = sheet(_("责任归属"))
    head(ws, _("归属"), _("单位"), _("条数"))
    for kind, unit, n in d["attribution"]:
        xlsx.append(ws, [name("kind", kind), unit, n])

    ws = sheet(_("罚扣"))
    for title, rows in ((_("单位"), d["penalties_by_unit"]), (_("姓名"), d["penalties_by_person"])):
        head(ws, title, _("所属"), _("条数"), _("金额（元）"))
        for who, belongs, n, total in rows:
            xlsx.append(ws, [who, belongs, n, float(total)])
        xlsx.append(ws, [_("合计"), "", sum(r[2] for r in rows), float(sum(Decimal(r[3]) for r in rows))])
        xlsx.append(ws, [])
    return xlsx.to_bytes(book)
