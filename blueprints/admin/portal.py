"""The customer's side (SPEC §7), as the administrator sets it up: the public pages (on or off,
the company's name and texts, the privacy notice, how long a survey link lasts, who receives online
complaints, the addresses to print) and the SMS to the customer (provider, keys, signature,
templates, and a test message sent at once)."""
from flask import current_app, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from blueprints._access import client_ip
from blueprints._perform import perform
from blueprints._render import render, see_other
from blueprints.admin import bp
from blueprints.admin.forms import EmptyForm
from domain import sms
from domain.channels import Unreachable, describe
from domain.errors import DomainError
from domain.portal import config as portal
from models import db, utcnow

SECTIONS = {"public": "admin/portal_public.html", "sms": "admin/portal_sms.html"}


def _base() -> str:
    return current_app.config.get("BASE_URL", "").rstrip("/")


def _portal_page(status=200, errors=None, section=None, form=None, test_result=None):
    config = portal.portal_config(db.session)
    return render("admin/portal.html", SECTIONS.get(section), status=status, config=config,
                  receivers=portal.receiver_choices(db.session), receiving=portal.online_receiver(db.session, config),
                  smsc=sms.sms_config(db.session), providers=sms.PROVIDER_LABELS, messages=sms.MESSAGE_LABELS,
                  regions=sms.REGIONS, link_days=portal.LINK_DAYS, action=EmptyForm(), errors=errors or {},
                  section=section, form=form or {}, test_result=test_result,
                  complain_url=_base() + "/complain", track_url=_base() + "/track", base_url=_base(),
                  base_url_warning=not _public_address(_base()))


def _public_address(url: str) -> bool:
    """Whether customers' phones can open `url` safely: https, and not this machine."""
    from urllib.parse import urlsplit
    parts = urlsplit(url)
    return parts.scheme == "https" and parts.hostname not in ("127.0.0.1", "localhost", "::1", "0.0.0.0")


@bp.route("/portal")
def portal_page():
    return _portal_page()


def _change(section, step, done):
    if not EmptyForm().validate_on_submit():
        return _portal_page(400, {"": [_("页面已过期，请刷新后再试。")]}, section)

    def respond(result):
        if result.ok:
            return see_other(url_for("admin.portal_page") + f"#{section}", done)
        return _portal_page(result.status, result.errors, section, request.form)
    return perform(step, respond)


@bp.route("/portal/public", methods=["POST"])
def portal_public():
    f = request.form
    return _change("public", lambda: portal.set_portal_config(
        db.session, current_user, enabled=f.get("enabled") == "on", company_name=f.get("company_name", ""),
        intro=f.get("intro", ""), privacy=f.get("privacy", ""), link_days=f.get("link_days", ""),
        receiver_id=f.get("receiver_id", ""), hotline=f.get("hotline", ""), ip=client_ip(), now=utcnow()),
        _("已保存公开页面设置。"))


@bp.route("/portal/sms", methods=["POST"])
def portal_sms():
    f = request.form
    return _change("sms", lambda: sms.set_sms_config(
        db.session, current_user, provider=f.get("provider", ""), access_key_id=f.get("access_key_id", ""),
        access_key_secret=f.get("access_key_secret", ""), sign_name=f.get("sign_name", ""),
        region=f.get("region", ""), app_id=f.get("app_id", ""), endpoint=f.get("endpoint", ""),
        templates={m: f.get(f"template_{m}", "") for m in sms.MESSAGES}, ip=client_ip(), now=utcnow()),
        _("已保存短信设置。") if f.get("provider") else _("已关闭短信。"))


@bp.route("/portal/sms/test", methods=["POST"])
def portal_sms_test():
    """Send a test SMS to the number typed (not queued: the provider's answer is shown at once)."""
    if not EmptyForm().validate_on_submit():
        return _portal_page(400, {"": [_("页面已过期，请刷新后再试。")]}, "sms")
    phone = request.form.get("test_phone", "")
    form = {"test_phone": phone}
    try:
        answer = sms.send_test(db.session, current_user, phone, link=_base() + "/track", now=utcnow())
    except DomainError as err:
        return _portal_page(422, {err.field or "sms_test": [_(err.message, **err.params)]}, "sms", form)
    except sms.SmsError as err:
        lines = [_("服务商拒绝了这条短信：%(e)s", e=str(err))] + ([_(err.hint)] if err.hint else [])
        return _portal_page(422, {"sms_test": lines}, "sms", form)
    except Unreachable as err:
        return _portal_page(422, {"sms_test": [_("连不上短信服务商：%(e)s", e=str(err))]}, "sms", form)
    except Exception as err:   # noqa: BLE001 — shown to the admin as it is (never the secret)
        return _portal_page(422, {"sms_test": [_("发送失败：%(e)s", e=describe(err))]}, "sms", form)
    return _portal_page(section="sms", form=form, test_result=_("测试短信已交给服务商，回执 %(r)s。请看手机是否收到。",
                                                               r=sms.receipt(answer)))
