from flask import abort, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, or_, select

from blueprints._web import apply_domain_error, bounded_int, choices, get_or_none, render, see_other
from blueprints.admin import bp
from blueprints.admin.forms import (CategoryAddForm, CategoryRenameForm, EmptyForm, ResetPasswordForm, SettingsForm, UnitAddForm, UnitMoveForm,
                                    UnitRenameForm, UserCreateForm, UserEditForm, UserSearchForm)
from blueprints._web import client_ip
from domain import accounts, halfyear, orgtree, settings
from domain.errors import DomainError, InvalidInput, N_
from domain.orgtree import KIND_LABELS, UnitKind
from domain.roles import ROLE_LABELS, Role
from models import db, utcnow
from models.audit import AuditEvent
from models.org import OrgUnit
from models.user import User, UserRole

USERS_PER_PAGE = 50
AUDIT_PER_PAGE = 100


@bp.route("/")
def home():
    counts = {
        "units": db.session.scalar(select(func.count()).select_from(OrgUnit).where(OrgUnit.active.is_(True))),
        "users": db.session.scalar(select(func.count()).select_from(User).where(User.active.is_(True))),
        "locked": db.session.scalar(select(func.count()).select_from(User)
                                    .where(User.locked_until > utcnow())),
    }
    from zoneinfo import ZoneInfo

    from flask import current_app

    from domain import calendar
    today = utcnow().astimezone(ZoneInfo(current_app.config["COMPANY_TZ"])).date()
    return render("admin/home.html", counts=counts, missing_years=calendar.uncovered_years(db.session, today))


# --- organisation tree ----------------------------------------------------------

def _unit_or_404(unit_id: int) -> OrgUnit:
    unit = db.session.get(OrgUnit, unit_id)
    if unit is None:
        abort(404)
    return unit


def _unit_choices(exclude: set[int] | None = None, active_only=True, blank=None):
    """Every unit as an indented option, in tree order."""
    pairs = [(0, blank)] if blank else []

    def walk(nodes, depth):
        for node in nodes:
            u = node.unit
            if (not active_only or u.active) and not (exclude and u.id in exclude):
                pairs.append((u.id, "　" * depth + u.name + f"（{_(KIND_LABELS[UnitKind(u.kind)])}）"))
                walk(node.children, depth + 1)
    walk(orgtree.tree(db.session), 0)
    return choices(pairs)


def _add_form(parent: OrgUnit | None = None) -> UnitAddForm:
    form = UnitAddForm(prefix="add")
    form.kind.choices = choices((k.value, _(label)) for k, label in KIND_LABELS.items() if k is not UnitKind.COMPANY)
    form.parent_id.choices = _unit_choices(blank=_("（请选择）"))
    if parent is not None and request.method == "GET":
        form.parent_id.data = parent.id
    return form


@bp.route("/units")
def units():
    return render("admin/units.html", roots=orgtree.tree(db.session), form=_add_form(),
                  kind_labels=KIND_LABELS)


@bp.route("/units/add", methods=["POST"])
def add_unit():
    form = _add_form()
    if form.validate_on_submit():
        parent = get_or_none(OrgUnit, form.parent_id.data)
        try:
            unit = orgtree.add_unit(db.session, current_user, name=form.name.data, kind=form.kind.data,
                                    parent=parent)
        except (DomainError, ValueError) as err:
            db.session.rollback()
            if isinstance(err, DomainError):
                apply_domain_error(form, err)
            else:
                form.kind.errors = [_("请选择类型。")]
        else:
            db.session.commit()
            return see_other(url_for("admin.unit", unit_id=unit.id), _("已添加单位“%(name)s”。", name=unit.name))
    return render("admin/units.html", "admin/_unit_add.html", status=422,
                  roots=orgtree.tree(db.session), form=form, kind_labels=KIND_LABELS)


def _unit_page(unit, status=200, rename=None, move=None, fragment=None, status_error=None, robot_errors=None):
    rename = rename or UnitRenameForm(prefix="rename", name=unit.name)
    if move is None:
        move = UnitMoveForm(prefix="move")
        move.parent_id.data = unit.parent_id or 0
    move.parent_id.choices = _unit_choices(exclude=orgtree.subtree_ids(db.session, unit.id))
    users = db.session.scalars(select(User).where(User.org_unit_id == unit.id)
                               .order_by(User.active.desc(), User.username)).all()
    return render("admin/unit.html", fragment, status=status, unit=unit, rename=rename, move=move,
                  action=EmptyForm(), users=users, kind_labels=KIND_LABELS,
                  references=orgtree.references(db.session, unit), status_error=status_error,
                  robot_errors=robot_errors or {}, robot_labels=_robot_labels())


def _robot_labels():
    from domain.channels import ROBOT_LABELS
    return ROBOT_LABELS


@bp.route("/units/<id:unit_id>")
def unit(unit_id):
    return _unit_page(_unit_or_404(unit_id))


def _unit_change(unit, form, change, done_message):
    if form.validate_on_submit():
        try:
            change()
        except DomainError as err:
            db.session.rollback()
            apply_domain_error(form, err)
        else:
            db.session.commit()
            return see_other(url_for("admin.unit", unit_id=unit.id), done_message)
    return None


@bp.route("/units/<id:unit_id>/rename", methods=["POST"])
def rename_unit(unit_id):
    unit = _unit_or_404(unit_id)
    form = UnitRenameForm(prefix="rename")
    done = _unit_change(unit, form, lambda: orgtree.rename_unit(db.session, current_user, unit, form.name.data),
                        _("已改名。"))
    return done or _unit_page(unit, 422, rename=form, fragment="admin/_unit_rename.html")


@bp.route("/units/<id:unit_id>/move", methods=["POST"])
def move_unit(unit_id):
    unit = _unit_or_404(unit_id)
    form = UnitMoveForm(prefix="move")

    def change():
        parent = get_or_none(OrgUnit, form.parent_id.data)
        orgtree.move_unit(db.session, current_user, unit, parent)
    done = _unit_change(unit, form, change, _("已移动。"))
    return done or _unit_page(unit, 422, move=form, fragment="admin/_unit_move.html")


@bp.route("/units/<id:unit_id>/<any(deactivate, reactivate, delete):action>", methods=["POST"])
def unit_status(unit_id, action):
    unit = _unit_or_404(unit_id)
    form = EmptyForm()
    if form.validate_on_submit():
        try:
            if action == "deactivate":
                orgtree.deactivate_unit(db.session, current_user, unit)
            elif action == "reactivate":
                orgtree.reactivate_unit(db.session, current_user, unit)
            else:
                name = unit.name
                orgtree.delete_unit(db.session, current_user, unit)
                db.session.commit()
                return see_other(url_for("admin.units"), _("已删除单位“%(name)s”。", name=name))
        except DomainError as err:
            db.session.rollback()
            return _unit_page(unit, 422, fragment="admin/_unit_status.html",
                              status_error=_(err.message, **err.params))
        db.session.commit()
        message = _("已停用。") if action == "deactivate" else _("已启用。")
        return see_other(url_for("admin.unit", unit_id=unit.id), message)
    return _unit_page(unit, 422, fragment="admin/_unit_status.html")


# --- users ----------------------------------------------------------------------

def _role_choices():
    return [(r.value, _(ROLE_LABELS[r])) for r in Role]  # pairs; wrap with choices()


def _user_or_404(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    return user


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
    form.org_unit_id.choices = _unit_choices(blank=_("（请选择）"))
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
                password=form.password.data, email=form.email.data)
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
    return _user_page(_user_or_404(user_id))


@bp.route("/users/<id:user_id>/edit", methods=["POST"])
def edit_user(user_id):
    user = _user_or_404(user_id)
    form = UserEditForm()
    _fill_user_choices(form)
    if form.validate_on_submit():
        try:
            accounts.update_user(
                db.session, current_user, user, display_name=form.display_name.data,
                unit=get_or_none(OrgUnit, form.org_unit_id.data),
                roles=form.roles.data or [], is_head=form.is_head.data, locale=form.locale.data,
                email=form.email.data)
        except DomainError as err:
            db.session.rollback()
            apply_domain_error(form, err)
        else:
            db.session.commit()
            return see_other(url_for("admin.user", user_id=user.id), _("已保存。"))
    return _user_page(user, 422, form=form, fragment="admin/_user_edit_form.html")


@bp.route("/users/<id:user_id>/reset-password", methods=["POST"])
def reset_password(user_id):
    user = _user_or_404(user_id)
    form = ResetPasswordForm(prefix="reset")
    if form.validate_on_submit():
        try:
            accounts.reset_password(db.session, current_user, user, form.new_password.data)
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
    user = _user_or_404(user_id)
    form = EmptyForm()
    if form.validate_on_submit():
        try:
            if action == "unlock":
                accounts.unlock(db.session, current_user, user)
            else:
                accounts.set_active(db.session, current_user, user, action == "reactivate")
        except DomainError as err:
            db.session.rollback()
            return _user_page(user, 422, fragment="admin/_user_status.html",
                              status_error=_(err.message, **err.params))
        db.session.commit()
        messages = {"unlock": _("已解锁。"), "deactivate": _("已停用，该用户的登录已失效。"), "reactivate": _("已启用。")}
        return see_other(url_for("admin.user", user_id=user.id), messages[action])
    return _user_page(user, 422, fragment="admin/_user_status.html")


# --- audit trail ----------------------------------------------------------------

@bp.route("/audit")
def audit_log():
    kind = request.args.get("kind", "")
    before = bounded_int("before", 0, low=0)
    q = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(AUDIT_PER_PAGE)
    if kind:
        q = q.where(AuditEvent.kind == kind)
    if before:
        q = q.where(AuditEvent.id < before)
    events = db.session.scalars(q).all()
    kinds = db.session.scalars(select(AuditEvent.kind).distinct().order_by(AuditEvent.kind)).all()
    return render("admin/audit.html", events=events, kind=kind, kinds=kinds,
                  more=len(events) == AUDIT_PER_PAGE)


# --- settings ---------------------------------------------------------------------

def _plain(amount) -> str:
    text = f"{amount:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


@bp.route("/settings", methods=["GET", "POST"])
def settings_page():
    form = SettingsForm()
    if request.method == "GET":
        form.major_threshold.data = _plain(settings.major_threshold(db.session))
        form.head_approval_limit.data = _plain(settings.head_approval_limit(db.session))
    elif form.validate_on_submit():
        try:
            settings.set_major_threshold(db.session, current_user, form.major_threshold.data, ip=client_ip())
            settings.set_head_approval_limit(db.session, current_user, form.head_approval_limit.data, ip=client_ip())
        except DomainError as err:
            db.session.rollback()
            apply_domain_error(form, err)
        else:
            db.session.commit()
            return see_other(url_for("admin.settings_page"), _("已保存。"))
    return render("admin/settings.html", "admin/_settings_form.html", form=form,
                  status=422 if request.method == "POST" else 200)


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
            categories.add(db.session, current_user, form.name.data, parent)
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
    category = db.session.get(Category, category_id)
    if category is None:
        abort(404)
    form = CategoryRenameForm() if action == "rename" else EmptyForm()
    if not form.validate_on_submit():
        return _categories_page(422, error=_("请填写类别名称。"), error_id=category.id)
    try:
        if action == "rename":
            categories.rename(db.session, current_user, category, form.name.data)
        else:
            categories.set_active(db.session, current_user, category, action == "reactivate")
    except DomainError as err:
        db.session.rollback()
        return _categories_page(422, error=_(err.message, **err.params), error_id=category.id)
    db.session.commit()
    return see_other(url_for("admin.categories_page"), _("已保存。"))


# --- working calendar -----------------------------------------------------------------

def _calendar_page(status=200, error=None, override_error=None):
    from datetime import date as date_cls

    from domain import calendar
    from models.calendar import CalendarDay
    from zoneinfo import ZoneInfo
    from flask import current_app
    today = utcnow().astimezone(ZoneInfo(current_app.config["COMPANY_TZ"])).date()
    years = []
    for year in range(today.year, today.year + 2):
        imported = db.session.scalar(select(func.count()).select_from(CalendarDay).where(
            CalendarDay.source == "import", CalendarDay.day >= date_cls(year, 1, 1),
            CalendarDay.day <= date_cls(year, 12, 31)))
        years.append((year, calendar.package_covers(year), imported))
    overrides = db.session.scalars(select(CalendarDay).where(CalendarDay.source == "admin")
                                   .order_by(CalendarDay.day.desc()).limit(100)).all()
    return render("admin/calendar.html", status=status, years=years, overrides=overrides, error=error,
                  override_error=override_error, action=EmptyForm(),
                  missing=calendar.uncovered_years(db.session, today))


@bp.route("/calendar")
def calendar_page():
    return _calendar_page()


@bp.route("/calendar/import", methods=["POST"])
def calendar_import():
    from domain import calendar
    form = EmptyForm()
    if not form.validate_on_submit():
        return _calendar_page(400)
    upload = request.files.get("file")
    data = upload.stream.read(100_001) if upload else b""
    if not data:
        return _calendar_page(422, error=_("请选择要导入的 CSV 文件。"))
    if len(data) > 100_000:
        return _calendar_page(422, error=_("文件太大：一年的安排只有几十行。"))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return _calendar_page(422, error=_("文件须是 UTF-8 编码的 CSV（Excel 另存为“CSV UTF-8”）。"))
    try:
        year, days = calendar.import_arrangement(db.session, current_user, text)
    except DomainError as err:
        db.session.rollback()
        return _calendar_page(422, error=_(err.message, **err.params))
    from domain import clocks
    recomputed = clocks.recompute_unconfirmed(db.session)
    db.session.commit()
    return see_other(url_for("admin.calendar_page"),
                     _("已导入 %(year)d 年的节假日安排：%(n)d 天。重新计算了 %(r)d 个按估算的时限。",
                       year=year, n=days, r=recomputed))


@bp.route("/calendar/override", methods=["POST"])
def calendar_override():
    from datetime import date as date_cls

    from domain import calendar
    form = EmptyForm()
    if not form.validate_on_submit():
        return _calendar_page(400)
    try:
        day = date_cls.fromisoformat(request.form.get("day", "").strip())
    except ValueError:
        return _calendar_page(422, override_error=_("日期格式不对，例如 2027-01-15。"))
    if not date_cls(2000, 1, 1) <= day <= date_cls(2100, 1, 1):
        return _calendar_page(422, override_error=_("日期格式不对，例如 2027-01-15。"))
    kind = request.form.get("kind")
    if kind not in ("holiday", "workday"):
        return _calendar_page(422, override_error=_("请选择放假或上班。"))
    calendar.set_override(db.session, current_user, day, kind == "workday", request.form.get("name"))
    db.session.commit()
    return see_other(url_for("admin.calendar_page"), _("已保存。"))


# --- time limits, reminders and channels -------------------------------------------------------

def _errors_of(err) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for problem in getattr(err, "problems", [err]):
        out.setdefault(problem.field or "", []).append(_(problem.message, **problem.params))
    return out


def _reminders_page(status=200, errors=None, section=None, form=None, test_result=None):
    from domain import channels, sla
    from domain.calendar import UNIT_LABELS
    from models.sla import Outbox
    preset = settings.sla_preset(db.session)
    overrides = settings.sla_overrides(db.session)
    limits = sla.limits_for(preset, overrides=overrides)
    problems = db.session.scalars(select(Outbox).where(
        or_(Outbox.status == "failed", (Outbox.status == "pending") & (Outbox.attempts > 0)))
        .order_by(Outbox.id.desc()).limit(50)).all()
    counts = dict(db.session.execute(select(Outbox.status, func.count()).group_by(Outbox.status)).all())
    return render("admin/reminders.html", status=status, presets=sla.PRESETS, preset=preset, limits=limits,
                  overrides=overrides, clock_labels=sla.CLOCK_LABELS, unit_labels=UNIT_LABELS,
                  digest=settings.digest_times(db.session), smtp=channels.smtp_config(db.session),
                  security=channels.SECURITY, problems=problems, counts=counts, errors=errors or {},
                  section=section, form=form or {}, action=EmptyForm(), test_result=test_result,
                  robot_labels=channels.ROBOT_LABELS, rules=sla.special_rules(preset), plain=_plain,
                  departments=db.session.execute(select(OrgUnit.id, OrgUnit.name).where(
                      OrgUnit.kind == "department", OrgUnit.active.is_(True)).order_by(OrgUnit.name)).all(),
                  halfyear_units=set(halfyear.recipient_units(db.session)))


@bp.route("/reminders")
def reminders_page():
    return _reminders_page()


def _reminder_change(section, change, done):
    if not EmptyForm().validate_on_submit():
        return _reminders_page(400, {"": [_("页面已过期，请刷新后再试。")]}, section)
    try:
        change()
    except DomainError as err:
        db.session.rollback()
        return _reminders_page(422, _errors_of(err), section, request.form)
    db.session.commit()
    return see_other(url_for("admin.reminders_page") + f"#{section}", done)


@bp.route("/reminders/preset", methods=["POST"])
def reminders_preset():
    return _reminder_change("preset", lambda: settings.set_sla_preset(
        db.session, current_user, request.form.get("preset", ""), ip=client_ip()),
        _("已选用新的时限方案。之后开始的计时按新方案，正在计时的不变。"))


@bp.route("/reminders/limits", methods=["POST"])
def reminders_limits():
    from domain import sla
    f = request.form
    limits = {k.value: (f.get(f"amount_{k.value}", ""), f.get(f"unit_{k.value}", "")) for k in sla.ClockKind}
    return _reminder_change("limits", lambda: settings.set_sla_limits(db.session, current_user, limits, ip=client_ip()),
                            _("已保存时限。之后开始的计时按新时限，正在计时的不变。"))


@bp.route("/reminders/digests", methods=["POST"])
def reminders_digests():
    return _reminder_change("digests", lambda: settings.set_digest_times(
        db.session, current_user, request.form.get("digest_head", ""), request.form.get("digest_manager", ""),
        ip=client_ip()), _("已保存摘要时间。"))


@bp.route("/reminders/halfyear", methods=["POST"])
def reminders_halfyear():
    from domain.text import small_int
    ids = [small_int(v) for v in request.form.getlist("units")]
    return _reminder_change("halfyear", lambda: halfyear.set_recipient_units(
        db.session, current_user, [-1 if i is None else i for i in ids], ip=client_ip()),
        _("已保存。新的半年汇总会通知总经理和所选部门。"))


@bp.route("/reminders/smtp", methods=["POST"])
def reminders_smtp():
    from domain import channels
    f = request.form
    return _reminder_change("smtp", lambda: channels.set_smtp_config(
        db.session, current_user, host=f.get("host", ""), port=f.get("port", ""), security=f.get("security", ""),
        username=f.get("username", ""), password=f.get("password", ""), sender=f.get("sender", ""),
        sender_name=f.get("sender_name", ""), ip=client_ip()), _("已保存邮件服务器设置。"))


@bp.route("/reminders/smtp/test", methods=["POST"])
def reminders_smtp_test():
    """Send a test e-mail to the administrator now (not queued: the answer is shown at once)."""
    from domain import channels
    if not EmptyForm().validate_on_submit():
        return _reminders_page(400, {"": [_("页面已过期，请刷新后再试。")]}, "smtp")
    config = channels.smtp_config(db.session)
    if config is None:
        return _reminders_page(422, {"smtp_test": [_("请先填写并保存邮件服务器。")]}, "smtp")
    if not current_user.email:
        return _reminders_page(422, {"smtp_test": [_("您的账号还没有电子邮箱：请在“用户”里给自己填上。")]}, "smtp")
    try:
        channels.send_mail(config, current_user.email, _("【客诉系统】测试邮件"),
                           _("收到这封邮件，说明提醒邮件可以正常发出。"))
    except Exception as err:   # noqa: BLE001 — shown to the admin as it is
        return _reminders_page(422, {"smtp_test": [_("发送失败：%(e)s", e=channels._describe(err))]}, "smtp")
    return _reminders_page(test_result=_("测试邮件已发到 %(to)s。", to=current_user.email))


@bp.route("/reminders/outbox/<id:outbox_id>/retry", methods=["POST"])
def reminders_retry(outbox_id):
    from domain import channels
    from models.sla import Outbox
    if db.session.get(Outbox, outbox_id) is None:
        abort(404)
    return _reminder_change("outbox", lambda: channels.retry(db.session, current_user, outbox_id),
                            _("已重新排队发送，一分钟内会再试。"))


@bp.route("/units/<id:unit_id>/robot", methods=["POST"])
def unit_robot(unit_id):
    from domain import channels
    unit = _unit_or_404(unit_id)
    if not EmptyForm().validate_on_submit():
        return _unit_page(unit, 400)
    try:
        channels.set_robot(db.session, current_user, unit, request.form.get("robot_kind", ""),
                           request.form.get("robot_url", ""), request.form.get("robot_secret", ""), ip=client_ip())
    except DomainError as err:
        db.session.rollback()
        return _unit_page(unit, 422, robot_errors=_errors_of(err))
    db.session.commit()
    return see_other(url_for("admin.unit", unit_id=unit.id), _("已保存群机器人。") if unit.robot_url else _("已关闭群机器人。"))


@bp.route("/units/<id:unit_id>/robot/test", methods=["POST"])
def unit_robot_test(unit_id):
    from domain import channels
    unit = _unit_or_404(unit_id)
    if not EmptyForm().validate_on_submit() or not unit.robot_url:
        return _unit_page(unit, 422, robot_errors={"robot_url": [_("请先保存机器人地址。")]})
    try:
        channels.post_robot(unit.robot_kind, unit.robot_url, unit.robot_secret, _("【客诉系统】测试消息"),
                            _("收到这条消息，说明本部门的到期和超时提醒会发到这个群。"))
    except Exception as err:   # noqa: BLE001
        return _unit_page(unit, 422, robot_errors={"robot_url": [_("发送失败：%(e)s", e=channels._describe(err))]})
    return see_other(url_for("admin.unit", unit_id=unit.id), _("测试消息已发出，请到群里查看。"))


# --- penalty rules (SPEC §6) ---------------------------------------------------------------------

def _penalties_page(status=200, errors=None, form=None):
    from domain import penalties
    from domain.attribution import KINDS
    from domain.severity import SEVERITY_LABELS
    return render("admin/penalties.html", status=status, rules=penalties.rules(db.session),
                  surcharges=penalties.surcharges(db.session), kinds=KINDS, severities=SEVERITY_LABELS,
                  surcharge_labels=penalties.SURCHARGE_LABELS, errors=errors or {}, form=form or {},
                  action=EmptyForm(), plain=_plain)


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
        penalties.set_rules(db.session, current_user, table, extra, ip=client_ip())
    except DomainError as err:
        db.session.rollback()
        return _penalties_page(422, _errors_of(err), f)
    db.session.commit()
    return see_other(url_for("admin.penalty_rules"), _("已保存罚扣标准。"))
