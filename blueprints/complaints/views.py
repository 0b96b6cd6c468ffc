"""The registry (every role's scoped list with filters and search), the record page with
masked personal data and a logged reveal, the A4 print view and the attachment route."""
from datetime import date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from flask import abort, current_app, make_response, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select

from blueprints._perform import perform
from blueprints._web import MAX_ID, client_ip, error_page, fragment, is_htmx, render, see_other
from blueprints.complaints import bp
from blueprints.penalties.views import section as penalty_section
from domain import attachments, clocks, privacy, registry, settings, workflow
from domain.errors import N_, DomainError, NotAllowed
from domain.roles import Role
from domain.intake import CHANNEL_LABELS, DEMAND_LABELS, TYPE_LABELS, URGENCY_LABELS
from domain.orgtree import tree
from domain.scoping import complaint_or_none, covered_unit_ids, sees_everything
from domain.severity import REASONS, SEVERITY_LABELS, Severity
from domain.stages import STAGE_LABELS, Stage
from domain.text import small_int
from models import db, utcnow
from models.attachment import Attachment
from models.complaint import Category, Complaint
from models.org import OrgUnit


FILTER_KEYS = ("q", "stage", "severity", "category", "unit", "from", "to", "sort", "mine")


def _tz() -> ZoneInfo:
    return ZoneInfo(current_app.config["COMPANY_TZ"])


def _date_arg(name):
    value = request.args.get(name, "").strip()
    try:
        day = date.fromisoformat(value) if value else None
    except ValueError:
        return None, True
    if day and not date(2000, 1, 1) <= day <= date(2100, 1, 1):
        return None, True
    return day, False


def _int_arg(name):
    value = small_int(request.args.get(name, ""))
    return value if value and value <= MAX_ID else None


def _unit_options():
    """Receiving units the user may filter by: what they cover, in tree order."""
    covered = covered_unit_ids(db.session, current_user)
    pairs = []

    def walk(nodes, depth):
        for node in nodes:
            if covered is None or node.unit.id in covered:
                pairs.append((node.unit.id, "　" * depth + node.unit.name))
            walk(node.children, depth + (1 if covered is None or node.unit.id in covered else 0))
    walk(tree(db.session), 0)
    return pairs


def _category_options():
    """Top categories, each followed by its sub-categories (one query)."""
    rows = db.session.execute(select(Category.id, Category.parent_id, Category.name)
                              .order_by(Category.sort, Category.id)).all()
    children: dict[int, list] = {}
    for row in rows:
        if row.parent_id is not None:
            children.setdefault(row.parent_id, []).append((row.id, "　" + row.name))
    pairs = []
    for row in rows:
        if row.parent_id is None:
            pairs.append((row.id, row.name))
            pairs.extend(children.get(row.id, []))
    return pairs


def _filters():
    date_from, bad_from = _date_arg("from")
    date_to, bad_to = _date_arg("to")
    stage = request.args.get("stage") if request.args.get("stage") in {s.value for s in Stage} else None
    severity = request.args.get("severity") if request.args.get("severity") in {s.value for s in Severity} else None
    f = registry.Filters(q=request.args.get("q", "")[:60], stage=stage, category_id=_int_arg("category"),
                         severity=severity, unit_id=_int_arg("unit"), date_from=date_from, date_to=date_to,
                         oldest_first=request.args.get("sort") == "old")
    return f, bad_from or bad_to


@bp.route("/")
def index():
    f, bad_date = _filters()
    mine = request.args.get("mine") == "1"
    if mine:
        f.first_responder_id = current_user.id
    page = registry.page(db.session, current_user, f, _tz(), request.args.get("after"))
    _log_phone_search(f, complaints=[c.id for c in page.rows])
    args = {k: v for k, v in request.args.items() if k in FILTER_KEYS and v}
    next_url = url_for("complaints.index", **args, after=page.next_cursor) if page.next_cursor else None
    units = {u.id: u.name for u in db.session.scalars(select(OrgUnit))}
    categories = {c.id: c.name for c in db.session.scalars(select(Category))}
    badges = clocks.badges(db.session, [c.id for c in page.rows], utcnow())   # the countdowns, one query
    return render("complaints/index.html", "complaints/_rows.html", page=page, f=f, mine=mine, args=args,
                  badges=badges,
                  next_url=next_url, bad_date=bad_date, units=units, categories=categories,
                  unit_options=_unit_options(), category_options=_category_options(),
                  first_page=not request.args.get("after"),
                  stage_options=list(STAGE_LABELS.items()), severity_options=list(SEVERITY_LABELS.items()))


@bp.route("/count")
def count():
    f, _bad = _filters()
    if request.args.get("mine") == "1":
        f.first_responder_id = current_user.id
    n, more = registry.count(db.session, current_user, f, _tz())
    _log_phone_search(f, matches=n)
    return fragment("complaints/_count.html", n=n, more=more)


def _log_phone_search(f, **found):
    """Issue 13: a search by phone is logged like a reveal (the list and the count each answer
    whether a number is on record, so each is written)."""
    if registry.is_phone_search(f.q):
        privacy.record_phone_search(db.session, current_user, ip=client_ip(), **found)
        db.session.commit()


def _complaint_or_404(complaint_id) -> Complaint:
    complaint = complaint_or_none(db.session, current_user, complaint_id)
    if complaint is None:
        abort(404)
    return complaint


def _linked(complaint):
    """Links to other complaints, only those the user may see."""
    out = []
    for label, ident in ((_("二次投诉，前一次是"), complaint.repeat_of_id), (_("重复登记，原投诉是"), complaint.duplicate_of_id)):
        if ident:
            other = complaint_or_none(db.session, current_user, ident)
            if other is not None:
                out.append((label, other))
    later = []
    for column in (Complaint.repeat_of_id, Complaint.duplicate_of_id):  # two index lookups, not an OR scan
        later += db.session.scalars(registry.visible_complaints(db.session, current_user)
                                    .where(column == complaint.id).limit(20)).all()
    later.sort(key=lambda c: (c.created_at, c.id))
    out.extend((_("之后的二次/重复投诉"), c) for c in later)
    return out


def _clocks(complaint):
    from domain.calendar import UNIT_LABELS, Unit
    from models.sla import SlaClock
    rows = db.session.scalars(select(SlaClock).where(SlaClock.complaint_id == complaint.id)
                              .order_by(SlaClock.started_at, SlaClock.id)).all()
    now = utcnow()
    out = []
    for clock in rows:
        if clock.stopped_at is None and clock.paused_at is not None:
            state = "paused"
        elif clock.stopped_at is None:
            state = "overdue" if now >= clock.deadline else ("amber" if now >= clock.warn_at else "green")
        else:
            state = "late" if clock.stopped_at > clock.deadline else "done"
        out.append((clock, state, f"{clock.amount.normalize():f} {_(UNIT_LABELS[Unit(clock.unit)])}"))
    return out


def _attribution(complaint):
    if not complaint.attributed:
        return None
    from domain.attribution import KINDS
    from models.complaint import Attribution
    row = db.session.scalar(select(Attribution).where(Attribution.complaint_id == complaint.id))
    return (row, _(KINDS[row.kind])) if row else None


def _record_context(complaint, revealed=False):
    needs = privacy.needs_personal_data(db.session, current_user, complaint)
    threshold_reasons = [_(REASONS[r], threshold="") if r != "amount" else _("涉及金额达到重大投诉标准")
                         for r in complaint.severity_reasons or []]
    return dict(complaint=complaint, personal=privacy.shown(complaint, needs or revealed), can_reveal=not (needs or revealed),
                actions=workflow.available(db.session, current_user, complaint), w=workflow,
                clocks=_clocks(complaint), attribution=_attribution(complaint), **penalty_section(complaint),
                reasons=threshold_reasons, links=_linked(complaint), reveal_form=FlaskForm(),
                labels=dict(type=TYPE_LABELS, channel=CHANNEL_LABELS, demand=DEMAND_LABELS, urgency=URGENCY_LABELS))


@bp.route("/<id:complaint_id>")
def record(complaint_id):
    return render("complaints/record.html", **_record_context(_complaint_or_404(complaint_id)))


@bp.route("/<id:complaint_id>/reveal", methods=["POST"])
def reveal(complaint_id):
    complaint = _complaint_or_404(complaint_id)
    privacy.reveal(db.session, current_user, complaint, ip=client_ip())
    db.session.commit()
    return render("complaints/record.html", "complaints/_customer.html",
                  **_record_context(complaint, revealed=True))


@bp.route("/<id:complaint_id>/print")
def print_view(complaint_id):
    complaint = _complaint_or_404(complaint_id)
    return render("complaints/print.html", now=utcnow(), **_record_context(complaint))


def _attachment_or_404(complaint_id, attachment_id) -> Attachment:
    complaint = _complaint_or_404(complaint_id)
    row = db.session.get(Attachment, attachment_id)
    if row is None or row.complaint_id != complaint.id:
        abort(404)
    return row


@bp.route("/<id:complaint_id>/files/<id:attachment_id>")
@bp.route("/<id:complaint_id>/files/<id:attachment_id>/<any(display, thumb):variant>")
def attachment(complaint_id, attachment_id, variant="original"):
    row = _attachment_or_404(complaint_id, attachment_id)
    path = attachments.file_path(Path(current_app.config["UPLOAD_DIR"]), row, variant)
    if not path.is_file():
        abort(404)
    mime = "image/jpeg" if variant != "original" and row.kind == "image" else row.mime
    inline = row.kind == "image"
    # Not cached (no-store, set for every response in blueprints/_web.py): a shared tablet keeps no
    # customer's photo after logout.
    resp = send_file(path, mimetype=mime, as_attachment=not inline, download_name=row.name, conditional=True)
    resp.headers["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; sandbox"
    return resp


# --- the closed loop: actions on the record page -------------------------------------------

def _action_form(complaint, a, status=200, errors=None, stale=None):
    """The action's form: its frame (complaints/_act.html) with the action's own fields."""
    posted = request.method == "POST"
    context = dict(c=complaint, a=a, errors=errors or {}, stale=stale,
                   form=request.form if posted else a.initial(db.session, complaint),
                   **a.form_context(db.session, current_user, complaint))
    if is_htmx():
        return fragment("complaints/_act.html", status=status, **context)
    # Without HTMX (a new tab, no JavaScript): the record page with the form in place of the menu.
    from markupsafe import Markup
    panel = Markup(render_template("complaints/_act.html", **context))
    return render("complaints/record.html", status=status, action_panel=panel, **_record_context(complaint))


@bp.route("/<id:complaint_id>/actions")
def action_menu(complaint_id):
    complaint = _complaint_or_404(complaint_id)
    return fragment("complaints/_actions.html", complaint=complaint,
                    actions=workflow.available(db.session, current_user, complaint))


def _version():
    version = small_int(request.form.get("version"))
    return -1 if version is None else version


def _act(complaint, name):
    """The step that takes action `name` on `complaint` with the posted form."""
    fields = workflow.ACTIONS[name].fields.from_form(request.form, complaint)
    return lambda: workflow.act(db.session, current_user, complaint, name, fields, version=_version(), now=utcnow())


@bp.route("/<id:complaint_id>/act/<action>", methods=["GET", "POST"])
def take_action(complaint_id, action):
    complaint = _complaint_or_404(complaint_id)
    a = workflow.ACTIONS.get(action)
    if a is None:
        abort(404)
    why = workflow.refusal(db.session, current_user, complaint, action)
    if why:
        return error_page(409 if request.method == "POST" else 403, _("不能操作"), _(why))
    if request.method == "GET":
        return _action_form(complaint, a)

    def respond(result):
        if result.ok:
            return see_other(url_for("complaints.record", complaint_id=complaint_id), _("已完成：%(label)s", label=_(a.label)))
        fresh = _complaint_or_404(complaint_id)
        if result.taken_by_someone_else:
            return _action_form(fresh, a, 409, stale=fresh.events[-3:] if result.conflict else result.stale)
        return _action_form(fresh, a, 422, errors=result.errors)
    return perform(_act(complaint, action), respond)


# --- approval cards (manager's phone, department heads) ------------------------------------

def _card(c, status=200, **extra):
    extra.setdefault("oob_count", None)
    return fragment("complaints/_approval_card.html", status=status, c=c, w=workflow, **extra)


@bp.route("/<id:complaint_id>/card")
def card(complaint_id):
    c = _complaint_or_404(complaint_id)
    if c.stage != Stage.PENDING_APPROVAL:
        return _card(c, 409, done=_("现在是“%(stage)s”，不需要审批。", stage=stage_text(c.stage)))
    return _card(c, rejecting=request.args.get("reject") == "1")


@bp.route("/<id:complaint_id>/card/<any(approve, reject):action>", methods=["POST"])
def card_decision(complaint_id, action):
    """One tap on an approval card (HTMX: the card is replaced by its outcome)."""
    from domain import queues
    c = _complaint_or_404(complaint_id)
    if small_int(request.form.get("version")) is None:
        return _card(c, 422, message=_("页面已过期或不完整，请刷新后再操作。"))

    def taken(card_status, message=None):
        fresh = _complaint_or_404(complaint_id)
        done = message or _("已由别人处理，现在是“%(stage)s”。", stage=stage_text(fresh.stage))
        return _card(fresh, card_status, done=done, oob_count=queues.count_to_approve(db.session, current_user))
    if c.stage != Stage.PENDING_APPROVAL:
        return taken(409)

    def respond(result):
        if result.ok:
            return _card(c, done=_("已批准") if action == "approve" else _("已驳回，退回调查"),
                         oob_count=queues.count_to_approve(db.session, current_user))
        if result.taken_by_someone_else:
            return taken(409, result.message if result.conflict else None)
        return _card(_complaint_or_404(complaint_id), 422, message=result.message, rejecting=action == "reject",
                     comment=request.form.get("comment"))
    return perform(_act(c, action), respond)


def stage_text(stage):
    return _(STAGE_LABELS[Stage(stage)]) if stage in {s.value for s in Stage} else stage


# --- in-app notices ----------------------------------------------------------------------

@bp.route("/overdue")
def overdue():
    """Complaints past a deadline, longest overdue first (scoped like the register)."""
    from domain import reminders
    rows = reminders.overdue_complaints(db.session, current_user, utcnow())
    return render("complaints/overdue.html", rows=rows)


@bp.route("/notices/bell")
def bell():
    """The bell alone (polled by HTMX every minute)."""
    return fragment("_bell.html")


@bp.route("/notices")
def notices():
    from models.complaint import Notification
    rows = db.session.scalars(select(Notification).where(Notification.user_id == current_user.id)
                              .order_by(Notification.id.desc()).limit(50)).all()
    unread = [n for n in rows if n.read_at is None]
    page = render("complaints/notices.html", rows=rows, unread={n.id for n in unread})
    if unread:
        now = utcnow()
        for n in unread:
            n.read_at = now
        db.session.commit()
    return page


# --- accountability ledger (SPEC §5) ------------------------------------------------------------

LEDGER_BY = {"person": N_("按人员"), "store": N_("按门店"), "branch": N_("按分公司")}
LEDGER_COLUMNS = {"received": N_("受理"), "open": N_("未结"), "closed": N_("已结"), "closed_in_time": N_("按时结案"),
                  "overdue": N_("当前超时"), "median_days": N_("结案中位天数"), "satisfaction": N_("平均满意度"),
                  "repeats": N_("二次投诉"), "idle": N_("束之高阁")}


def _ledger_args():
    """by, period (company-time dates, end exclusive as the next day), sort — with defaults."""
    from datetime import datetime as dt_cls
    tz = _tz()
    today = utcnow().astimezone(tz).date()
    by = request.args.get("by") if request.args.get("by") in LEDGER_BY else "person"
    start = _date_arg("from")[0] or today.replace(day=1)     # a bad date falls back to the default
    end = _date_arg("to")[0] or today
    if end < start:
        start, end = end, start
    sort = request.args.get("sort") if request.args.get("sort") in LEDGER_COLUMNS or request.args.get("sort") == "name" \
        else "received"
    desc = request.args.get("dir") != "asc"
    bounds = (dt_cls.combine(start, dt_cls.min.time(), tz), dt_cls.combine(end + timedelta(days=1), dt_cls.min.time(), tz))
    return by, start, end, bounds, sort, desc


def _ledger_rows():
    from domain import ledger
    by, start, end, bounds, sort, desc = _ledger_args()
    rows = ledger.sort(ledger.ledger(db.session, current_user, by, *bounds, utcnow()), sort, desc)
    return by, start, end, sort, desc, rows


@bp.route("/ledger")
def ledger_page():
    by, start, end, sort, desc, rows = _ledger_rows()
    base = {"by": by, "from": start.isoformat(), "to": end.isoformat()}
    return render("complaints/ledger.html", by=by, start=start, end=end, sort=sort, desc=desc, rows=rows,
                  by_labels=LEDGER_BY, columns=LEDGER_COLUMNS, base=base)


@bp.route("/ledger.xlsx")
def ledger_export():
    """The same table as an Excel file (numbers as numbers, a frozen header)."""
    from domain import xlsx
    by, start, end, sort, desc, rows = _ledger_rows()
    book = xlsx.workbook()
    sheet = book.active
    sheet.title = _("责任台账")
    xlsx.append(sheet, [_("首问负责制责任台账"), f"{_(LEDGER_BY[by])} · {start.isoformat()} — {end.isoformat()}"])
    header = [_("姓名") if by == "person" else _("单位"), _("所属")] + [_(v) for v in LEDGER_COLUMNS.values()] + \
        [_("按时结案率")]
    xlsx.append(sheet, header, bold=True)
    for r in rows:
        xlsx.append(sheet, [r.name, r.unit] + [getattr(r, k) for k in LEDGER_COLUMNS] +
                    [round(r.in_time_rate, 4) if r.in_time_rate is not None else None])
    sheet.freeze_panes = "A3"
    for column, width in zip("ABCDEFGHIJKL", (14, 14, 8, 8, 8, 10, 10, 14, 12, 10, 10, 12)):
        sheet.column_dimensions[column].width = width
    name = f"ledger-{by}-{start.isoformat()}-{end.isoformat()}.xlsx"
    resp = make_response(xlsx.to_bytes(book))
    resp.headers["Content-Type"] = xlsx.MIME
    resp.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return resp


# --- store audit (seed 001 五.2) -------------------------------------------------------------

def _audit_period():
    from datetime import datetime as dt_cls
    tz = _tz()
    today = utcnow().astimezone(tz).date()
    start = _date_arg("from")[0] or (today - timedelta(days=90))
    end = _date_arg("to")[0] or today
    if end < start:
        start, end = end, start
    return start, end, (dt_cls.combine(start, dt_cls.min.time(), tz),
                        dt_cls.combine(end + timedelta(days=1), dt_cls.min.time(), tz))


def _store_audit_page(status=200, errors=None, error_id=None):
    from domain import store_audit
    if not current_user.has_role(Role.QUALITY, Role.MANAGER):
        abort(403)
    start, end, bounds = _audit_period()
    return render("complaints/store_audit.html", status=status, start=start, end=end,
                  open_rows=store_audit.suspects(db.session, *bounds),
                  done_rows=store_audit.suspects(db.session, *bounds, reviewed=True, limit=50),
                  reviews=_reviews(), verdicts=store_audit.VERDICTS, errors=errors or {}, error_id=error_id,
                  action=FlaskForm())


def _reviews():
    from models.complaint import ConcealmentReview
    return {r.complaint_id: r for r in db.session.scalars(select(ConcealmentReview).order_by(
        ConcealmentReview.at.desc()).limit(200))}


@bp.route("/store-audit")
def store_audit_page():
    return _store_audit_page()


@bp.route("/<id:complaint_id>/concealment", methods=["POST"])
def concealment_review(complaint_id):
    from domain import store_audit
    if not current_user.has_role(Role.QUALITY, Role.MANAGER):
        abort(403)
    complaint = _complaint_or_404(complaint_id)
    if not FlaskForm().validate_on_submit():
        return _store_audit_page(400)
    try:
        store_audit.review(db.session, current_user, complaint, request.form.get("verdict", ""),
                           request.form.get("note", ""), utcnow(), ip=request.remote_addr)
    except DomainError as err:
        db.session.rollback()
        return _store_audit_page(422, {err.field or "": _(err.message, **err.params)}, complaint.id)
    db.session.commit()
    return see_other(url_for("complaints.store_audit_page"), _("已记录核查结果。"))


# --- penalty totals (SPEC §6) ----------------------------------------------------------------

PENALTY_BY = {"unit": N_("按责任单位"), "person": N_("按责任人")}


@bp.route("/penalties")
def penalty_report():
    """Penalty totals for a period (quality, manager), with the penalties behind a line."""
    from domain import penalties
    if not current_user.has_role(Role.QUALITY, Role.MANAGER):
        abort(403)
    by = request.args.get("by") if request.args.get("by") in PENALTY_BY else "unit"
    start, end, bounds = _audit_period()
    rows = penalties.report(db.session, by, *bounds)
    key = _int_arg("key")
    detail = penalties.listing(db.session, by, key, *bounds) if key else []
    base = {"by": by, "from": start.isoformat(), "to": end.isoformat()}
    if request.args.get("format") == "xlsx":
        return _penalty_xlsx(by, start, end, rows)
    return render("complaints/penalties.html", by=by, start=start, end=end, rows=rows, detail=detail, key=key,
                  base=base, by_labels=PENALTY_BY, total=sum(r[4] for r in rows))


def _penalty_xlsx(by, start, end, rows):
    from domain import xlsx
    book = xlsx.workbook()
    sheet = book.active
    sheet.title = _("罚扣汇总")
    xlsx.append(sheet, [_("罚扣汇总"), f"{_(PENALTY_BY[by])} · {start.isoformat()} — {end.isoformat()}"])
    xlsx.append(sheet, [_("姓名") if by == "person" else _("单位"), _("所属"), _("条数"), _("金额（元）")], bold=True)
    for _k, name, belongs, n, total in rows:
        xlsx.append(sheet, [name, belongs, n, float(total)])
    xlsx.append(sheet, [_("合计"), "", sum(r[3] for r in rows), float(sum(r[4] for r in rows))])
    resp = make_response(xlsx.to_bytes(book))
    resp.headers["Content-Type"] = xlsx.MIME
    resp.headers["Content-Disposition"] = f'attachment; filename="penalties-{by}-{start.isoformat()}-{end.isoformat()}.xlsx"'
    return resp


# --- half-year summary (SPEC §6, seed 001 三.4) ------------------------------------------------------

def _may_read_halfyear():
    from domain import halfyear
    return halfyear.may_read(db.session, current_user)


def _halfyear_choices():
    from domain import halfyear
    return halfyear.recent_periods(utcnow().astimezone(_tz()).date())


def _period_arg(value, choices):
    from datetime import date as date_cls
    try:
        period = tuple(date_cls.fromisoformat(x) for x in (value or "").split("/"))
    except ValueError:
        return None
    return period if period in choices else None


@bp.route("/half-year")
def half_year_list():
    from models.report import HalfYearReport
    if not _may_read_halfyear():
        abort(403)
    reports = db.session.scalars(select(HalfYearReport).order_by(HalfYearReport.period_start.desc()).limit(40)).all()
    choices = _halfyear_choices()
    making = _period_arg(request.args.get("making"), choices)
    if making and any((r.period_start, r.period_end) == making for r in reports):
        making = None
    return render("complaints/half_year_list.html", reports=reports, choices=choices, making=making,
                  form=FlaskForm(), timedelta=timedelta)


@bp.route("/half-year", methods=["POST"])
def half_year_generate():
    """On demand (quality, manager): one of the recent half-years, made by a job (a few seconds at a
    million complaints) while the list page waits for it; an existing one is opened, not redone.
    When Redis is down the report is made here and now."""
    from domain import halfyear
    from jobs import redis_connection
    from jobs.reports import half_year_for, job_id
    if not current_user.has_role(Role.QUALITY, Role.MANAGER):
        abort(403)
    if not FlaskForm().validate_on_submit():
        return error_page(400, _("页面已过期"), _("页面已过期，请刷新后再试。"))
    period = _period_arg(request.form.get("period"), _halfyear_choices())
    if period is None:
        return error_page(422, _("没有生成"), _("请从列表中选择一个半年。"))
    existing = halfyear.find(db.session, *period)
    if existing is not None:
        return see_other(url_for("complaints.half_year_report", report_id=existing.id), _("这个半年的汇总已经有了。"))
    try:
        from rq import Queue
        Queue("default", connection=redis_connection(current_app.config["REDIS_URL"])).enqueue(
            half_year_for, period[0].isoformat(), period[1].isoformat(), current_user.id,
            job_id=job_id(*period), job_timeout=600, result_ttl=3600, failure_ttl=3600)
    except Exception as err:   # noqa: BLE001 — Redis down: make it here
        current_app.logger.warning("half-year job not enqueued (%s); making it in the request", type(err).__name__)
        report, _created, _told = halfyear.make(db.session, *period, utcnow(), actor=current_user)
        db.session.commit()
        return see_other(url_for("complaints.half_year_report", report_id=report.id), _("已生成。"))
    return see_other(url_for("complaints.half_year_list", making=f"{period[0].isoformat()}/{period[1].isoformat()}"),
                     _("正在生成，通常只要几秒。完成后这里会显示，也会通知您。"))


@bp.route("/half-year/making")
def half_year_making():
    """The waiting row on the list page (polled by HTMX): still making, done (a link), or failed."""
    from domain import halfyear
    from jobs import redis_connection
    from jobs.reports import job_id
    if not _may_read_halfyear():
        abort(403)
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
    return fragment("complaints/_half_year_making.html", period=period, report=report, failed=failed,
                    timedelta=timedelta)


def _halfyear_or_404(report_id):
    from models.report import HalfYearReport
    if not _may_read_halfyear():
        abort(403)
    report = db.session.get(HalfYearReport, report_id)
    if report is None:
        abort(404)
    return report


@bp.route("/half-year/<id:report_id>")
def half_year_report(report_id):
    from domain import halfyear
    report = _halfyear_or_404(report_id)
    return render("complaints/half_year.html", r=report, d=report.data, labels=halfyear.labels(_),
                  last=report.period_end - timedelta(days=1))


@bp.route("/half-year/<id:report_id>.xlsx")
def half_year_xlsx(report_id):
    from domain import halfyear, xlsx
    report = _halfyear_or_404(report_id)
    resp = make_response(halfyear.to_xlsx(report, _, halfyear.labels(_)))
    resp.headers["Content-Type"] = xlsx.MIME
    resp.headers["Content-Disposition"] = (f'attachment; filename="half-year-{report.period_start.isoformat()}-'
                                           f'{(report.period_end - timedelta(days=1)).isoformat()}.xlsx"')
    return resp
