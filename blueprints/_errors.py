"""When a request goes wrong, and what every response carries: the friendly error page (a toast
for HTMX), the handlers for 400–500, refusal of NUL bytes, and the security headers."""
from __future__ import annotations

from flask import current_app, make_response, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError

from blueprints._access import client_ip
from blueprints._render import is_htmx, toast
from domain import audit
from models import db, utcnow


def error_page(status: int, title: str, message: str):
    if is_htmx():
        resp = make_response("", status)
        resp.headers["HX-Reswap"] = "none"
        return toast(resp, message, "error")
    return make_response(render_template("errors/error.html", status=status, title=title,
                                         message=message), status)


def refuse_nul_bytes():
    """A NUL byte is never meaningful in a form and PostgreSQL refuses it in text: answer
    with a message instead of a database error."""
    for values in (request.args, request.form):
        if any("\x00" in v for _key, v in values.items(multi=True)):
            return error_page(400, _("请求有误"), _("提交的内容里有无法保存的控制字符，请删除后重试。"))
    return None


def security_headers(resp):
    h = resp.headers
    h.setdefault("Content-Security-Policy",
                 "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
                 "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")
    h.setdefault("X-Content-Type-Options", "nosniff")
    h.setdefault("X-Frame-Options", "DENY")
    h.setdefault("Referrer-Policy", "same-origin")
    h.setdefault("Permissions-Policy", "camera=(self), microphone=(), geolocation=()")
    if current_app.config.get("TLS"):
        h.setdefault("Strict-Transport-Security", "max-age=31536000")
    if request.endpoint != "static":   # static files: blueprints._transfer
        # Shared tablets: pages, photos, attachments and exports hold personal data and must
        # not linger in the browser cache — whatever send_file or a view set (issue 13).
        h["Cache-Control"] = "no-store"
        h.pop("Expires", None)
    return resp


def register_errors(app) -> None:
    app.before_request(refuse_nul_bytes)
    app.after_request(security_headers)

    @app.errorhandler(400)
    def bad_request(e):
        return error_page(400, _("请求有误"), _("请求的格式不正确，请返回后重试。"))

    @app.errorhandler(CSRFError)
    def csrf_error(e):
        return error_page(400, _("页面已过期"), _("页面已过期或来源不明，请刷新页面后再提交一次。没有保存任何改动。"))

    @app.errorhandler(403)
    def forbidden(e):
        return error_page(403, _("没有权限"), _("您的角色不能使用这个页面。如需要，请联系系统管理员分配角色。"))

    @app.errorhandler(404)
    def not_found(e):
        return error_page(404, _("找不到页面"), _("这个页面不存在，或者不在您的查看范围内。"))

    @app.errorhandler(405)
    def not_allowed(e):
        return error_page(405, _("操作不支持"), _("这个地址不支持这种操作。"))

    @app.errorhandler(413)
    def too_large(e):
        return error_page(413, _("内容太大"), _("提交的内容太大了，请减小文件后再试。"))

    @app.errorhandler(429)
    def too_many(e):
        audit.record(db.session, audit.RATE_LIMITED, target=f"path:{request.path}"[:200], ip=client_ip(),
                     now=utcnow())
        db.session.commit()
        return error_page(429, _("操作太频繁"), _("尝试次数太多，请稍等一分钟再试。"))

    @app.errorhandler(500)
    def server_error(e):
        db.session.rollback()
        return error_page(500, _("系统出错"), _("系统暂时出了问题，您的操作没有完成，请稍后再试。"))
