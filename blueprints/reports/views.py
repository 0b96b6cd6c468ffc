"""The figures quality and the manager work from. Who sees what: the ledger and the overdue list
are scoped in their queries like the register (a store head sees their own store); the store
audit, penalty totals and making a half-year summary are quality's and the manager's; a half-year
summary is also read by the people it is announced to."""
from datetime import date, datetime, timedelta

from flask import abort, current_app, make_response, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select

from blueprints._access import complaint_or_404, get_or_404, only
from blueprints._args import date_arg, int_arg
from blueprints._errors import error_page
from blueprints._render import company_tz, fragment, render, see_other
from blueprints.reports import bp
from domain import halfyear
from domain.errors import DomainError
from domain.roles import Role
from models import db, utcnow

quality_and_manager = only(Role.QUALITY, Role.MANAGER)
halfyear_readers = only(*halfyear.READERS, also=lambda user: halfyear.announced_to(db.session, user))
halfyear_makers = only(*halfyear.READERS)


def _bounds(start, end):
    """Company-time dates → [start, end + 1 day) in time."""
    tz = company_tz()
    return (datetime.combine(start, datetime.min.time(), tz),
            datetime.combine(end + timedelta(days=1), datetime.min.time(), tz))


def _period(default_start, default_end=lambda today: today):
    """from/to in the query (a bad date falls back to the default), in order, with its bounds.
    Without either, the defaults; with only one, the other is its default (the end: today)."""
    today = utcnow().astimezone(company_tz()).date()
    given_start, given_end = date_arg("from")[0], date_arg("to")[0]
    start = given_start or default_start(today)
    end = given_end or (default_end(today) if given_start is None else today)
    if end < start:
        start, end = end, start
    return start, end, _bounds(start, end)


def _xlsx(body: bytes, name: str):
    from domain import xlsx
    resp = make_response(body)
    resp.headers["Content-Type"] = xlsx.MIME
    resp.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return resp


# --- accountability ledger (SPEC §5) ------------------------------------------------------------

def _ledger_rows():
    """by, period (company-time dates), sort — with defaults — and the rows the user may see."""
    from domain import ledger
    args = request.args
    by = args.get("by") if args.get("by") in ledger.BY_LABELS else "person"
    # Opens on the last full month (this month's first days would show next to nothing).
    start, end, bounds = _period(lambda today: ledger.last_full_month(today)[0],
                                 lambda today: ledger.last_full_month(today)[1])
    sort = args.get("sort") if args.get("sort") in ledger.COLUMN_LABELS or args.get("sort") == "name" else "received"
    desc = args.get("dir") != "asc"
    rows = ledger.sort(ledger.ledger(db.session, current_user, by, *bounds, utcnow()), sort, desc)
    return by, start, end, sort, desc, rows


@bp.route("/ledger")
def ledger_page():
    from domain import ledger
    by, start, end, sort, desc, rows = _ledger_rows()
    base = {"by": by, "from": start.isoformat(), "to": end.isoformat()}
    today = utcnow().astimezone(company_tz()).date()
    month_start, month_end = ledger.last_full_month(today)
    shortcuts = [(_("上个月"), month_start, month_end), (_("本月"), today.replace(day=1), today),
                 (_("今年"), today.replace(month=1, day=1), today)]
    return render("reports/ledger.html", by=by, start=start, end=end, sort=sort, desc=desc, rows=rows,
                  by_labels=ledger.BY_LABELS, columns=ledger.COLUMN_LABELS, base=base, shortcuts=shortcuts)


@bp.route("/ledger.xlsx")
def ledger_export():
    """The same table as an Excel file (numbers as numbers, a frozen header)."""
    from domain import ledger, xlsx
    by, start, end, sort, desc, rows = _ledger_rows()
    book = xlsx.workbook()
    sheet = book.active
    sheet.title = _("责任台账")
    xlsx.append(sheet, [_("首问负责制责任台账"), f"{_(ledger.BY_LABELS[by])} · {start.isoformat()} — {end.isoformat()}"])
    header = [_("姓名") if by == "person" else _("单位"), _("所属")] + \
        [_(v) for v in ledger.COLUMN_LABELS.values()] + [_("按时结案率")]
    xlsx.append(sheet, header, bold=True)
    for r in rows:
        xlsx.append(sheet, [r.name, r.unit] + [getattr(r, k) for k in ledger.COLUMN_LABELS] +
                    [round(r.in_time_rate, 4) if r.in_time_rate is not None else None])
    sheet.freeze_panes = "A3"
    for column, width in zip("ABCDEFGHIJKL", (14, 14, 8, 8, 8, 10, 10, 14, 12, 10, 10, 12)):
        sheet.column_dimensions[column].width = width
    return _xlsx(xlsx.to_bytes(book), f"ledger-{by}-{start.isoformat()}-{end.isoformat()}.xlsx")


# --- overdue ----------------------------------------------------------------------------------

@bp.route("/overdue")
def overdue():
    """Complaints past a deadline, longest overdue first (scoped like the register)."""
    from domain import reminders
    rows = reminders.overdue_complaints(db.session, current_user, utcnow())
    return render("reports/overdue.html", rows=rows)


# --- store audit (seed 001 五.2) -------------------------------------------------------------

def _audit_period():
    return _period(lambda today: today - timedelta(days=90))


def _store_audit_page(status=200, errors=None, error_id=None):
    from domain import store_audit
    from models.complaint import ConcealmentReview
    start, end, bounds = _audit_period()
    reviews = {r.complaint_id: r for r in db.session.scalars(select(ConcealmentReview).order_by(
        ConcealmentReview.at.desc()).limit(200))}
    return render("reports/store_audit.html", status=status, start=start, end=end,
                  open_rows=store_audit.suspects(db.session, *bounds),
                  done_rows=store_audit.suspects(db.session, *bounds, reviewed=True, limit=50),
                  reviews=reviews, verdicts=store_audit.VERDICTS, errors=errors or {}, error_id=error_id,
                  action=FlaskForm())


@bp.route("/store-audit")
@quality_and_manager
def store_audit_page():
    return _store_audit_page()


@bp.route("/<id:complaint_id>/concealment", methods=["POST"])
@quality_and_manager
def concealment_review(complaint_id):
    from domain import store_audit
    complaint = complaint_or_404(complaint_id)
    if not FlaskForm().validate_on_submit():
        return _store_audit_page(400)
    try:
        store_audit.review(db.session, current_user, complaint, request.form.get("verdict", ""),
                           request.form.get("note", ""), utcnow(), ip=request.remote_addr)
    except DomainError as err:
        db.session.rollback()
        return _store_audit_page(422, {err.field or "": _(err.message, **err.params)}, complaint.id)
    db.session.commit()
    return see_other(url_for("reports.store_audit_page"), _("已记录核查结果。"))


# --- penalty totals (SPEC §6) ----------------------------------------------------------------

@bp.route("/penalties")
@quality_and_manager
def penalty_report():
    """Penalty totals for a period, with the penalties behind a line."""
    from domain import penalties
    by = request.args.get("by") if request.args.get("by") in penalties.BY_LABELS else "unit"
    start, end, bounds = _audit_period()
    rows = penalties.report(db.session, by, *bounds)
    key = int_arg("key")
    detail = penalties.listing(db.session, by, key, *bounds) if key else []
    base = {"by": by, "from": start.isoformat(), "to": end.isoformat()}
    if request.args.get("format") == "xlsx":
        return _penalty_xlsx(by, start, end, rows)
    return render("reports/penalties.html", by=by, start=start, end=end, rows=rows, detail=detail, key=key,
                  base=base, by_labels=penalties.BY_LABELS, total=sum(r[4] for r in rows))


def _penalty_xlsx(by, start, end, rows):
    from domain import penalties, xlsx
    book = xlsx.workbook()
    sheet = book.active
    sheet.title = _("罚扣汇总")
    xlsx.append(sheet, [_("罚扣汇总"), f"{_(penalties.BY_LABELS[by])} · {start.isoformat()} — {end.isoformat()}"])
    xlsx.append(sheet, [_("姓名") if by == "person" else _("单位"), _("所属"), _("条数"), _("金额（元）")], bold=True)
    for _k, name, belongs, n, total in rows:
        xlsx.append(sheet, [name, belongs, n, float(total)])
    xlsx.append(sheet, [_("合计"), "", sum(r[3] for r in rows), float(sum(r[4] for r in rows))])
    return _xlsx(xlsx.to_bytes(book), f"penalties-{by}-{start.isoformat()}-{end.isoformat()}.xlsx")


# --- half-year summary (SPEC §6, seed 001 三.4) ------------------------------------------------------

def _halfyear_choices():
    return halfyear.recent_periods(utcnow().astimezone(company_tz()).date())


def _period_arg(value, choices):
    try:
        period = tuple(date.fromisoformat(x) for x in (value or "").split("/"))
    except ValueError:
        return None
    return period if period in choices else None


@bp.route("/half-year")
@halfyear_readers
def half_year_list():
    from models.report import HalfYearReport
    reports = db.session.scalars(select(HalfYearReport).order_by(HalfYearReport.period_start.desc()).limit(40)).all()
    choices = _halfyear_choices()
    making = _period_arg(request.args.get("making"), choices)
    if making and any((r.period_start, r.period_end) == making for r in reports):
        making = None
    return render("reports/half_year_list.html", reports=reports, choices=choices, making=making,
                  form=FlaskForm(), timedelta=timedelta)


@bp.route("/half-year", methods=["POST"])
@halfyear_makers
def half_year_generate():
    """On demand: one of the recent half-years, made by a job (a few seconds at a million
    complaints) while the list page waits for it; an existing one is opened, not redone.
    When Redis is down the report is made here and now."""
    from jobs import redis_connection
    from jobs.reports import half_year_for, job_id
    if not FlaskForm().validate_on_submit():
        return error_page(400, _("页面已过期"), _("页面已过期，请刷新后再试。"))
    period = _period_arg(request.form.get("period"), _halfyear_choices())
    if period is None:
        return error_page(422, _("没有生成"), _("请从列表中选择一个半年。"))
    existing = halfyear.find(db.session, *period)
    if existing is not None:
        return see_other(url_for("reports.half_year_report", report_id=existing.id), _("这个半年的汇总已经有了。"))
    try:
        from rq import Queue
        Queue("default", connection=redis_connection(current_app.config["REDIS_URL"])).enqueue(
            half_year_for, period[0].isoformat(), period[1].isoformat(), current_user.id,
            job_id=job_id(*period), job_timeout=600, result_ttl=3600, failure_ttl=3600)
    except Exception as err:   # noqa: BLE001 — Redis down: make it here
        current_app.logger.warning("half-year job not enqueued (%s); making it in the request", type(err).__name__)
        report, _created, _told = halfyear.make(db.session, *period, utcnow(), actor=current_user)
        db.session.commit()
        return see_other(url_for("reports.half_year_report", report_id=report.id), _("已生成。"))
    return see_other(url_for("reports.half_year_list", making=f"{period[0].isoformat()}/{period[1].isoformat()}"),
                     _("正在生成，通常只要几秒。完成后这里会显示，也会通知您。"))


@bp.route("/half-year/making")
@halfyear_readers
def half_year_making():
    """The waiting row on the list page (polled by HTMX): still making, done (a link), or failed."""
    from jobs import redis_connection
    from jobs.reports import job_id
    period = _period_arg(request.args.get("period"), _halfyear_choices())
    if period is None:
        abort(404)
    report = halfyear.find(db.session, *period)
    failed = False
    if report is None:
        from rq.exceptions import NoSuchJobError
        from rq.job import Job
        try:
            failed = Job.fetch(job_id(*period), connection=redis_connection(current_app.config["REDIS_URL"])).is_failed
        except NoSuchJobError:       # gone without a report (Redis was emptied): ask again
            failed = True
        except Exception:   # noqa: BLE001 — Redis away for a moment: keep waiting
            failed = False
    return fragment("reports/_half_year_making.html", period=period, report=report, failed=failed,
                    timedelta=timedelta)


def _halfyear_or_404(report_id):
    from models.report import HalfYearReport
    return get_or_404(HalfYearReport, report_id)


@bp.route("/half-year/<id:report_id>")
@halfyear_readers
def half_year_report(report_id):
    report = _halfyear_or_404(report_id)
    return render("reports/half_year.html", r=report, d=report.data, labels=halfyear.labels(_),
                  last=report.period_end - timedelta(days=1))


@bp.route("/half-year/<id:report_id>.xlsx")
@halfyear_readers
def half_year_xlsx(report_id):
    report = _halfyear_or_404(report_id)
    return _xlsx(halfyear.to_xlsx(report, _, halfyear.labels(_)),
                 f"half-year-{report.period_start.isoformat()}-{(report.period_end - timedelta(days=1)).isoformat()}.xlsx")
