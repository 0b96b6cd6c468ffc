"""Excel exports of the lists (SPEC §8): the register with its filters, a work queue, the overdue
list — written by the worker as an ExportJob, in constant memory, with progress the page shows.

Each kind names the complaints exactly as its screen does (the register's `registry.filtered`,
the queues' queries in domain.queues, the overdue clocks of domain.reminders, all within
`scoping.visible_complaints`), and the phone and e-mail columns are masked where the screen
masks them (`privacy.unmasked_condition`, evaluated in the query). Rows are streamed from the
database (`yield_per`: a server-side cursor on PostgreSQL) into `xlsx.Stream`; the job's
progress is written every PROGRESS_EVERY rows on a connection of its own, so the read runs as one
statement from start to end.

A running job whose worker died makes no progress: after STALL without a sign of life (the
heartbeat the job module keeps, or the start) it is shown as failed, and the user exports again
(a new job with the same kind and filters). Files are kept for KEEP, then purged.

Kinds: register, queue, overdue, and monthly (params {"month": "YYYY-MM"}: the monthly report's
tables, domain/export_monthly.py) for the report page's button.
"""
from __future__ import annotations

import contextlib
import os
import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Callable, Iterator

from sqlalchemy import case, func, literal, select, update

from domain import privacy, queues, registry, xlsx
from domain.export_monthly import Heading
from domain.errors import N_, InvalidInput
from domain.intake import CHANNEL_LABELS, TYPE_LABELS
from domain.roles import Role
from domain.settings import company_tz
from domain.severity import SEVERITY_LABELS, Severity
from domain.sla import CLOCK_LABELS
from domain.stages import STAGE_LABELS, Stage
from models.complaint import Category, Complaint
from models.org import OrgUnit
from models.report import ExportJob
from models.sla import SlaClock
from models.user import User

BATCH = 2000              # rows fetched from the database at a time
PROGRESS_EVERY = 5000     # rows between two progress writes
STALL = timedelta(minutes=5)     # no sign of life for this long: the worker is gone
QUEUED_STALL = timedelta(minutes=30)   # not started for this long: no worker took it (Redis lost it)
KEEP = timedelta(days=1)         # files (and the download) are kept this long
FOLDER = "exports"               # under the upload directory
MAX_ID = 2**31 - 1
# The register's query-string keys (blueprints/complaints FILTER_KEYS), the monthly report's
# drill-downs included.
REGISTER_KEYS = ("q", "stage", "severity", "category", "unit", "from", "to", "sort", "mine") + registry.DRILL_KEYS

Translate = Callable[[str], str]


def _same(text: str) -> str:
    return text


# --- the kinds --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Queue:
    label: str
    may: Callable[[object], bool]
    query: Callable          # (session, user) → Select of Complaint, or None


QUEUES = {
    "dispatch": Queue(N_("待分派"), lambda u: u.has_role(Role.QUALITY), lambda s, u: queues.dispatch_query()),
    "verify": Queue(N_("待验证"), lambda u: u.has_role(Role.QUALITY), lambda s, u: queues.verify_query()),
    "decide": Queue(N_("待决定"), lambda u: u.has_role(Role.QUALITY, Role.MANAGER), lambda s, u: queues.decide_query()),
    "attribute": Queue(N_("待确认责任归属"), lambda u: u.has_role(Role.QUALITY),
                       lambda s, u: queues.attribute_query()),
    "department": Queue(N_("本部门处理中"), lambda u: u.has_role(Role.HANDLER), queues.department_query),
    "approve": Queue(N_("待我审批"), lambda u: u.has_role(Role.MANAGER) or (u.has_role(Role.HANDLER) and u.is_head),
                     queues.approvable_query),
    "follow_up": Queue(N_("待答复和回访"), lambda u: u.has_role(Role.RECEIVER), lambda s, u: queues.follow_up_query(u)),
}


@dataclass(frozen=True)
class Kind:
    """An export: its name in the file name, who may start it (with its params), its params
    cleaned for storage, and `produce(session, user, params, now, _)` → Sheet."""
    label: str
    clean: Callable[[dict], dict]
    may: Callable[[object, dict], bool]
    produce: Callable


@dataclass
class Sheet:
    title: str
    header: list[str]
    widths: tuple
    total: int
    rows: Iterator[list]


def clean_register(raw: dict) -> dict:
    """The register's filters as its page has them in the query string (what the page links
    and the export button carry), kept as given: `register_filters` reads them as the page does."""
    return {k: str(raw.get(k) or "")[:2000] for k in REGISTER_KEYS if raw.get(k)}


def _date(value: str) -> date | None:
    try:
        day = date.fromisoformat(value.strip()) if value.strip() else None
    except ValueError:
        return None
    return day if day and date(2000, 1, 1) <= day <= date(2100, 1, 1) else None


def _id(value: str) -> int | None:
    from domain.text import small_int
    n = small_int(value)
    return n if n and n <= MAX_ID else None


def register_filters(params: dict, user, now: datetime | None = None) -> registry.Filters:
    """registry.Filters from the stored params, read as blueprints/complaints reads the page's
    query string (a bad value is left out, as there); `now` for the drill-downs' clock states."""
    stage = params.get("stage") if params.get("stage") in {s.value for s in Stage} else None
    severity = params.get("severity") if params.get("severity") in {s.value for s in Severity} else None
    f = registry.Filters(q=params.get("q", "")[:60], stage=stage, category_id=_id(params.get("category", "")),
                         severity=severity, unit_id=_id(params.get("unit", "")), date_from=_date(params.get("from", "")),
                         date_to=_date(params.get("to", "")), oldest_first=params.get("sort") == "old",
                         **registry.drill_values(params), now=now)      # the monthly report's drill-downs
    if params.get("mine") == "1":
        f.first_responder_id = user.id
    return f


def _register(session, user, params, now, _):
    f = register_filters(params, user, now)
    tz = company_tz()
    query = registry.filtered(session, user, f, tz)
    order = (Complaint.created_at.asc(), Complaint.id.asc()) if f.oldest_first else \
        (Complaint.created_at.desc(), Complaint.id.desc())
    return _complaints(session, user, query, order, _, _(N_("投诉台账")))


def _queue(session, user, params, now, _):
    q = QUEUES[params["queue"]]
    query = q.query(session, user)
    # the queue's complaints, oldest registered first, with the nearest running time limit
    nearest = select(SlaClock).where(SlaClock.complaint_id == Complaint.id, SlaClock.stopped_at.is_(None)) \
        .order_by(SlaClock.deadline, SlaClock.id).limit(1)
    extra = (nearest.with_only_columns(SlaClock.kind).scalar_subquery().label("clock_kind"),
             nearest.with_only_columns(SlaClock.deadline).scalar_subquery().label("deadline"))
    return _complaints(session, user, query, (Complaint.created_at, Complaint.id), _, _(q.label), extra)


def _overdue(session, user, params, now, _):
    """As domain.reminders.overdue_complaints (the overdue page), every one of them: each
    complaint once, with its most overdue clock, longest overdue first."""
    from domain.reminders import overdue_where
    from domain.scoping import visible_complaints
    ranked = select(SlaClock.complaint_id, SlaClock.kind, SlaClock.deadline,
                    func.row_number().over(partition_by=SlaClock.complaint_id,
                                           order_by=(SlaClock.deadline, SlaClock.id)).label("rank")) \
        .where(*overdue_where(now)).subquery()
    query = visible_complaints(session, user).join(ranked, ranked.c.complaint_id == Complaint.id) \
        .where(ranked.c.rank == 1)
    extra = (ranked.c.kind.label("clock_kind"), ranked.c.deadline.label("deadline"))
    return _complaints(session, user, query, (ranked.c.deadline, Complaint.id), _, _(N_("超时的投诉")), extra)


MONTH_RE = re.compile(r"^20\d\d-(0[1-9]|1[0-2])$")


def _monthly(session, user, params, now, _):
    """The monthly report (domain.monthly.figures) as titled tables: domain/export_monthly.py."""
    from domain import export_monthly
    lines = export_monthly.lines(session, user, params["month"], now, _)
    return Sheet(f"{_(N_('月度客诉报告'))} {params['month']}", [], (28, 14, 12, 12, 12, 10), len(lines), iter(lines))


KINDS: dict[str, Kind] = {
    "register": Kind(N_("投诉台账"), clean_register, lambda u, p: True, _register),
    "queue": Kind(N_("待办"), lambda raw: {"queue": raw.get("queue")} if raw.get("queue") in QUEUES else {},
                  lambda u, p: p.get("queue") in QUEUES and QUEUES[p["queue"]].may(u), _queue),
    "overdue": Kind(N_("超时的投诉"), lambda raw: {}, lambda u, p: True, _overdue),
    # the monthly report page's button: quality and the manager, and heads for the units they cover
    "monthly": Kind(N_("月度客诉报告"), lambda raw: {"month": raw["month"]} if MONTH_RE.match(raw.get("month") or "") else {},
                    lambda u, p: "month" in p and (u.has_role(Role.QUALITY, Role.MANAGER) or bool(u.is_head)), _monthly),
}


def title(kind: str, params: dict, _: Translate = _same) -> str:
    if kind == "monthly" and params.get("month"):
        return f"{_(KINDS[kind].label)}{params['month']}"
    if kind == "queue" and params.get("queue") in QUEUES:
        label = QUEUES[params["queue"]].label
        return _(label)
    return _(KINDS[kind].label) if kind in KINDS else kind


# --- the columns: what the register shows, and what a spreadsheet needs besides -----------------

HEADER = (N_("编号"), N_("登记时间"), N_("类型"), N_("渠道"), N_("顾客姓名"), N_("电话"), N_("电子邮箱"), N_("商品"),
          N_("投诉内容"), N_("类别"), N_("严重程度"), N_("阶段"), N_("受理单位"), N_("首问负责人"), N_("责任部门"),
          N_("结案时间"))
WIDTHS = (16, 17, 6, 8, 10, 14, 20, 14, 50, 12, 8, 10, 14, 10, 12, 17)
COLUMNS = (Complaint.id, Complaint.number, Complaint.created_at, Complaint.type, Complaint.channel,
           Complaint.customer_name, Complaint.customer_phone, Complaint.customer_email, Complaint.product_name,
           Complaint.content, Complaint.category_id, Complaint.severity, Complaint.stage, Complaint.receiving_unit_id,
           Complaint.first_responder_id, Complaint.responsible_unit_id, Complaint.closed_at)


def _complaints(session, user, query, order, _, sheet_title, extra=()) -> Sheet:
    unmasked = privacy.unmasked_condition(session, user)
    shown = literal(1) if unmasked is None else case((unmasked, 1), else_=0)
    rows = query.with_only_columns(*COLUMNS, shown.label("unmasked"), *extra).order_by(*order)
    total = session.scalar(select(func.count()).select_from(query.with_only_columns(Complaint.id).subquery()))
    units = dict(session.execute(select(OrgUnit.id, OrgUnit.name)).all())
    categories = dict(session.execute(select(Category.id, Category.name)).all())
    people = dict(session.execute(select(User.id, User.display_name)).all())
    tz = company_tz()

    def local(moment):
        return moment.astimezone(tz).replace(tzinfo=None) if moment else None

    labels = {**{k: _(v) for k, v in TYPE_LABELS.items()}, **{k: _(v) for k, v in CHANNEL_LABELS.items()}}
    severity = {k: _(v) for k, v in SEVERITY_LABELS.items()}
    stage = {k: _(v) for k, v in STAGE_LABELS.items()}
    clocks = {k: _(v) for k, v in CLOCK_LABELS.items()}

    def produce():
        for r in session.execute(rows.execution_options(yield_per=BATCH)):
            full = r.unmasked
            line = [r.number, local(r.created_at), labels.get(r.type, r.type), labels.get(r.channel, r.channel),
                    r.customer_name, r.customer_phone if full else privacy.mask_phone(r.customer_phone),
                    r.customer_email if full else privacy.mask_email(r.customer_email), r.product_name, r.content,
                    categories.get(r.category_id), severity.get(r.severity, r.severity), stage.get(r.stage, r.stage),
                    units.get(r.receiving_unit_id), people.get(r.first_responder_id),
                    units.get(r.responsible_unit_id), local(r.closed_at)]
            if extra:
                line += [clocks.get(r.clock_kind, r.clock_kind), local(r.deadline)]
            yield line
    header = [_(h) for h in HEADER] + ([_(N_("时限")), _(N_("截止时间"))] if extra else [])
    return Sheet(sheet_title, header, WIDTHS + ((8, 17) if extra else ()), total, produce())


# --- starting, showing, retrying ----------------------------------------------------------------

def create(session, user, kind: str, raw: dict, now: datetime, _: Translate = _same, ip: str | None = None) -> ExportJob:
    """A queued export of `kind` for `user` (the caller hands it to the worker). Raises InvalidInput
    for a kind or list this user may not export."""
    spec = KINDS.get(kind)
    params = spec.clean(raw) if spec else {}
    if spec is None or not spec.may(user, params):
        raise InvalidInput(N_("不能导出这个列表。"), field="kind")
    name = re.sub(r'[\\/:*?"<>|\s]+', "_", title(kind, params, _))
    job = ExportJob(user_id=user.id, kind=kind, params=params, status="queued", rows_done=0, created_at=now,
                    filename=f"{name}-{now.astimezone(company_tz()):%Y%m%d-%H%M}.xlsx")
    session.add(job)
    session.flush()
    if kind == "register" and registry.is_phone_search(params.get("q", "")):
        privacy.record_phone_search(session, user, ip, now=now, export=job.id)   # as the list logs it (issue 13)
    return job


def again(session, user, job: ExportJob, now: datetime, _: Translate = _same, ip: str | None = None) -> ExportJob:
    """The same export once more (after a failure, or for fresh figures)."""
    return create(session, user, job.kind, dict(job.params or {}), now, _, ip)


def owned(session, user, job_id: int) -> ExportJob | None:
    """The user's own export, or None (someone else's is not found, whoever asks)."""
    job = session.get(ExportJob, job_id)
    return job if job is not None and job.user_id == user.id else None


def shown_status(job: ExportJob, now: datetime, beat: datetime | None = None, stall: timedelta = STALL) -> str:
    """queued, running, done or failed — and `lost` for a job whose worker went away: running with no
    sign of life (its heartbeat `beat`, else its start) for `stall`, or not started within QUEUED_STALL;
    `expired` for a finished one whose file is gone (KEEP)."""
    if job.status == "running":
        last = max(t for t in (job.started_at, beat) if t is not None)
        return "lost" if now - last > stall else "running"
    if job.status == "queued" and now - job.created_at > QUEUED_STALL:
        return "lost"
    if job.status == "done" and (job.file_key is None or now - (job.finished_at or now) > KEEP):
        return "expired"
    return job.status


def percent(job: ExportJob) -> int:
    if job.status == "done":
        return 100
    return min(99, int(job.rows_done * 100 / job.rows_total)) if job.rows_total else 0


def file_path(folder: Path, job: ExportJob) -> Path | None:
    return folder / f"{job.file_key}.xlsx" if job.file_key and re.fullmatch(r"[0-9a-f]{32}", job.file_key) else None


# --- the worker's steps -----------------------------------------------------------------------------

def run(session, job_id: int, folder: Path, clock: Callable[[], datetime], _: Translate = _same,
        beat: Callable[[int], None] = lambda rows: None, every: int = PROGRESS_EVERY) -> ExportJob | None:
    """Write export `job_id` (claimed from queued: a second run of the same job does nothing).
    Progress (rows_done) is written every `every` rows on a connection of its own and `beat` is
    called with it; the file is written beside its final name and renamed when complete."""
    engine = session.get_bind()
    claimed = session.execute(update(ExportJob).where(ExportJob.id == job_id, ExportJob.status == "queued")
                              .values(status="running", started_at=clock(), rows_done=0)).rowcount
    session.commit()
    job = session.get(ExportJob, job_id)
    if not claimed:
        return job
    beat(0)

    def note(**values):
        with engine.begin() as conn:
            conn.execute(update(ExportJob).where(ExportJob.id == job_id).values(**values))

    folder.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(16)
    part, final = folder / f".{key}.part.xlsx", folder / f"{key}.xlsx"
    done, stream = 0, None
    try:
        owner = session.get(User, job.user_id)
        if owner is None or not owner.active or not KINDS[job.kind].may(owner, job.params or {}):
            raise PermissionError("the export's owner may no longer export this list")
        sheet = KINDS[job.kind].produce(session, owner, job.params or {}, clock(), _)
        note(rows_total=sheet.total)
        stream = xlsx.Stream(part, sheet.title, sheet.widths, tmpdir=folder)
        if sheet.header:
            stream.append(sheet.header, bold=True)
            stream.freeze_header()
        for line in sheet.rows:
            stream.append(line, bold=isinstance(line, Heading))
            done += 1
            if done % every == 0:
                note(rows_done=done)
                beat(done)
        stream.close()
        session.rollback()        # the read is over
        os.replace(part, final)
        note(status="done", rows_done=done, rows_total=done, file_key=key, finished_at=clock())
    except Exception as err:
        session.rollback()
        if stream is not None:
            with contextlib.suppress(Exception):
                stream.close()        # its temporary files go
        part.unlink(missing_ok=True)
        note(status="failed", rows_done=done, finished_at=clock(), error=type(err).__name__[:500])
        raise
    session.expire_all()
    return session.get(ExportJob, job_id)


def purge(session, folder: Path, now: datetime) -> int:
    """Every file in the exports folder older than KEEP removed — finished exports, and whatever a
    killed worker left half-written — and those exports' rows told so (shown as expired).
    Returns the number of files removed."""
    removed = 0
    cutoff = now - KEEP
    if folder.is_dir():
        for path in folder.iterdir():
            if path.is_file() and path.stat().st_mtime < cutoff.timestamp():
                path.unlink(missing_ok=True)
                removed += 1
    session.execute(update(ExportJob).where(ExportJob.file_key.is_not(None), ExportJob.finished_at < cutoff)
                    .values(file_key=None))
    return removed
