"""Monthly order volumes 订单量 (SPEC §8): the grid of a month (the active branches and stores,
blank = unknown), a CSV template of it, and a CSV import shown as a preview and written on
confirmation. The complaint rate per 10,000 orders in the monthly report is computed from them."""
import base64
import binascii

from flask import make_response, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import IntegrityError, OperationalError

from blueprints._access import client_ip
from blueprints._render import company_tz, render, see_other
from blueprints.admin import bp
from blueprints.admin.forms import EmptyForm
from domain import orders, orders_import
from domain.errors import InvalidInput, conflict_message
from models import db, utcnow

EXPIRED = "页面已过期，请刷新后再试。"


def _today():
    return utcnow().astimezone(company_tz()).date()


def _month_arg(value) -> str:
    """The month asked for ("YYYY-MM", 2000-01 … this month), else last month — the one usually entered."""
    months = orders.recent_months(_today())
    try:
        month = orders.check_month(value or "")
    except ValueError:
        return months[1]
    return month if orders.EARLIEST <= month <= months[0] else months[1]


def _page(month, status=200, typed=None, loaded=None, errors=None, error=None, import_error=None,
          import_problems=None):
    rows = orders.grid(db.session, month)
    months = orders.recent_months(_today())
    if month not in months:            # an older month (imported): offered too
        months.append(month)
    return render("admin/orders.html", status=status, month=month, months=months, rows=rows,
                  newer=orders.shift(month, 1) if month < months[0] else None,
                  older=orders.shift(month, -1) if month > orders.EARLIEST else None,
                  typed=typed, loaded=loaded, errors=errors or {}, error=error, import_error=import_error,
                  import_problems=import_problems or [], total=sum(v for _line, v in rows if v is not None),
                  known=sum(1 for _line, v in rows if v is not None), action=EmptyForm(), max_lines=orders_import.MAX_LINES)


def _shown(value):
    return "" if value is None else str(value)


@bp.route("/orders")
def orders_page():
    asked = request.args.get("month")
    if not (asked or "").strip():
        return _page(_month_arg(None))
    try:
        month = orders.parse_month(asked, _today())          # also 2026/11, 2026年11月 …
    except InvalidInput as err:                            # not a month, too early, not yet: say so, show last month
        month = _month_arg(None)
        return _page(month, error=" ".join((_(err.message, **err.params), _("下面是 %(month)s 的订单量。", month=month))))
    return _page(month)


@bp.route("/orders", methods=["POST"])
def orders_save():
    month = _month_arg(request.form.get("month"))
    rows = orders.grid(db.session, month)
    typed = {line.id: request.form.get(f"u{line.id}", "") for line, _v in rows}
    loaded = {line.id: request.form.get(f"was{line.id}", _shown(v)) for line, v in rows}
    if not EmptyForm().validate_on_submit():
        return _page(month, 400, typed, loaded, error=_(EXPIRED))
    try:
        changes = orders.save_month(db.session, current_user, month, typed, loaded, now=utcnow(), ip=client_ip())
        db.session.commit()
    except InvalidInput as err:
        db.session.rollback()
        problems = getattr(err, "problems", None)
        if problems:
            return _page(month, 422, typed, loaded, errors={p.field: _(p.message, **p.params) for p in problems},
                         error=_("有 %(n)d 个数字不对，请看标红的格子；这次什么都没有保存。", n=len(problems)))
        return _page(month, 409, error=_(err.message, **err.params))      # changed meanwhile: the stored figures
    except (IntegrityError, OperationalError) as err:   # a lost race on the unique unit+month, or SQLite's lock
        db.session.rollback()
        if isinstance(err, OperationalError) and conflict_message(err) is None:
            raise
        return _page(month, 409, error=_("在您保存的同时，有人也修改了这个月的订单量。下面是现在的数字，请核对后再保存。"))
    message = _("已保存 %(month)s 的订单量：%(n)d 处修改。", month=month, n=len(changes)) if changes \
        else _("没有修改。")
    return see_other(url_for("admin.orders_page", month=month), message)


@bp.route("/orders/template.csv")
def orders_template():
    """The month's grid as a CSV file to fill in (UTF-8 with BOM: Excel opens it correctly)."""
    month = _month_arg(request.args.get("month"))
    resp = make_response(orders_import.template(db.session, month).encode("utf-8"))
    resp.headers["Content-Type"] = "text/csv; charset=utf-8"
    resp.headers["Content-Disposition"] = f'attachment; filename="orders-{month}.csv"'
    resp.headers["Cache-Control"] = "no-store"
    return resp


SHOWN_PROBLEMS = 50      # a file of thousands of bad lines: the first ones, and how many more


def _problems(plan):
    shown = [_("第 %(line)d 行：%(problem)s", line=line, problem=_(err.message, **err.params))
             for line, err in plan.problems[:SHOWN_PROBLEMS]]
    if len(plan.problems) > SHOWN_PROBLEMS:
        shown.append(_("……还有 %(n)d 行也不对（从第 %(line)d 行起）。", n=len(plan.problems) - SHOWN_PROBLEMS,
                       line=plan.problems[SHOWN_PROBLEMS][0]))
    return shown


def _plan_or_page(data: bytes, month):
    """The plan of an uploaded file, or the orders page with what is wrong (422)."""
    try:
        plan = orders_import.plan(db.session, data, _today())
    except InvalidInput as err:
        return None, _page(month, 422, import_error=_(err.message, **err.params))
    if plan.problems:
        return None, _page(month, 422, import_error=_(
            "文件里有 %(n)d 行不对，整个文件都没有导入。请改好后再导入：", n=len(plan.problems)),
            import_problems=_problems(plan))
    return plan, None


def _preview(plan, data: bytes, month, status=200, notice=None):
    return render("admin/orders_preview.html", status=status, plan=plan, month=month, notice=notice,
                  data=base64.b64encode(data).decode("ascii"), digest=plan.digest(),
                  labels=orders.CHANGE_LABELS, action=EmptyForm())


@bp.route("/orders/import", methods=["POST"])
def orders_import_preview():
    month = _month_arg(request.form.get("month"))
    if not EmptyForm().validate_on_submit():
        return _page(month, 400, error=_(EXPIRED))
    upload = request.files.get("file")
    data = upload.stream.read(orders_import.MAX_BYTES + 1) if upload else b""
    if not upload or not upload.filename:
        return _page(month, 422, import_error=_("请选择要导入的 CSV 文件。"))
    plan, page = _plan_or_page(data, month)
    return page or _preview(plan, data, month)


@bp.route("/orders/import/confirm", methods=["POST"])
def orders_import_confirm():
    month = _month_arg(request.form.get("month"))
    if not EmptyForm().validate_on_submit():
        return _page(month, 400, error=_(EXPIRED))
    try:
        data = base64.b64decode(request.form.get("data", ""), validate=True)
    except (binascii.Error, ValueError):
        data = b""
    if not data:
        return _page(month, 422, import_error=_("没有收到要导入的文件，请重新选择文件。"))
    plan, page = _plan_or_page(data, month)
    if page:
        return page
    if plan.digest() != request.form.get("digest"):
        return _preview(plan, data, month, 409, _("在您预览之后，有人修改了订单量。下面是按现在的数字重新比较的结果，请再核对一次。"))
    try:
        done = orders.apply(db.session, current_user, plan.effective, now=utcnow(), via="import", ip=client_ip())
        db.session.commit()
    except (IntegrityError, OperationalError) as err:   # a lost race on the unique unit+month: nothing written
        db.session.rollback()
        if isinstance(err, OperationalError) and conflict_message(err) is None:
            raise
        return _page(month, 409, import_error=_("在您导入的同时，有人也修改了订单量；这次什么都没有导入，请重新导入。"))
    months = sorted({c.month for c in plan.effective})
    return see_other(url_for("admin.orders_page", month=months[-1] if len(months) == 1 else month),
                     _("已导入：%(n)d 处修改。", n=done))
