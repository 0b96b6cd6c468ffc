"""What every customer page shares (SPEC §7): the light frame (templates/public/base.html with
static/public.css — no staff stylesheet, no script), the administrator's switch, the headers a
page with a token or personal data needs, the customer's own error pages, the rate limits and the
photos a form keeps pending under its token."""
from __future__ import annotations

from pathlib import Path, PurePath

from flask import current_app, g, make_response, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError

from blueprints._access import client_ip
from blueprints.public import bp
from domain import attachments, audit
from domain.errors import N_, InvalidInput
from domain.portal.config import portal_config
from domain.portal.online import MAX_PHOTOS
from domain.text import clean, small_int
from models import db, utcnow

# Per address unless said otherwise; the app's config (KESU_PUBLIC_…) overrides each.
LIMITS = {
    "PUBLIC_COMPLAIN_RATE_LIMIT": "5 per minute;30 per hour",      # POST /complain
    "PUBLIC_TRACK_RATE_LIMIT": "10 per minute;40 per hour",        # failed lookups, per address
    "PUBLIC_TRACK_NUMBER_RATE_LIMIT": "10 per hour",               # failed lookups, per number
    "PUBLIC_ADD_RATE_LIMIT": "5 per minute;20 per hour",           # 补充材料
    "PUBLIC_SURVEY_RATE_LIMIT": "10 per minute",                   # the survey's answer
    "PUBLIC_RESEND_RATE_LIMIT": "3 per minute;10 per hour",        # "send me a new link"
}
PAGES_OFF = N_("在线投诉和查询暂停服务，请拨打客服电话或到店反映。")
# What each page's 429 says (the wait differs).
TOO_MANY = {
    "public.complain": N_("提交太频繁了，请稍等几分钟再提交。情况紧急请拨打客服电话。"),
    "public.track": N_("查询次数太多，请稍等一会儿再试（最长约 1 小时）。也可以用短信或邮件里的链接直接查看进度。"),
}
TOO_MANY_DEFAULT = N_("操作太频繁了，请稍等几分钟再试。")


def limit(key: str):
    """The limit string for Flask-Limiter, read when a request comes (tests and admins may change it)."""
    return lambda: current_app.config.get(key, LIMITS[key])


def failed(resp) -> bool:
    """Count only what failed (a lookup that found nothing, a form sent back): a customer who
    finds their complaint is never held up by it."""
    return resp.status_code == 422


def portal():
    """The administrator's settings, read once per request."""
    if "portal" not in g:
        g.portal = portal_config(db.session)
    return g.portal


def page(template: str, status: int = 200, **context):
    return make_response(render_template(template, portal=portal(), **context), status)


def message(status: int, title: str, text: str, **context):
    """A page that only says something: pages off, not found, too many tries, a refusal."""
    return page("public/message.html", status, title=title, text=text, **context)


@bp.before_request
def pages_on():
    """The administrator turned the customer's pages off: every page says so (not /healthz)."""
    if request.endpoint != "public.healthz" and not portal().enabled:
        return message(503, _("暂停服务"), _(PAGES_OFF))
    return None


@bp.after_request
def customer_headers(resp):
    """Customer pages hold personal data and, in their address, codes and tokens: never cached,
    never sent on as a referrer, never indexed."""
    if request.endpoint != "public.healthz":
        resp.headers["Cache-Control"] = "no-store"
        resp.headers.pop("Expires", None)
        resp.headers["Referrer-Policy"] = "no-referrer"
        resp.headers["X-Robots-Tag"] = "noindex, nofollow"
    return resp


@bp.errorhandler(CSRFError)
def csrf_error(e):
    return message(400, _("页面已过期"), _("页面已过期，请返回后刷新页面再提交一次。这次没有保存任何内容。"))


@bp.errorhandler(400)
def bad_request(e):
    return message(400, _("请求有误"), _("请求的格式不正确，请返回后重试。"))


@bp.errorhandler(404)
def not_found(e):
    return message(404, _("找不到页面"), _("这个页面不存在，或者链接不完整。请检查链接，或用投诉编号查询进度。"))


@bp.errorhandler(405)
def not_allowed(e):
    return message(405, _("操作不支持"), _("这个地址不支持这种操作。"))


@bp.errorhandler(413)
def too_large(e):
    return message(413, _("内容太大"), _("照片太大了，请每次少选几张，或把照片压缩后再上传。"))


@bp.errorhandler(429)
def too_many(e):
    audit.record(db.session, audit.RATE_LIMITED, target=f"path:{request.path}"[:200], ip=client_ip(), now=utcnow())
    db.session.commit()
    return message(429, _("请稍后再试"), _(TOO_MANY.get(request.endpoint, TOO_MANY_DEFAULT)))


@bp.errorhandler(500)
def server_error(e):
    db.session.rollback()
    return message(500, _("系统出错"), _("系统暂时出了问题，没有保存，请稍后再试，或拨打客服电话。"))


# --- photos -----------------------------------------------------------------------------------

def _name(filename) -> str:
    return (clean(PurePath((filename or "").replace("\\", "/")).name) or "file")[:120]


def keep_photos(field: str, token: str, actor, pending: list, on_record: int = 0) -> list[str]:
    """Keep the photos posted in `field` pending under the form's `token` (the intake's checks:
    content, size, a real image), at most MAX_PHOTOS with the form, and commit them: a form
    shown again with an error loses nothing. Appends the kept rows to `pending`; returns the
    messages for the files refused."""
    root, now, errors = Path(current_app.config["UPLOAD_DIR"]), utcnow(), []
    for upload in request.files.getlist(field):
        if not upload.filename:
            continue                      # a file field left empty
        head = upload.stream.read(16)
        upload.stream.seek(0)
        found = attachments.sniff(head) if head else None
        if head and (found is None or found[0] != "image"):
            errors.append(_("“%(name)s”不是照片，没有保存。请选择 JPG、PNG、GIF 或 WebP 格式的照片。",
                            name=_name(upload.filename)))
            continue
        if len(pending) >= MAX_PHOTOS:
            errors.append(_("最多 %(n)d 张照片，“%(name)s”没有保存。", n=MAX_PHOTOS, name=_name(upload.filename)))
            continue
        try:
            row = attachments.store(db.session, root, actor, upload.stream, upload.filename, token, now=now,
                                    already=len(pending), on_record=on_record)
        except InvalidInput as err:
            errors.append(_(err.message, **err.params))
        else:
            if row is not None:
                pending.append(row)
    db.session.commit()
    return errors


def remove_photo(token: str, actor, pending: list) -> bool:
    """The customer took a kept photo off the form (a "移除" button: works without JavaScript)."""
    wanted = small_int(request.form.get("remove"))
    row = next((a for a in pending if a.id == wanted), None)
    if row is None:
        return False
    attachments.discard(db.session, Path(current_app.config["UPLOAD_DIR"]), row)
    pending.remove(row)
    db.session.commit()
    return True
