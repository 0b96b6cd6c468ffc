"""The organisation tree (SPEC §1): units, their place in the tree, their status, and each
unit's group-chat robot for reminders."""
from flask import request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from blueprints._access import client_ip, get_or_404, get_or_none
from blueprints._perform import field_errors
from blueprints._render import apply_domain_error, choices, render, see_other
from blueprints.admin import bp
from blueprints.admin.forms import EmptyForm, UnitAddForm, UnitMoveForm, UnitRenameForm
from domain import orgtree
from domain.errors import DomainError
from domain.orgtree import KIND_LABELS, UnitKind
from models import db, utcnow
from models.org import OrgUnit
from models.user import User


def unit_choices(exclude: set[int] | None = None, active_only=True, blank=None):
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
    form.parent_id.choices = unit_choices(blank=_("（请选择）"))
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
                                    parent=parent, now=utcnow())
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
    move.parent_id.choices = unit_choices(exclude=orgtree.subtree_ids(db.session, unit.id))
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
    return _unit_page(get_or_404(OrgUnit, unit_id))


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
    unit = get_or_404(OrgUnit, unit_id)
    form = UnitRenameForm(prefix="rename")
    done = _unit_change(unit, form, lambda: orgtree.rename_unit(
        db.session, current_user, unit, form.name.data, now=utcnow()), _("已改名。"))
    return done or _unit_page(unit, 422, rename=form, fragment="admin/_unit_rename.html")


@bp.route("/units/<id:unit_id>/move", methods=["POST"])
def move_unit(unit_id):
    unit = get_or_404(OrgUnit, unit_id)
    form = UnitMoveForm(prefix="move")

    def change():
        parent = get_or_none(OrgUnit, form.parent_id.data)
        orgtree.move_unit(db.session, current_user, unit, parent, now=utcnow())
    done = _unit_change(unit, form, change, _("已移动。"))
    return done or _unit_page(unit, 422, move=form, fragment="admin/_unit_move.html")


@bp.route("/units/<id:unit_id>/<any(deactivate, reactivate, delete):action>", methods=["POST"])
def unit_status(unit_id, action):
    unit = get_or_404(OrgUnit, unit_id)
    form = EmptyForm()
    if form.validate_on_submit():
        try:
            if action == "deactivate":
                orgtree.deactivate_unit(db.session, current_user, unit, now=utcnow())
            elif action == "reactivate":
                orgtree.reactivate_unit(db.session, current_user, unit, now=utcnow())
            else:
                name = unit.name
                orgtree.delete_unit(db.session, current_user, unit, now=utcnow())
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


# --- the unit's robot (reminders to its group chat) ----------------------------------------------

@bp.route("/units/<id:unit_id>/robot", methods=["POST"])
def unit_robot(unit_id):
    from domain import channels
    unit = get_or_404(OrgUnit, unit_id)
    if not EmptyForm().validate_on_submit():
        return _unit_page(unit, 400)
    try:
        channels.set_robot(db.session, current_user, unit, request.form.get("robot_kind", ""),
                           request.form.get("robot_url", ""), request.form.get("robot_secret", ""), ip=client_ip(),
                           now=utcnow())
    except DomainError as err:
        db.session.rollback()
        return _unit_page(unit, 422, robot_errors=field_errors(err))
    db.session.commit()
    return see_other(url_for("admin.unit", unit_id=unit.id), _("已保存群机器人。") if unit.robot_url else _("已关闭群机器人。"))


@bp.route("/units/<id:unit_id>/robot/test", methods=["POST"])
def unit_robot_test(unit_id):
    from domain import channels
    unit = get_or_404(OrgUnit, unit_id)
    if not EmptyForm().validate_on_submit() or not unit.robot_url:
        return _unit_page(unit, 422, robot_errors={"robot_url": [_("请先保存机器人地址。")]})
    try:
        channels.post_robot(unit.robot_kind, unit.robot_url, unit.robot_secret, _("【客诉系统】测试消息"),
                            _("收到这条消息，说明本部门的到期和超时提醒会发到这个群。"))
    except Exception as err:   # noqa: BLE001
        return _unit_page(unit, 422, robot_errors={"robot_url": [_("发送失败：%(e)s", e=channels.describe(err))]})
    return see_other(url_for("admin.unit", unit_id=unit.id), _("测试消息已发出，请到群里查看。"))
