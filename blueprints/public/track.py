"""Following a complaint (SPEC §7): the lookup by number + the last four digits of the phone (or
the e-mail), the progress page its link opens (the slip's QR code, the messages), and adding
information through it (补充材料).

The lookup answers a wrong number and wrong digits with the same page, byte for byte, and echoes
nothing typed; failed lookups are limited per address and per number."""
from flask import abort, current_app, flash, get_flashed_messages, redirect, request, url_for
from flask_babel import gettext as _

from blueprints._render import apply_domain_error
from blueprints.public import bp
from blueprints.public.forms import AddForm, TrackForm
from blueprints.public.pages import failed, keep_photos, limit, page, remove_photo
from domain import attachments
from domain.errors import N_, DomainError, InvalidInput
from domain.portal import links, online, steps
from domain.portal.view import customer_view
from domain.stages import Stage
from domain.workflow.customer import Customer
from domain.workflow.files import new_token, valid_token
from extensions import limiter
from models import db, utcnow

NOT_FOUND = N_("编号或验证信息不对，请核对后再试。")


def _by_number() -> str:
    """The per-number limit's key: the number as the lookup reads it."""
    return "number:" + steps.normalise_number(request.form.get("number"))


def _lookup_page(form, status=200):
    return page("public/track.html", status, form=form)


@bp.route("/track", methods=["GET", "POST"])
@limiter.limit(limit("PUBLIC_TRACK_RATE_LIMIT"), methods=["POST"], deduct_when=failed)
@limiter.limit(limit("PUBLIC_TRACK_NUMBER_RATE_LIMIT"), methods=["POST"], deduct_when=failed, key_func=_by_number,
               scope="number")
def track():
    form = TrackForm()
    if request.method == "GET":
        return _lookup_page(form)
    number, proof = form.number.data, form.proof.data
    if not (number or "").strip() or not (proof or "").strip():
        if not (number or "").strip():
            form.number.errors = [_("请填写投诉编号。")]
        if not (proof or "").strip():
            form.proof.errors = [_("请填写手机号后四位，或留下的电子邮箱。")]
        return _lookup_page(form, 422)
    complaint = steps.lookup(db.session, number, proof)
    if complaint is None:
        # The same page whatever was wrong: the number as typed (to correct it), never the digits or e-mail.
        form = TrackForm(formdata=None)
        form.number.data = steps.normalise_number(number)
        form.form_errors.append(_(NOT_FOUND))
        return _lookup_page(form, 422)
    return redirect(links.follow_path(current_app.config["SECRET_KEY"], complaint), code=303)


@bp.route("/track/<number>")
def track_number(number):
    """The lookup with the number filled in (a printed slip, a message)."""
    form = TrackForm(formdata=None)
    number = steps.normalise_number(number)
    form.number.data = number if steps.NUMBER_RE.match(number) else ""
    return _lookup_page(form)


def _followed_or_404(number, code):
    complaint = links.by_follow_code(db.session, current_app.config["SECRET_KEY"], number, code)
    if complaint is None:
        abort(404)
    return complaint


def _progress(complaint, form=None, status=200, pending=(), file_errors=()):
    if form is None:
        form = AddForm(formdata=None)
        form.upload_token.data = new_token()
    notes = set(get_flashed_messages(category_filter=["public"]))
    view = customer_view(db.session, complaint, utcnow())
    return page("public/progress.html", status, view=view, form=form, pending=list(pending),
                file_errors=list(file_errors), fresh="new" in notes, added="added" in notes,
                max_photos=online.MAX_PHOTOS,
                action=url_for("public.add", number=complaint.number, code=request.view_args["code"]),
                rate_action=url_for("public.rate_now", number=complaint.number, code=request.view_args["code"]))


@bp.route("/track/<number>/<code>", strict_slashes=False)
def progress(number, code):
    return _progress(_followed_or_404(number, code))


@bp.route("/track/<number>/<code>/add", methods=["POST"])
@limiter.limit(limit("PUBLIC_ADD_RATE_LIMIT"))
def add(number, code):
    complaint = _followed_or_404(number, code)
    form = AddForm()
    if complaint.stage == Stage.CLOSED:
        form.form_errors.append(_("这条投诉已经结案，不能再补充材料。如有新的问题，请重新提交投诉。"))
        return _progress(complaint, form, 409)
    actor = Customer(complaint.id)
    token = form.upload_token.data
    if not valid_token(token):
        form.upload_token.data = token = new_token()
    pending = attachments.pending(db.session, token, actor)
    if "remove" in request.form:
        remove_photo(token, actor, pending)
        return _progress(complaint, form, pending=pending)
    file_errors = keep_photos("photos", token, actor, pending, on_record=attachments.count(db.session, complaint.id))
    if file_errors:
        return _progress(complaint, form, 422, pending, file_errors)
    try:
        steps.add_information(db.session, complaint, text=form.text.data, upload_token=token, now=utcnow())
    except DomainError as err:
        db.session.rollback()
        if isinstance(err, InvalidInput) and err.field == "files":
            return _progress(complaint, form, 422, pending, [_(err.message, **err.params)])
        apply_domain_error(form, err)
        return _progress(complaint, form, 422, pending)
    db.session.commit()
    flash("added", "public")
    return redirect(links.follow_path(current_app.config["SECRET_KEY"], complaint), code=303)


@bp.route("/track/<number>/<code>/survey", methods=["POST"])
@limiter.limit(limit("PUBLIC_RESEND_RATE_LIMIT"))
def rate_now(number, code):
    """Rate it now: the holder of the progress link gets a fresh one-time survey link (the same page
    the SMS or e-mail links to) — also when no message could be sent."""
    complaint = _followed_or_404(number, code)
    token = steps.survey_now(db.session, complaint, utcnow())
    if token is None:
        return redirect(links.follow_path(current_app.config["SECRET_KEY"], complaint), code=303)
    db.session.commit()
    return redirect(url_for("public.survey", token=token), code=303)
