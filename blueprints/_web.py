"""What every screen shares: the role guard, page-or-fragment rendering, toasts, HTMX
redirects, error pages, security headers and template helpers."""
from __future__ import annotations

import functools
import json
import logging
from datetime import timezone
from urllib.parse import urlsplit

from flask import (abort, current_app, make_response, redirect, render_template, request,
                   url_for)
from flask_babel import format_datetime, get_locale, gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError, generate_csrf
from werkzeug.routing import IntegerConverter
from wtforms import SelectChoice

from domain import audit
from domain.errors import N_, DomainError
from domain.roles import ROLE_LABELS, Role, home_role
from models import db

log = logging.getLogger("kesu.web")

HOME_ENDPOINTS = {
    Role.RECEIVER: "receiver.home",
    Role.HANDLER: "handler.home",
    Role.QUALITY: "quality.home",
    Role.MANAGER: "manager.home",
    Role.ADMIN: "admin.home",
}


MAX_ID = 2**31 - 1  # PostgreSQL integer; larger numbers are "not found", not a database error


class IdConverter(IntegerConverter):
    """`<id:name>` in routes: a positive database id; anything else is a 404."""

    def __init__(self, map):
        super().__init__(map, min=1, max=MAX_ID)


def get_or_none(model, ident):
    """Fetch by id from a form or query value without letting a bad number reach the database."""
    try:
        ident = int(ident)
    except (TypeError, ValueError):
        return None
    return db.session.get(model, ident) if 0 < ident <= MAX_ID else None


def bounded_int(name: str, default: int, low: int = 1, high: int = MAX_ID) -> int:
    """An integer query parameter clamped to a sane range (page numbers, cursors)."""
    value = request.args.get(name, default, type=int)
    return min(max(value, low), high)


def choices(pairs) -> list[SelectChoice]:
    """WTForms 3.3+ wants SelectChoice objects instead of (value, label) tuples."""
    return [SelectChoice(value, label) for value, label in pairs]


def is_htmx() -> bool:
    return bool(getattr(request, "htmx", False))


def client_ip() -> str | None:
    return request.remote_addr


# --- access -------------------------------------------------------------------

def role_guard(*roles: str):
    """`bp.before_request(role_guard(Role.X))`: anonymous page → login redirect, anonymous
    HTMX → 401 + HX-Redirect, wrong role → 403 page (and an audit event)."""
    wanted = frozenset(roles)

    def guard():
        if not current_user.is_authenticated:
            login = url_for("auth.login", next=request.full_path.rstrip("?"))
            if is_htmx():
                resp = make_response("", 401)
                resp.headers["HX-Redirect"] = login
                return resp
            return redirect(login)
        if not current_user.roles & wanted:
            audit.record(db.session, audit.PERMISSION_DENIED, actor_id=current_user.id,
                         target=f"path:{request.path}"[:200], ip=client_ip())
            db.session.commit()
            abort(403)
        return None

    return guard


def home_url(user) -> str:
    role = home_role(user.roles)
    return url_for(HOME_ENDPOINTS[role]) if role else url_for("auth.no_role")


def safe_next(target: str | None) -> str | None:
    """Only a local path: never redirect to another site after login."""
    if not target:
        return None
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in target):
        return None   # a CR/LF would split the Location header (a 500, or a header of the sender's choosing)
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") \
            or "\\" in target:
        return None
    return target


# --- responses ----------------------------------------------------------------

def render(template: str, fragment: str | None = None, status: int = 200, **context):
    """One URL serves the page and its fragment: the fragment for an HTMX request."""
    name = fragment if (fragment and is_htmx() and not request.htmx.boosted) else template
    resp = make_response(render_template(name, **context), status)
    resp.headers["Vary"] = "HX-Request"
    return resp


def fragment(template: str, status: int = 200, **context):
    """A piece of a page only (HTMX helpers such as a live hint): there is no page to fall back to."""
    return make_response(render_template(template, **context), status)


def toast(resp, message: str, level: str = "ok"):
    """Queue a toast. JSON with ASCII escapes: raw Chinese in a header breaks real servers."""
    existing = resp.headers.get("HX-Trigger")
    triggers = json.loads(existing) if existing else {}
    triggers["toast"] = {"message": message, "level": level}
    resp.headers["HX-Trigger"] = json.dumps(triggers, ensure_ascii=True)
    return resp


def see_other(url: str, message: str | None = None):
    """After a successful POST: HX-Redirect for HTMX, 303 otherwise; the toast is carried
    in the session flash so that the next page shows it."""
    if message:
        from flask import flash
        flash(message, "ok")
    if is_htmx():
        resp = make_response("", 204)
        resp.headers["HX-Redirect"] = url
        return resp
    return redirect(url, code=303)


def apply_domain_error(form, err: DomainError) -> None:
    """Show a domain refusal next to the field it concerns, or at the top of the form."""
    message = _(err.message, **err.params)
    field = getattr(form, err.field, None) if err.field else None
    if field is not None:
        field.errors = list(field.errors) + [message]
    else:
        form.form_errors.append(message)


def error_page(status: int, title: str, message: str):
    if is_htmx():
        resp = make_response("", status)
        resp.headers["HX-Reswap"] = "none"
        return toast(resp, message, "error")
    return make_response(render_template("errors/error.html", status=status, title=title,
                                         message=message), status)


# --- wiring -------------------------------------------------------------------

def register_web(app) -> None:
    app.url_map.converters["id"] = IdConverter
    from blueprints._transfer import register_transfer
    register_transfer(app)  # first: its after-request hook then runs last, on the finished response

    @app.before_request
    def refuse_nul_bytes():
        """A NUL byte is never meaningful in a form and PostgreSQL refuses it in text: answer
        with a message instead of a database error."""
        for values in (request.args, request.form):
            if any("\x00" in v for _key, v in values.items(multi=True)):
                return error_page(400, _("请求有误"), _("提交的内容里有无法保存的控制字符，请删除后重试。"))
        return None
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
        audit.record(db.session, audit.RATE_LIMITED, target=f"path:{request.path}"[:200], ip=client_ip())
        db.session.commit()
        return error_page(429, _("操作太频繁"), _("尝试次数太多，请稍等一分钟再试。"))

    @app.errorhandler(500)
    def server_error(e):
        db.session.rollback()
        return error_page(500, _("系统出错"), _("系统暂时出了问题，您的操作没有完成，请稍后再试。"))

    @app.before_request
    def password_gate():
        """A user given a temporary password chooses their own before anything else."""
        # The endpoint first: a static file needs no user (nor a database query to load one).
        if (request.endpoint not in ("auth.change_password", "auth.logout", "static", "public.healthz")
                and current_user.is_authenticated and current_user.must_change_password):
            return redirect(url_for("auth.change_password"))
        return None

    @app.after_request
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

    @app.context_processor
    def template_helpers():
        return {
            "csrf_header": lambda: json.dumps({"X-CSRFToken": generate_csrf()}),
            "Role": Role,
            "role_label": lambda r: _(ROLE_LABELS[Role(r)]),
            "home_url": home_url,
            "nav_items": _nav_items,
            "get_locale": get_locale,
            "stage_label": _stage_label,
            "severity_label": _severity_label,
            "event_label": _event_label,
            "waiting_for": _waiting_for,
            "unread_notices": _unread_notices,
            "clock_label": _clock_label,
            "notice_label": notice_label,
            "penalty_who": _penalty_who,
            "penalty_status": lambda s: _(PENALTY_STATUS.get(s, s)),
            "penalty_event": lambda k: _(PENALTY_EVENTS.get(k, k)),
        }

    from zoneinfo import ZoneInfo
    company_tz = ZoneInfo(app.config["COMPANY_TZ"])

    from domain.money import format_money
    app.add_template_filter(format_money, "money")

    @app.template_filter("dt")
    def format_dt(value, fmt="yyyy-MM-dd HH:mm"):
        """UTC in the database, company time zone on screen. Patterns made of numbers only skip
        Babel (a register page formats ~75 of them: 2.6 → 0.2 ms)."""
        if not value:
            return ""
        pattern = _numeric_pattern(fmt)
        if pattern is None:
            return format_datetime(value, fmt)
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.astimezone(company_tz).strftime(pattern)


_LDML = {"yyyy": "%Y", "MM": "%m", "dd": "%d", "HH": "%H", "mm": "%M", "ss": "%S"}


@functools.lru_cache(maxsize=32)
def _numeric_pattern(fmt: str) -> str | None:
    """'yyyy-MM-dd HH:mm' → '%Y-%m-%d %H:%M'; None when the pattern has anything else (month
    names, weekdays…), which Babel formats for the locale."""
    import re
    parts = re.split(r"(yyyy|MM|dd|HH|mm|ss)", fmt)
    out = []
    for i, part in enumerate(parts):
        if i % 2:
            out.append(_LDML[part])
        elif re.search(r"[A-Za-z%']", part):
            return None
        else:
            out.append(part)
    return "".join(out)


def _stage_label(value):
    from domain.stages import STAGE_LABELS, Stage
    try:
        return _(STAGE_LABELS[Stage(value)])
    except ValueError:
        return value


def _severity_label(value):
    from domain.severity import SEVERITY_LABELS, Severity
    try:
        return _(SEVERITY_LABELS[Severity(value)])
    except ValueError:
        return value


EVENT_LABELS = {"registered": N_("登记"), "settled_on_the_spot": N_("当场解决")}

NOTICE_LABELS = {
    "assigned": N_("分派给您的部门"), "to_approve": N_("等您审批"), "approved": N_("方案已批准"),
    "rejected": N_("方案被驳回"), "handed_back": N_("部门退回，需重新分派"), "answer_not_accepted": N_("顾客不认可答复"),
    "ineffective": N_("措施验证无效"), "dissatisfied": N_("顾客不满意，待决定"), "reopened": N_("重新处理"),
    "major_registered": N_("新的重大投诉"), "digest:head": N_("每日摘要：本部门超时和今日到期"),
    "digest:manager": N_("每日摘要：待审批和超时"), "digest:quality": N_("每日摘要：品管待办的超时和今日到期"),
    "ledger:weekly": N_("每周责任台账"),
    "penalty:to_approve": N_("罚扣等您审批"), "penalty:approved": N_("罚扣已批准"),
    "penalty:published": N_("罚扣已批准，总经理办公室通报"), "penalty:rejected": N_("罚扣被驳回"),
    "penalty:appealed": N_("罚扣申诉等您决定"), "penalty:appeal_decided": N_("罚扣申诉已决定"),
    "report:halfyear": N_("新的半年汇总"),
}


PENALTY_STATUS = {"pending": N_("待总经理审批"), "approved": N_("已批准"), "rejected": N_("已驳回"),
                  "published": N_("已批准并公布")}
PENALTY_EVENTS = {"proposed": N_("提出罚扣"), "approved": N_("批准"), "rejected": N_("驳回"), "published": N_("公布"),
                  "appealed": N_("申诉"), "appeal_upheld": N_("申诉：维持"), "appeal_reduced": N_("申诉：减免"),
                  "appeal_withdrawn": N_("申诉：撤销")}


def _penalty_who(p):
    from domain.attribution import KINDS
    who = f"{_(KINDS[p.kind])} · {p.unit.name}"
    return f"{who} · {p.user.display_name}" if p.user else who


def notice_label(kind):
    """A notice's kind in words: workflow notices, reminders (sla:<level>:<clock>), digests."""
    if kind.startswith("stage:"):
        return _("进展：%(stage)s", stage=_stage_label(kind[6:]))
    if kind.startswith("sla:"):
        from domain.messages import LEVEL_LABELS
        _sla, level, clock = (kind.split(":", 2) + ["", ""])[:3]
        return _("%(clock)s%(level)s", clock=_clock_label(clock), level=_(LEVEL_LABELS[level]) if level in LEVEL_LABELS else level)
    return _(NOTICE_LABELS[kind]) if kind in NOTICE_LABELS else kind


def _event_label(kind):
    from domain.workflow import ACTIONS
    if kind in EVENT_LABELS:
        return _(EVENT_LABELS[kind])
    return _(ACTIONS[kind].label) if kind in ACTIONS else kind


def _waiting_for(complaint):
    """Who acts next, in words, for someone who cannot act now."""
    from domain.workflow import waiting_for
    action = waiting_for(complaint)
    return _(action.waiting_label(complaint)) if action else "—"


def _clock_label(kind):
    from domain.sla import CLOCK_LABELS, ClockKind
    try:
        return _(CLOCK_LABELS[ClockKind(kind)])
    except ValueError:
        return kind


def _unread_notices() -> int:
    """Unread in-app notices of the current user (one indexed count, capped at 100)."""
    if not current_user.is_authenticated or not current_user.roles & COMPLAINT_ROLES:
        return 0
    from sqlalchemy import func, select

    from models.complaint import Notification
    mine = select(Notification.id).where(Notification.user_id == current_user.id,
                                         Notification.read_at.is_(None)).limit(100).subquery()
    return db.session.scalar(select(func.count()).select_from(mine))


def _nav_items():
    if not current_user.is_authenticated:
        return []
    items = [
        (Role.RECEIVER, "receiver.home", _("受理登记")),
        (Role.HANDLER, "handler.home", _("部门待办")),
        (Role.QUALITY, "quality.home", _("品管")),
        (Role.MANAGER, "manager.home", _("审批")),
        (Role.ADMIN, "admin.home", _("管理")),
    ]
    shown = [(endpoint, label) for role, endpoint, label in items if role in current_user.roles]
    if current_user.roles & COMPLAINT_ROLES:
        shown.insert(len(shown) - (Role.ADMIN in current_user.roles), ("complaints.index", _("投诉台账")))
    return shown


COMPLAINT_ROLES = frozenset({Role.RECEIVER, Role.HANDLER, Role.QUALITY, Role.MANAGER})
