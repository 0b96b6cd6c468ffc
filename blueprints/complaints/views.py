"""The register (every role's scoped list with filters and search), the record page with
masked personal data and a logged reveal, its workflow actions and approval cards, the A4 print
view and the attachment route. Reports on many complaints are in blueprints/reports."""
from functools import partial
from pathlib import Path

from flask import abort, current_app, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select

from blueprints._access import client_ip, complaint_or_404, get_or_404
from blueprints._args import date_arg, int_arg
from blueprints._errors import error_page
from blueprints._perform import perform
from blueprints._render import company_tz, fragment, is_htmx, render, see_other, stage_label
from blueprints.complaints import bp, uploads
from blueprints.penalties.views import section as penalty_section
from domain import attachments, clocks, privacy, registry, workflow
from domain.categories import options as category_choices
from domain.intake import CHANNEL_LABELS, CUSTOMER_CLASSES, DEMAND_LABELS, TYPE_LABELS, URGENCY_LABELS
from domain.orgtree import tree
from domain.scoping import complaint_or_none, covered_unit_ids
from domain.severity import REASONS, SEVERITY_LABELS, Severity
from domain.stages import STAGE_LABELS, Stage
from domain.portal import outbound
from domain.text import small_int
from models import db, utcnow
from models.attachment import Attachment
from models.complaint import Category, Complaint
from models.org import OrgUnit


FILTER_KEYS = ("q", "stage", "severity", "category", "unit", "from", "to", "sort", "mine") + registry.DRILL_KEYS


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


def _filters():
    date_from, bad_from = date_arg("from")
    date_to, bad_to = date_arg("to")
    stage = request.args.get("stage") if request.args.get("stage") in {s.value for s in Stage} else None
    severity = request.args.get("severity") if request.args.get("severity") in {s.value for s in Severity} else None
    f = registry.Filters(q=request.args.get("q", "")[:60], stage=stage, category_id=int_arg("category"),
                         severity=severity, unit_id=int_arg("unit"), date_from=date_from, date_to=date_to,
                         oldest_first=request.args.get("sort") == "old",
                         **registry.drill_values(request.args), now=utcnow())   # the monthly report's drill-downs
    return f, bad_from or bad_to


@bp.route("/")
def index():
    f, bad_date = _filters()
    mine = request.args.get("mine") == "1"
    if mine:
        f.first_responder_id = current_user.id
    page = registry.page(db.session, current_user, f, company_tz(), request.args.get("after"))
    _log_phone_search(f, complaints=[c.id for c in page.rows])
    args = {k: v for k, v in request.args.items() if k in FILTER_KEYS and v}
    next_url = url_for("complaints.index", **args, after=page.next_cursor) if page.next_cursor else None
    units = {u.id: u.name for u in db.session.scalars(select(OrgUnit))}
    category_options = category_choices(db.session)   # one query: the filter's options and the rows' names
    categories = {i: name.lstrip("　") for i, name in category_options}
    badges = clocks.badges(db.session, [c.id for c in page.rows], utcnow())   # the countdowns, one query
    return render("complaints/index.html", "complaints/_rows.html", page=page, f=f, mine=mine, args=args,
                  badges=badges,
                  next_url=next_url, bad_date=bad_date, units=units, categories=categories,
                  unit_options=_unit_options(), category_options=category_options,
                  first_page=not request.args.get("after"),
                  stage_options=list(STAGE_LABELS.items()), severity_options=list(SEVERITY_LABELS.items()))


@bp.route("/count")
def count():
    f, _bad = _filters()
    if request.args.get("mine") == "1":
        f.first_responder_id = current_user.id
    n, more = registry.count(db.session, current_user, f, company_tz())
    _log_phone_search(f, matches=n)
    return fragment("complaints/_count.html", n=n, more=more)


def _log_phone_search(f, **found):
    """Issue 13: a search by phone is logged like a reveal (the list and the count each answer
    whether a number is on record, so each is written)."""
    if registry.is_phone_search(f.q):
        privacy.record_phone_search(db.session, current_user, ip=client_ip(), now=utcnow(), **found)
        db.session.commit()


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
    return [(clock, level, f"{clock.amount.normalize():f} {_(UNIT_LABELS[Unit(clock.unit)])}")
            for clock, level in clocks.of_complaint(db.session, complaint, utcnow())]


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
                customer_messages=partial(outbound.sent, db.session, complaint.id),
                labels=dict(type=TYPE_LABELS, channel=CHANNEL_LABELS, demand=DEMAND_LABELS, urgency=URGENCY_LABELS,
                            customer_class=CUSTOMER_CLASSES))


@bp.route("/<id:complaint_id>")
def record(complaint_id):
    return render("complaints/record.html", **_record_context(complaint_or_404(complaint_id)))


@bp.route("/<id:complaint_id>/reveal", methods=["POST"])
def reveal(complaint_id):
    complaint = complaint_or_404(complaint_id)
    privacy.reveal(db.session, current_user, complaint, ip=client_ip(), now=utcnow())
    db.session.commit()
    return render("complaints/record.html", "complaints/_customer.html",
                  **_record_context(complaint, revealed=True))


@bp.route("/<id:complaint_id>/print")
def print_view(complaint_id):
    complaint = complaint_or_404(complaint_id)
    return render("complaints/print.html", now=utcnow(), **_record_context(complaint))


def _attachment_or_404(complaint_id, attachment_id) -> Attachment:
    complaint = complaint_or_404(complaint_id)
    row = get_or_404(Attachment, attachment_id)
    if row.complaint_id != complaint.id:
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
    # Not cached (no-store, set for every response in blueprints/_errors.py): a shared tablet keeps no
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
                   **a.form_context(db.session, current_user, complaint), **uploads.form_extras(complaint, a, posted))
    if is_htmx():
        return fragment("complaints/_act.html", status=status, **context)
    # Without HTMX (a new tab, no JavaScript): the record page with the form in place of the menu.
    from markupsafe import Markup
    panel = Markup(render_template("complaints/_act.html", **context))
    return render("complaints/record.html", status=status, action_panel=panel, **_record_context(complaint))


@bp.route("/<id:complaint_id>/actions")
def action_menu(complaint_id):
    complaint = complaint_or_404(complaint_id)
    return fragment("complaints/_actions.html", complaint=complaint, w=workflow,
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
    complaint = complaint_or_404(complaint_id)
    a = workflow.ACTIONS.get(action)
    if a is None:
        abort(404)
    why = workflow.refusal(db.session, current_user, complaint, action)
    if why:
        return error_page(409 if request.method == "POST" else 403, _("不能操作"), _(why))
    if request.method == "GET":
        return _action_form(complaint, a)
    file_errors = uploads.keep_posted(complaint, a)    # kept (committed) before the action claims them
    if file_errors:
        return _action_form(complaint, a, 422, errors=file_errors)

    def respond(result):
        if result.ok:
            return see_other(url_for("complaints.record", complaint_id=complaint_id), _("已完成：%(label)s", label=_(a.label)))
        fresh = complaint_or_404(complaint_id)
        if result.taken_by_someone_else:
            return _action_form(fresh, a, 409, stale=fresh.events[-3:] if result.conflict else result.stale)
        return _action_form(fresh, a, 422, errors=result.errors)
    return perform(_act(complaint, action), respond)


# --- approval cards (manager's phone, department heads) ------------------------------------

def _card(c, status=200, **extra):
    extra.setdefault("oob_count", None)
    if c.stage == Stage.PENDING_APPROVAL and "done" not in extra:   # the card keeps its countdown (issue 15)
        from domain import queues
        from domain.sla import ClockKind
        extra["countdowns"] = queues.countdowns(db.session, [c.id], ClockKind.APPROVAL, utcnow())
    return fragment("complaints/_approval_card.html", status=status, c=c, w=workflow, **extra)


@bp.route("/<id:complaint_id>/card")
def card(complaint_id):
    c = complaint_or_404(complaint_id)
    if c.stage != Stage.PENDING_APPROVAL:
        return _card(c, 409, done=_("现在是“%(stage)s”，不需要审批。", stage=stage_label(c.stage)))
    return _card(c, rejecting=request.args.get("reject") == "1")


@bp.route("/<id:complaint_id>/card/<any(approve, reject):action>", methods=["POST"])
def card_decision(complaint_id, action):
    """One tap on an approval card (HTMX: the card is replaced by its outcome)."""
    from domain import queues
    c = complaint_or_404(complaint_id)
    if small_int(request.form.get("version")) is None:
        return _card(c, 422, message=_("页面已过期或不完整，请刷新后再操作。"))

    def taken(card_status, message=None):
        fresh = complaint_or_404(complaint_id)
        done = message or _("已由别人处理，现在是“%(stage)s”。", stage=stage_label(fresh.stage))
        return _card(fresh, card_status, done=done, oob_count=queues.count_to_approve(db.session, current_user))
    if c.stage != Stage.PENDING_APPROVAL:
        return taken(409)

    def respond(result):
        if result.ok:
            return _card(c, done=_("已批准") if action == "approve" else _("已驳回，退回调查"),
                         oob_count=queues.count_to_approve(db.session, current_user))
        if result.taken_by_someone_else:
            return taken(409, result.message if result.conflict else None)
        return _card(complaint_or_404(complaint_id), 422, message=result.message, rejecting=action == "reject",
                     comment=request.form.get("comment"))
    return perform(_act(c, action), respond)
