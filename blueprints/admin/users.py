"""User accounts (SPEC §1): the list with search, creating, editing, password reset, lock and
status."""
from flask import request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import or_, select

from blueprints._access import get_or_404, get_or_none
from blueprints._args import bounded_int
from blueprints._render import apply_domain_error, choices, render, see_other
from blueprints.admin import bp
from blueprints.admin.forms import EmptyForm, ResetPasswordForm, UserCreateForm, UserEditForm, UserSearchForm
from blueprints.admin.organisation import unit_choices
from domain import accounts
from domain.errors import DomainError
from domain.roles import ROLE_LABELS, Role
from models import db, utcnow
from models.org import OrgUnit
from models.user import User, UserRole

USERS_PER_PAGE = 50


def _role_choices():
    return [(r.value, _(ROLE_LABELS[r])) for r in Role]  # pairs; wrap with choices()


@bp.route("/users")
def users():
    search = UserSearchForm(request.args)
    search.role.choices = choices([("", _("全部角色"))] + _role_choices())
    page = bounded_int("page", 1, high=100_000)
    q = select(User).join(User.org_unit)
    if search.validate():
        if search.q.data:
            term = f"%{search.q.data.strip()}%"
            q = q.where(or_(User.username.ilike(term), User.display_name.ilike(term), OrgUnit.name.ilike(term)))
        if search.role.data:
            q = q.where(User.id.in_(select(UserRole.user_id).where(UserRole.role == search.role.data)))
        if search.status.data == "active":
            q = q.where(User.active.is_(True))
        elif search.status.data == "inactive":
            q = q.where(User.active.is_(False))
    rows = db.session.scalars(q.order_by(User.username).offset((page - 1) * USERS_PER_PAGE)
                              .limit(USERS_PER_PAGE + 1)).all()
    has_more = len(rows) > USERS_PER_PAGE
    return render("admin/users.html", "admin/_user_rows.html", search=search,
                  users=rows[:USERS_PER_PAGE], page=page, has_more=has_more, now=utcnow())


def _fill_user_choices(form):
    form.org_unit_id.choices = unit_choices(blank=_("（请选择）"))
    form.roles.choices = choices(_role_choices())


@bp.route("/users/new", methods=["GET", "POST"])
def new_user():
    form = UserCreateForm()
    _fill_user_choices(form)
    if request.method == "GET":
        form.org_unit_id.data = bounded_int("unit", 0, low=0)
    if form.validate_on_submit():
        try:
            user = accounts.create_user(
                db.session, current_user, username=form.username.data, display_name=form.display_name.data,
                unit=get_or_none(OrgUnit, form.org_unit_id.data),
                roles=form.roles.data or [], is_head=form.is_head.data, locale=form.locale.data,
                password=form.password.data, email=form.email.data, now=utcnow())
        except DomainError as err:
            db.session.rollback()
            apply_domain_error(form, err)
        else:
            db.session.commit()
            return see_other(url_for("admin.user", user_id=user.id),
                             _("已创建用户 %(username)s。首次登录时须修改密码。", username=user.username))
    return render("admin/user_new.html", "admin/_user_new_form.html", form=form,
                  status=422 if request.method == "POST" else 200)

def _user_page(user, status=200, form=None, reset=None, fragment=None, status_error=None):
    if form is None:
        form = UserEditForm(obj=user, formdata=None)
        form.roles.data = sorted(user.roles)
    _fill_user_choices(form)
    reset = reset or ResetPasswordForm(prefix="reset")
    return render("admin/user.html", fragment, status=status, user=user, form=form, reset=reset,
                  action=EmptyForm(), now=utcnow(), status_error=status_error)


@bp.route("/users/<id:user_id>")
def user(user_id):
    return _user_page(get_or_404(User, user_id))


@bp.route("/users/<id:user_id>/edit", methods=["POST"])
def edit_user(user_id):
    user = get_or_404(User, user_id)
    form = UserEditForm()
    _fill_user_choices(form)
    if form.validate_on_submit():
        try:
            accounts.update_user(
                db.session, current_user, user, display_name=form.display_name.data,
                unit=get_or_none(OrgUnit, form.org_unit_id.data),
                roles=form.roles.data or [], is_head=form.is_head.data, locale=form.locale.data,
                email=form.email.data, now=utcnow())
        except DomainError as err:
            db.session.rollback()
            apply_domain_error(form, err)
        else:
            db.session.commit()
            return see_other(url_for("admin.user", user_id=user.id), _("已保存。"))
    return _user_page(user, 422, form=form, fragment="admin/_user_edit_form.html")


@bp.route("/users/<id:user_id>/reset-password", methods=["POST"])
def reset_password(user_id):
    user = get_or_404(User, user_id)
    form = ResetPasswordForm(prefix="reset")
    if form.validate_on_submit():
        try:
            accounts.reset_password(db.session, current_user, user, form.new_password.data, now=utcnow())
        except DomainError as err:
            db.session.rollback()
            err.field = "new_password" if err.field == "password" else err.field
            apply_domain_error(form, err)
        else:
            db.session.commit()
            return see_other(url_for("admin.user", user_id=user.id),
                             _("已重置密码。请把临时密码当面告诉 %(name)s，登录后须修改。", name=user.display_name))
    return _user_page(user, 422, reset=form, fragment="admin/_user_reset.html")


@bp.route("/users/<id:user_id>/<any(deactivate, reactivate, unlock):action>", methods=["POST"])
def user_status(user_id, action):
    user = get_or_404(User, user_id)
    form = EmptyForm()
    if form.validate_on_submit():
        try:
            if action == "unlock":
                accounts.unlock(db.session, current_user, user, now=utcnow())
            else:
                accounts.set_active(db.session, current_user, user, action == "reactivate", now=utcnow())
        except DomainError as err:
            db.session.rollback()
            return _user_page(user, 422, fragment="admin/_user_status.html",
                              status_error=_(err.message, **err.params))
        db.session.commit()
        messages = {"unlock": _("已解锁。"), "deactivate": _("已停用，该用户的登录已失效。"), "reactivate": _("已启用。")}
        return see_other(url_for("admin.user", user_id=user.id), messages[action])
    return _user_page(user, 422, fragment="admin/_user_status.html")
