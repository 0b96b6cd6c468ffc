"""Reply templates 答复模板 (SPEC §3): the list, adding, editing, switching off and on again."""
from flask import request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from blueprints._access import get_or_404
from blueprints._render import apply_domain_error, choices, render, see_other
from blueprints.admin import bp
from blueprints.admin.forms import EmptyForm, ReplyTemplateForm
from domain import replies
from domain.categories import options as category_options
from domain.errors import DomainError
from domain.text import small_int
from models import db, utcnow
from models.reply import ReplyTemplate


@bp.route("/replies")
def replies_page():
    return render("admin/replies.html", rows=replies.all_templates(db.session), action=EmptyForm(),
                  placeholders=replies.PLACEHOLDERS)


def _form(row=None) -> ReplyTemplateForm:
    form = ReplyTemplateForm() if request.method == "POST" else ReplyTemplateForm(obj=row, formdata=None)
    form.category_id.choices = choices([("", _("全部类别"))] + [(str(i), name) for i, name in category_options(db.session)])
    if request.method == "GET" and row is not None:
        form.category_id.data = str(row.category_id or "")
    return form


def _save(form, row):
    """Add (row None) or change a template from the posted form; the page again on an error."""
    if form.validate_on_submit():
        values = dict(title=form.title.data, body=form.body.data,
                      category_id=(small_int(form.category_id.data) or -1) if form.category_id.data else None)
        try:
            if row is None:
                replies.add(db.session, current_user, **values, now=utcnow())
            else:
                replies.update(db.session, current_user, row, **values, now=utcnow())
        except DomainError as err:
            db.session.rollback()
            for problem in getattr(err, "problems", [err]):
                apply_domain_error(form, problem)
        else:
            db.session.commit()
            return see_other(url_for("admin.replies_page"), _("已保存答复模板。"))
    return _edit_page(form, row, 422 if request.method == "POST" else 200)


def _edit_page(form, row, status=200):
    return render("admin/replies_edit.html", "admin/replies_form.html", status=status, form=form, row=row,
                  placeholders=replies.PLACEHOLDERS)


@bp.route("/replies/new", methods=["GET", "POST"])
def new_reply():
    return _save(_form(), None)


@bp.route("/replies/<id:reply_id>", methods=["GET", "POST"])
def edit_reply(reply_id):
    row = get_or_404(ReplyTemplate, reply_id)
    return _save(_form(row), row)


@bp.route("/replies/<id:reply_id>/<any(deactivate, reactivate):action>", methods=["POST"])
def reply_status(reply_id, action):
    row = get_or_404(ReplyTemplate, reply_id)
    if not EmptyForm().validate_on_submit():
        return render("admin/replies.html", status=400, rows=replies.all_templates(db.session), action=EmptyForm(),
                      placeholders=replies.PLACEHOLDERS, error=_("页面已过期，请刷新后再试。"))
    try:
        replies.set_active(db.session, current_user, row, action == "reactivate", now=utcnow())
    except DomainError as err:
        db.session.rollback()
        return render("admin/replies.html", status=422, rows=replies.all_templates(db.session), action=EmptyForm(),
                      placeholders=replies.PLACEHOLDERS, error=_(err.message, **err.params))
    db.session.commit()
    return see_other(url_for("admin.replies_page"), _("已启用。") if action == "reactivate" else _("已停用。"))
