"""Settings that shape the rules: the major-complaint and approval thresholds, the complaint
categories, the penalty table."""
from flask import request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from blueprints._access import client_ip, get_or_404, get_or_none
from blueprints._perform import field_errors
from blueprints._render import apply_domain_error, choices, render, see_other
from blueprints.admin import bp
from blueprints.admin.forms import CategoryAddForm, CategoryRenameForm, EmptyForm, SettingsForm
from domain import settings
from domain.errors import DomainError, InvalidInput, N_
from models import db, utcnow


def plain(amount) -> str:
    """A number as typed in a form field: 5000.00 → "5000", 1.50 → "1.5"."""
    text = f"{amount:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


@bp.route("/settings", methods=["GET", "POST"])
def settings_page():
    form = SettingsForm()
    if request.method == "GET":
        form.major_threshold.data = plain(settings.major_threshold(db.session))
        form.head_approval_limit.data = plain(settings.head_approval_limit(db.session))
    elif form.validate_on_submit():
        try:
            now = utcnow()
            settings.set_major_threshold(db.session, current_user, form.major_threshold.data, ip=client_ip(), now=now)
            settings.set_head_approval_limit(db.session, current_user, form.head_approval_limit.data, ip=client_ip(),
                                             now=now)
        except DomainError as err:
            db.session.rollback()
            apply_domain_error(form, err)
        else:
            db.session.commit()
            return see_other(url_for("admin.settings_page"), _("已保存。"))
    return render("admin/settings.html", "admin/_settings_form.html", form=form,
                  status=422 if request.method == "POST" else 200, **_metrics_context())


def _metrics_context(**extra) -> dict:
    from domain import metrics
    config = metrics.access(db.session)
    return {"metrics_config": config, "metrics_networks": extra.pop("networks", "\n".join(config["networks"])),
            "metrics_token": None, "metrics_error": None, **extra}


@bp.route("/settings/metrics", methods=["POST"])
def metrics_access():
    """Who may scrape /metrics: address ranges and a bearer token (a new one is shown once)."""
    from domain import metrics
    form = EmptyForm()
    networks = request.form.get("networks", "")
    if not form.validate_on_submit():
        return render("admin/settings.html", form=_settings_form(), status=400,
                      **_metrics_context(networks=networks, metrics_error=_("页面已过期，请刷新后再试。")))
    try:
        token = metrics.set_access(db.session, current_user, networks, new_token=request.form.get("token") == "new",
                                   drop_token=request.form.get("token") == "drop", ip=client_ip(), now=utcnow())
    except DomainError as err:
        db.session.rollback()
        return render("admin/settings.html", form=_settings_form(), status=422,
                      **_metrics_context(networks=networks, metrics_error=_(err.message, **err.params)))
    db.session.commit()
    if token:   # shown once, on this page only (no-store): it is not kept anywhere readable
        resp = render("admin/settings.html", form=_settings_form(), **_metrics_context(metrics_token=token))
        resp.headers["Cache-Control"] = "no-store"
        return resp
    return see_other(url_for("admin.settings_page") + "#metrics", _("已保存。"))


def _settings_form():
    form = SettingsForm(formdata=None)
    form.major_threshold.data = plain(settings.major_threshold(db.session))
    form.head_approval_limit.data = plain(settings.head_approval_limit(db.session))
    return form


# --- complaint categories -----------------------------------------------------------

def _categories_page(status=200, add=None, error=None, error_id=None):
    from models.complaint import Category
    tops = db.session.scalars(select(Category).where(Category.parent_id.is_(None))
                              .order_by(Category.sort, Category.id)).all()
    add = add or CategoryAddForm(prefix="add")
    add.parent_id.choices = choices([("", _("（一级类别）"))] + [(str(t.id), t.name) for t in tops])
    return render("admin/categories.html", "admin/_categories.html", status=status, tops=tops, add=add,
                  action=EmptyForm(), error=error, error_id=error_id)


@bp.route("/categories")
def categories_page():
    return _categories_page()


@bp.route("/categories/add", methods=["POST"])
def add_category():
    from domain import categories
    from models.complaint import Category
    form = CategoryAddForm(prefix="add")
    if form.validate_on_submit():
        parent = get_or_none(Category, form.parent_id.data) if form.parent_id.data else None
        try:
            if form.parent_id.data and parent is None:
                raise InvalidInput(N_("请从列表中选择上级类别。"), field="parent_id")
            categories.add(db.session, current_user, form.name.data, parent, now=utcnow())
        except DomainError as err:
            db.session.rollback()
            apply_domain_error(form, err)
        else:
            db.session.commit()
            return see_other(url_for("admin.categories_page"), _("已添加类别。"))
    return _categories_page(422, add=form)


@bp.route("/categories/<id:category_id>/<any(rename, deactivate, reactivate):action>", methods=["POST"])
def change_category(category_id, action):
    from domain import categories
    from models.complaint import Category
    category = get_or_404(Category, category_id)
    form = CategoryRenameForm() if action == "rename" else EmptyForm()
    if not form.validate_on_submit():
        return _categories_page(422, error=_("请填写类别名称。"), error_id=category.id)
    try:
        if action == "rename":
            categories.rename(db.session, current_user, category, form.name.data, now=utcnow())
        else:
            categories.set_active(db.session, current_user, category, action == "reactivate", now=utcnow())
    except DomainError as err:
        db.session.rollback()
        return _categories_page(422, error=_(err.message, **err.params), error_id=category.id)
    db.session.commit()
    return see_other(url_for("admin.categories_page"), _("已保存。"))


# --- penalty rules (SPEC §6) ---------------------------------------------------------------------

def _penalties_page(status=200, errors=None, form=None):
    from domain import penalties
    from domain.attribution import KINDS
    from domain.severity import SEVERITY_LABELS
    return render("admin/penalties.html", status=status, rules=penalties.rules(db.session),
                  surcharges=penalties.surcharges(db.session), kinds=KINDS, severities=SEVERITY_LABELS,
                  surcharge_labels=penalties.SURCHARGE_LABELS, errors=errors or {}, form=form or {},
                  action=EmptyForm(), plain=plain)


@bp.route("/penalties", methods=["GET", "POST"])
def penalty_rules():
    from domain import penalties
    from domain.attribution import KINDS
    if request.method == "GET":
        return _penalties_page()
    if not EmptyForm().validate_on_submit():
        return _penalties_page(400, {"": [_("页面已过期，请刷新后再试。")]})
    f = request.form
    table = {sev: {kind: f.get(f"rule_{sev}_{kind}", "") for kind in KINDS} for sev in penalties.SEVERITIES}
    extra = {name: f.get(f"surcharge_{name}", "") for name in penalties.DEFAULT_SURCHARGES}
    try:
        penalties.set_rules(db.session, current_user, table, extra, ip=client_ip(), now=utcnow())
    except DomainError as err:
        db.session.rollback()
        return _penalties_page(422, field_errors(err), f)
    db.session.commit()
    return see_other(url_for("admin.penalty_rules"), _("已保存罚扣标准。"))
