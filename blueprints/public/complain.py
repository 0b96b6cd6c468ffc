"""The online complaint form (SPEC §7): no login, a phone, JavaScript optional. Registered through
domain.portal.online (channel web, the customer the first event's actor); the photos are kept
pending under the form's token first, so a form shown again with an error loses none."""
import uuid

from flask import current_app, flash, redirect, request
from flask_babel import gettext as _

from blueprints._render import apply_domain_error, choices
from blueprints.public import bp
from blueprints.public.forms import ComplainForm
from blueprints.public.pages import PAGES_OFF, keep_photos, limit, message, page, remove_photo
from domain import attachments, settings
from domain.errors import N_, DomainError
from domain.portal import links, online
from domain.settings import company_tz
from domain.text import small_int
from domain.workflow.customer import Customer
from domain.workflow.files import valid_token
from extensions import limiter
from models import db, utcnow

# The intake's words are the clerk's ("顾客"); the customer reads them about themselves.
CUSTOMER_WORDS = {
    "请填写顾客姓名。": N_("请填写您的姓名。"),
    "请至少留下顾客的电话或电子邮箱，方便回访。": N_("请至少留下手机号码或电子邮箱，方便我们联系您。"),
}
FIELDS = ("customer_name", "customer_phone", "customer_email", "content", "demand", "store_id", "order_no",
          "product_name", "privacy_consent", "contact_consent")
CUSTOMER = Customer(None)        # the uploader of a form's photos before there is a complaint


def _form() -> ComplainForm:
    form = ComplainForm()
    form.store_id.choices = choices([("", _("不确定 / 不填"))] + [(str(s.id), s.name) for s in online.stores(db.session)])
    if not valid_token(form.token.data):
        form.token.data = uuid.uuid4().hex
    return form


def _show(form, status=200, pending=None, file_errors=()):
    if pending is None:
        pending = attachments.pending(db.session, form.token.data, CUSTOMER)
    return page("public/complain.html", status, form=form, pending=pending, file_errors=list(file_errors),
                max_photos=online.MAX_PHOTOS)


def _data(form) -> online.OnlineComplaint:
    raw = (form.store_id.data or "").strip()
    store = small_int(raw)
    return online.OnlineComplaint(
        customer_name=form.customer_name.data, customer_phone=form.customer_phone.data,
        customer_email=form.customer_email.data, content=form.content.data, demand=form.demand.data or None,
        store_id=store if store is not None else (raw or None), order_no=form.order_no.data,
        product_name=form.product_name.data, privacy_consent=bool(form.privacy_consent.data),
        contact_consent=bool(form.contact_consent.data))


def _problems(form, err: DomainError) -> None:
    for problem in getattr(err, "problems", [err]):
        problem.message = CUSTOMER_WORDS.get(problem.message, problem.message)
        if problem.field not in FIELDS:
            problem.field = None          # the clerk's fields (category …) are not on this form
        apply_domain_error(form, problem)


def _off():
    return message(503, _("暂停受理"), _(PAGES_OFF))


@bp.route("/complain", methods=["GET", "POST"])
@limiter.limit(limit("PUBLIC_COMPLAIN_RATE_LIMIT"), methods=["POST"])
def complain():
    form = _form()
    if request.method == "GET":
        return _show(form)
    if form.website.data:
        # The honeypot: nothing is stored and nothing says why.
        return message(400, _("提交未成功"), _("提交未成功，请稍后再试，或拨打客服电话反映。"))
    token = form.token.data
    earlier = online.already(db.session, token)          # a double tap: that complaint, before any photo
    if earlier is not None:
        return redirect(links.follow_path(current_app.config["SECRET_KEY"], earlier), code=303)
    try:
        online.receiving(db.session)
    except online.PagesOff:
        return _off()
    pending = attachments.pending(db.session, token, CUSTOMER)
    if "remove" in request.form:
        remove_photo(token, CUSTOMER, pending)
        return _show(form, pending=pending)
    file_errors = keep_photos("photos", token, CUSTOMER, pending)
    if not file_errors:
        try:
            result = online.register_online(db.session, _data(form), now=utcnow(), tz=company_tz(), token=token,
                                            threshold=settings.major_threshold(db.session))
        except online.PagesOff:
            db.session.rollback()
            return _off()
        except DomainError as err:
            db.session.rollback()
            _problems(form, err)
        else:
            db.session.commit()
            flash("new", "public")
            return redirect(links.follow_path(current_app.config["SECRET_KEY"], result.complaint), code=303)
    return _show(form, 422, pending=pending, file_errors=file_errors)

