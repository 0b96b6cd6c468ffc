"""Time limits and how people are reminded of them: the working calendar (holidays, 调休,
imports), the SLA preset and limits, digest times, who gets the half-year summary, the SMTP server
and the outbox of e-mails and robot messages."""
from flask import request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, or_, select

from blueprints._access import client_ip, get_or_404
from blueprints._perform import field_errors
from blueprints._render import company_tz, render, see_other
from blueprints.admin import bp
from blueprints.admin.forms import EmptyForm
from blueprints.admin.settings import plain
from domain import halfyear, settings
from domain.errors import DomainError
from models import db, utcnow
from models.org import OrgUnit


# --- working calendar -----------------------------------------------------------------

def _calendar_page(status=200, error=None, override_error=None):
    from datetime import date as date_cls

    from domain import calendar
    from models.calendar import CalendarDay
    today = utcnow().astimezone(company_tz()).date()
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
    from domain import clocks
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
        done = clocks.import_calendar(db.session, current_user, text, utcnow())
    except DomainError as err:
        db.session.rollback()
        return _calendar_page(422, error=_(err.message, **err.params))
    db.session.commit()
    return see_other(url_for("admin.calendar_page"),
                     _("已导入 %(year)d 年的节假日安排：%(n)d 天。重新计算了 %(r)d 个按估算的时限。",
                       year=done.year, n=done.days, r=done.recomputed))


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
    calendar.set_override(db.session, current_user, day, kind == "workday", request.form.get("name"), now=utcnow())
    db.session.commit()
    return see_other(url_for("admin.calendar_page"), _("已保存。"))


# --- time limits, reminders and channels -------------------------------------------------------

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
                  robot_labels=channels.ROBOT_LABELS, rules=sla.special_rules(preset), plain=plain,
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
        return _reminders_page(422, field_errors(err), section, request.form)
    db.session.commit()
    return see_other(url_for("admin.reminders_page") + f"#{section}", done)


@bp.route("/reminders/preset", methods=["POST"])
def reminders_preset():
    return _reminder_change("preset", lambda: settings.set_sla_preset(
        db.session, current_user, request.form.get("preset", ""), ip=client_ip(), now=utcnow()),
        _("已选用新的时限方案。之后开始的计时按新方案，正在计时的不变。"))


@bp.route("/reminders/limits", methods=["POST"])
def reminders_limits():
    from domain import sla
    f = request.form
    limits = {k.value: (f.get(f"amount_{k.value}", ""), f.get(f"unit_{k.value}", "")) for k in sla.ClockKind}
    return _reminder_change("limits", lambda: settings.set_sla_limits(
        db.session, current_user, limits, ip=client_ip(), now=utcnow()),
                            _("已保存时限。之后开始的计时按新时限，正在计时的不变。"))


@bp.route("/reminders/digests", methods=["POST"])
def reminders_digests():
    return _reminder_change("digests", lambda: settings.set_digest_times(
        db.session, current_user, request.form.get("digest_head", ""), request.form.get("digest_manager", ""),
        ip=client_ip(), now=utcnow()), _("已保存摘要时间。"))


@bp.route("/reminders/halfyear", methods=["POST"])
def reminders_halfyear():
    from domain.text import small_int
    ids = [small_int(v) for v in request.form.getlist("units")]
    return _reminder_change("halfyear", lambda: halfyear.set_recipient_units(
        db.session, current_user, [-1 if i is None else i for i in ids], ip=client_ip(), now=utcnow()),
        _("已保存。新的半年汇总会通知总经理和所选部门。"))


@bp.route("/reminders/smtp", methods=["POST"])
def reminders_smtp():
    from domain import channels
    f = request.form
    return _reminder_change("smtp", lambda: channels.set_smtp_config(
        db.session, current_user, host=f.get("host", ""), port=f.get("port", ""), security=f.get("security", ""),
        username=f.get("username", ""), password=f.get("password", ""), sender=f.get("sender", ""),
        sender_name=f.get("sender_name", ""), ip=client_ip(), now=utcnow()), _("已保存邮件服务器设置。"))


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
        return _reminders_page(422, {"smtp_test": [_("发送失败：%(e)s", e=channels.describe(err))]}, "smtp")
    return _reminders_page(test_result=_("测试邮件已发到 %(to)s。", to=current_user.email))


@bp.route("/reminders/outbox/<id:outbox_id>/retry", methods=["POST"])
def reminders_retry(outbox_id):
    from domain import delivery
    from models.sla import Outbox
    get_or_404(Outbox, outbox_id)
    return _reminder_change("outbox", lambda: delivery.retry(db.session, current_user, outbox_id, now=utcnow()),
                            _("已重新排队发送，一分钟内会再试。"))
