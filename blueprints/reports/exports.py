"""Excel exports (SPEC §8): a list's 导出 Excel button starts one (POST: a job row, handed to the
worker), its page shows the progress bar — the fragment polled by HTMX every second, or the
whole page refreshing itself without JavaScript — then the download link. Exports are their
owner's alone: anyone else's id is not found. Which lists and who may export them:
domain.exports."""
from datetime import timedelta

from flask import abort, current_app, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from blueprints._access import client_ip
from blueprints._errors import error_page
from blueprints._render import render, see_other
from blueprints.reports import bp
from domain import exports
from domain.errors import N_, DomainError, InvalidInput
from models import db, utcnow
from models.report import ExportJob

LISTED = 20      # the latest exports on the 我的导出 page


def _hand_over(job) -> None:
    """To the worker; when Redis cannot be reached, written here and now (a slow request beats no file)."""
    from jobs.exports import enqueue, export
    try:
        enqueue(job.id, current_app.config["REDIS_URL"])
        return
    except Exception as err:   # noqa: BLE001 — Redis down
        current_app.logger.warning("export %s not enqueued (%s); writing it in the request", job.id, type(err).__name__)
    try:
        export(job.id)
    except Exception:   # noqa: BLE001 — the job is marked failed; its page says so
        current_app.logger.exception("export %s failed", job.id)
        db.session.rollback()


def _status(job) -> str:
    from jobs.exports import last_beat
    stall = timedelta(seconds=int(current_app.config.get("EXPORT_STALL_SECONDS") or exports.STALL.total_seconds()))
    beat = last_beat(job.id, current_app.config["REDIS_URL"]) if job.status == "running" else None
    return exports.shown_status(job, utcnow(), beat, stall)


def _own_or_404(job_id):
    job = exports.owned(db.session, current_user, job_id)
    if job is None:
        abort(404)
    return job


def _report_month(text) -> str:
    """The monthly report's month as its page takes it (2000-01 … this month), or what is wrong with it."""
    from blueprints._render import company_tz
    from blueprints.reports.monthly import month_asked
    from domain.monthly import months
    if not (text or "").strip():
        raise InvalidInput(N_("月份格式不对，请按 2026-11 的格式填写。"), field="month")
    return months.name(month_asked(text, utcnow().astimezone(company_tz()).date()))


@bp.route("/exports", methods=["POST"])
def export_start():
    kind = request.form.get("kind", "")
    raw = {k: v for k, v in request.form.items() if k not in ("csrf_token", "kind")}
    try:
        if kind == "monthly":
            raw["month"] = _report_month(raw.get("month"))
        job = exports.create(db.session, current_user, kind, raw, utcnow(), _, ip=client_ip())
    except DomainError as err:
        db.session.rollback()
        return error_page(422, _("不能导出"), _(err.message, **err.params))
    db.session.commit()
    _hand_over(job)
    return see_other(url_for("reports.export_page", job_id=job.id))


@bp.route("/exports")
def export_list():
    jobs = db.session.scalars(select(ExportJob).where(ExportJob.user_id == current_user.id)
                              .order_by(ExportJob.created_at.desc(), ExportJob.id.desc()).limit(LISTED)).all()
    return render("exports/list.html", jobs=[(job, _status(job)) for job in jobs])


@bp.route("/exports/<id:job_id>")
def export_page(job_id):
    """The export's page; for HTMX (the poll) its progress fragment alone."""
    job = _own_or_404(job_id)
    return render("exports/job.html", "exports/_progress.html", job=job, state=_status(job),
                  percent=exports.percent(job))


@bp.route("/exports/<id:job_id>/download")
def export_download(job_id):
    from jobs.exports import folder
    job = _own_or_404(job_id)
    path = exports.file_path(folder(), job) if job.status == "done" else None
    if path is None or not path.is_file():
        abort(404)
    # Cache-Control: no-store (blueprints/_errors.py, every response); the Chinese name as
    # filename* (RFC 5987), an ASCII one beside it for old clients.
    from domain.xlsx import MIME
    return send_file(path, mimetype=MIME, as_attachment=True, download_name=job.filename, conditional=False)


@bp.route("/exports/<id:job_id>/again", methods=["POST"])
def export_again(job_id):
    """The same list exported once more (after a failure, a lost worker, or an expired file)."""
    job = _own_or_404(job_id)
    try:
        fresh = exports.again(db.session, current_user, job, utcnow(), _, ip=client_ip())
    except DomainError as err:    # the user's roles changed since
        db.session.rollback()
        return error_page(422, _("不能导出"), _(err.message, **err.params))
    db.session.commit()
    _hand_over(fresh)
    return see_other(url_for("reports.export_page", job_id=fresh.id))
