"""The receiver's intake (SPEC §2, §3.2): the tablet form, its HTMX helpers and the
confirmation with the complaint number."""
import re
import uuid
from pathlib import Path

from flask import abort, current_app, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from blueprints._render import apply_domain_error, choices, fragment, render, see_other
from blueprints.receiver import bp
from blueprints.receiver.forms import MORE_FIELDS, IntakeForm
from domain import attachments, clocks, intake, registry, safety, settings
from domain.errors import N_, DomainError, InvalidInput, InvalidInputs
from domain.money import parse_amount
from domain.orgtree import tree
from domain.text import small_int
from domain.scoping import complaint_or_none, visible_complaints
from domain.settings import company_tz
from domain.severity import REASONS, Flags, major_reasons
from models import db, utcnow
from models.attachment import Attachment
from models.complaint import Category, Complaint, ComplaintEvent

TOKEN_RE = re.compile(r"^[0-9a-f]{32}$")


def upload_root() -> Path:
    return Path(current_app.config["UPLOAD_DIR"])


def category_groups():
    """[(top-level category, [its active sub-categories])], in the admin's order."""
    tops = db.session.scalars(select(Category).where(Category.parent_id.is_(None), Category.active.is_(True))
                              .options(selectinload(Category.children)).order_by(Category.sort, Category.id)).all()
    return [(top, [c for c in top.children if c.active]) for top in tops]


def _unit_choices():
    pairs = [("", "—")]

    def walk(nodes, depth):
        for node in nodes:
            if node.unit.active:
                pairs.append((str(node.unit.id), "　" * depth + node.unit.name))
                walk(node.children, depth + 1)
    walk(tree(db.session), 0)
    return choices(pairs)


def _form(formdata=None) -> IntakeForm:
    form = IntakeForm(formdata=formdata) if formdata is not None else IntakeForm()
    groups = category_groups()
    form.groups = groups   # the page's chips: the same rows, read once
    form.category_id.choices = choices(
        [(str(top.id), top.name) for top, _subs in groups] + [(str(c.id), c.name) for _t, subs in groups for c in subs])
    form.complained_unit_id.choices = _unit_choices()
    if not form.token.data or not TOKEN_RE.match(form.token.data):
        form.token.data = uuid.uuid4().hex
    return form


def _page(form, status=200, file_errors=(), pending=None):
    more_open = form.more.data == "1" or any(form[name].errors for name in MORE_FIELDS)
    if more_open:
        form.more.data = "1"
    from domain import queues
    recent = queues.my_follow_ups(db.session, current_user, limit=10)
    earlier = registry.earlier_by_phone(db.session, current_user, form.customer_phone.data) \
        if form.customer_phone.data else []
    return render("receiver/home.html", "receiver/_intake.html", status=status, form=form,
                  groups=getattr(form, "groups", None) or category_groups(), more_open=more_open, file_errors=list(file_errors),
                  pending=pending if pending is not None else attachments.pending(db.session, form.token.data, current_user),
                  recent=recent, waiting=queues.my_waiting(db.session, current_user),
                  earlier=earlier, severity_note=_severity_note(form),
                  safety_words=safety.SAFETY_WORDS, safety_found=safety.safety_words_in(form.content.data),
                  max_files=attachments.MAX_FILES,
                  badges=clocks.badges(db.session, [c.id for c in recent], utcnow()))


@bp.route("/")
def home():
    return _page(_form())


def _intake_data(form) -> intake.IntakeData:
    extra = {name: form[name].data for name in MORE_FIELDS if name not in ("urgency", "demand_text", "amount_involved")}
    extra["product_name"] = form.product_name.data
    if form.link_kind.data not in ("", None, "repeat", "duplicate"):
        raise InvalidInput(N_("选项无效，请重新选择。"), field="link_kind")
    if form.link_kind.data:
        if not form.link_id.data:
            raise InvalidInput(N_("请先选中是之前的哪一条投诉。"), field="link_kind")
        extra["repeat_of_id" if form.link_kind.data == "repeat" else "duplicate_of_id"] = \
            small_int(form.link_id.data) or -1
    category = form.category_id.data
    return intake.IntakeData(
        customer_name=form.customer_name.data, customer_phone=form.customer_phone.data,
        customer_email=form.customer_email.data, content=form.content.data,
        category_id=small_int(category),
        severity=form.severity.data or "", type=form.type.data or "complaint",
        channel=form.channel.data or "walk_in", demand=form.demand.data or None, demand_text=form.demand_text.data,
        amount_involved=form.amount_involved.data, amount_claimed=form.amount_claimed.data,
        safety=form.safety.data, media=form.media.data, sensitive=form.sensitive.data,
        reputation=form.reputation.data, urgency=form.urgency.data or "medium",
        spot_action=form.spot_action.data if form.severity.data == "minor" else None,
        spot_accepted=form.spot_accepted.data, contact_consent=bool(form.contact_consent.data), extra=extra)


def _show_problems(form, err: DomainError) -> None:
    for problem in getattr(err, "problems", [err]):
        if problem.field == "link_id":
            problem.field = "link_kind"
        apply_domain_error(form, problem)


@bp.route("/new", methods=["POST"])
def submit():
    form = _form(request.form)
    token = form.token.data
    try:
        earlier = intake.already_registered(db.session, current_user, token)   # before the photos are stored
    except intake.FormUsed:
        # A shared tablet: start a fresh form, keep what was typed.
        form.token.data = token = uuid.uuid4().hex
        form.form_errors.append(_("这个表单已经被别人提交过了。已为您换成新表单，请检查后再提交。"))
        return _page(form, 422)
    if earlier is not None:
        return see_other(url_for("receiver.done", complaint_id=earlier.id))

    pending = attachments.pending(db.session, token, current_user)
    file_errors = []
    now = utcnow()
    for upload in request.files.getlist("photos"):
        try:
            stored = attachments.store(db.session, upload_root(), current_user, upload.stream, upload.filename,
                                       token, now=now, already=len(pending))
        except InvalidInput as err:
            file_errors.append(_(err.message, **err.params))
        else:
            if stored is not None:
                pending.append(stored)
    db.session.commit()  # kept even if the form goes back with errors: nothing photographed is lost

    if not file_errors:
        try:
            result = intake.register(db.session, current_user, _intake_data(form), now=now, tz=company_tz(),
                                     token=token, threshold=settings.major_threshold(db.session))
        except DomainError as err:
            db.session.rollback()
            _show_problems(form, err)
        else:
            db.session.commit()
            return see_other(url_for("receiver.done", complaint_id=result.complaint.id))
    return _page(form, 422, file_errors=file_errors, pending=pending)


@bp.route("/new/more")
def more():
    form = _form()
    form.more.data = "1"
    return fragment("receiver/_more.html", form=form)


def _severity_note(form):
    try:
        amounts = [parse_amount(form[name].data, name) for name in ("amount_involved", "amount_claimed")]
    except InvalidInput:
        amounts = [None, None]
    threshold = settings.major_threshold(db.session)
    reasons = major_reasons(Flags(form.safety.data, form.media.data, form.sensitive.data, form.reputation.data,
                                  *amounts), threshold)
    return [_(REASONS[r], threshold=f"{threshold:,.0f}") for r in reasons]


@bp.route("/new/severity")
def severity_note():
    form = _form(request.args)
    return fragment("receiver/_severity_note.html", severity_note=_severity_note(form))


@bp.route("/new/earlier")
def earlier():
    form = _form(request.args)
    rows = registry.earlier_by_phone(db.session, current_user, form.customer_phone.data)
    return fragment("receiver/_earlier.html", form=form, earlier=rows)


def _pending_or_404(attachment_id) -> Attachment:
    row = db.session.get(Attachment, attachment_id)
    if row is None or row.complaint_id is not None or row.uploaded_by_id != current_user.id:
        abort(404)
    return row


@bp.route("/pending/<id:attachment_id>/thumb")
def pending_thumb(attachment_id):
    row = _pending_or_404(attachment_id)
    if row.kind != "image":
        abort(404)
    return send_file(attachments.file_path(upload_root(), row, "thumb"), mimetype="image/jpeg", max_age=0)


@bp.route("/pending/<id:attachment_id>/remove", methods=["POST"])
def pending_remove(attachment_id):
    row = _pending_or_404(attachment_id)
    attachments.discard(db.session, upload_root(), row)
    db.session.commit()
    return fragment("receiver/_empty.html")


@bp.route("/done/<id:complaint_id>")
def done(complaint_id):
    complaint = complaint_or_none(db.session, current_user, complaint_id)
    if complaint is None:
        abort(404)
    reasons = [_(REASONS[r], threshold=f"{settings.major_threshold(db.session):,.0f}")
               for r in complaint.severity_reasons or []]
    # Opened again later (the browser's history, a bookmark): say where the complaint is now, not
    # "just registered" — anything on its timeline after the intake's own events means it moved on.
    moved_on = db.session.scalar(select(ComplaintEvent.id).where(
        ComplaintEvent.complaint_id == complaint.id, ComplaintEvent.kind.notin_(list(intake.EVENT_LABELS))).limit(1))
    return render("receiver/done.html", complaint=complaint, reasons=reasons, fresh=moved_on is None)
