"""How screens answer: the page or its fragment, toasts, HTMX redirects, domain errors beside
their fields; and what templates share — the labels of the domain's kinds in the user's language,
the navigation, the bell's count, the `dt` and `money` filters."""
from __future__ import annotations

import functools
import json
from urllib.parse import urlsplit
from datetime import timezone

from flask import flash, make_response, redirect, render_template, request
from flask_babel import format_datetime, get_locale, gettext as _
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from wtforms import SelectChoice

from blueprints._access import COMPLAINT_ROLES, home_url
from domain.errors import DomainError
from domain.roles import ROLE_LABELS, Role
from domain.settings import company_tz  # noqa: F401 — the screens' time zone (views import it from here)
from models import db


def is_htmx() -> bool:
    return bool(getattr(request, "htmx", False))


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
        flash(message, "ok")
    if is_htmx():
        resp = make_response("", 204)
        resp.headers["HX-Redirect"] = url
        here, there = urlsplit(request.headers.get("HX-Current-URL", "")), urlsplit(url)
        if there.fragment and (there.path, there.query) == (here.path, here.query):
            # Only the #section would change: the browser would scroll, not reload (the form's
            # old messages would stay, the toast would not come). htmx reloads after the jump.
            resp.headers["HX-Refresh"] = "true"
        return resp
    return redirect(url, code=303)


# --- forms --------------------------------------------------------------------

def choices(pairs) -> list[SelectChoice]:
    """WTForms 3.3+ wants SelectChoice objects instead of (value, label) tuples."""
    return [SelectChoice(value, label) for value, label in pairs]


def apply_domain_error(form, err: DomainError) -> None:
    """Show a domain refusal next to the field it concerns, or at the top of the form."""
    message = _(err.message, **err.params)
    field = getattr(form, err.field, None) if err.field else None
    if field is not None:
        field.errors = list(field.errors) + [message]
    else:
        form.form_errors.append(message)


# --- labels: the domain names its kinds, screens translate them ------------------

def stage_label(value):
    from domain.stages import STAGE_LABELS, Stage
    try:
        return _(STAGE_LABELS[Stage(value)])
    except ValueError:
        return value


def severity_label(value):
    from domain.severity import SEVERITY_LABELS, Severity
    try:
        return _(SEVERITY_LABELS[Severity(value)])
    except ValueError:
        return value


def clock_label(kind):
    from domain.sla import CLOCK_LABELS, ClockKind
    try:
        return _(CLOCK_LABELS[ClockKind(kind)])
    except ValueError:
        return kind


def event_label(kind):
    """A timeline event: the intake's own, the customer's, or the workflow action that made it."""
    from domain.intake import EVENT_LABELS
    from domain.workflow import ACTIONS
    from domain.workflow.customer import EVENT_LABELS as CUSTOMER_LABELS
    if kind in EVENT_LABELS:
        return _(EVENT_LABELS[kind])
    if kind in CUSTOMER_LABELS:
        return _(CUSTOMER_LABELS[kind])
    return _(ACTIONS[kind].label) if kind in ACTIONS else kind


def event_actor(event):
    """Who took a timeline step: the member of staff, the customer (their links, the online form), or the system."""
    from domain.workflow.customer import by_customer
    if event.actor is not None:
        return event.actor.display_name
    if by_customer(event):
        return _("顾客（网上提交）") if event.kind == "registered" else _("顾客")
    return _("系统")


def notice_label(kind):
    """A notice's kind in words: workflow notices, reminders (sla:<level>:<clock>), digests."""
    from domain.notify import NOTICE_LABELS
    if kind.startswith("stage:"):
        return _("进展：%(stage)s", stage=stage_label(kind[6:]))
    if kind.startswith("sla:"):
        from domain.messages import LEVEL_LABELS
        _sla, level, clock = (kind.split(":", 2) + ["", ""])[:3]
        return _("%(clock)s%(level)s", clock=clock_label(clock), level=_(LEVEL_LABELS[level]) if level in LEVEL_LABELS else level)
    if kind.startswith("customer:"):
        from domain.portal.outbound import MESSAGE_LABELS
        message = kind.split(":", 1)[1]
        return _(MESSAGE_LABELS[message]) if message in MESSAGE_LABELS else kind
    return _(NOTICE_LABELS[kind]) if kind in NOTICE_LABELS else kind


def cite(source):
    """A rule's source as the company knows it (the procedure's title, never the seed shorthand)."""
    from domain.procedures import cite as procedure
    return procedure(source)


def penalty_status(status):
    from domain.penalties import STATUS_LABELS
    return _(STATUS_LABELS[status]) if status in STATUS_LABELS else status


def penalty_event(kind):
    from domain.penalties import EVENT_LABELS
    return _(EVENT_LABELS[kind]) if kind in EVENT_LABELS else kind


def penalty_who(p):
    from domain.attribution import KINDS
    who = f"{_(KINDS[p.kind])} · {p.unit.name}"
    return f"{who} · {p.user.display_name}" if p.user else who


def waiting_for(complaint):
    """Who acts next, in words, for someone who cannot act now."""
    from domain.workflow import waiting_for as next_action
    action = next_action(complaint)
    return _(action.waiting_label(complaint)) if action else "—"


# --- what every page's frame shows ---------------------------------------------

def unread_notices() -> int:
    """Unread in-app notices of the current user (one indexed count, capped at 100)."""
    if not current_user.is_authenticated or not current_user.roles & COMPLAINT_ROLES:
        return 0
    from sqlalchemy import func, select

    from models.complaint import Notification
    mine = select(Notification.id).where(Notification.user_id == current_user.id,
                                         Notification.read_at.is_(None)).limit(100).subquery()
    return db.session.scalar(select(func.count()).select_from(mine))


# The screens a nav item leads to besides its own blueprint's: the register's reports and
# penalties are reached from it; notices (from the bell) belong to no tab.
NAV_SECTIONS = {"reports": "complaints", "notices": None, "penalties": "complaints"}


def nav_section() -> str | None:
    """The nav item (by blueprint) the current page belongs to."""
    return NAV_SECTIONS.get(request.blueprint, request.blueprint)


def meeting_todo() -> dict:
    """What the monthly meeting asks of the current user (their home pages show it): minutes and
    addenda to sign, their open actions."""
    from domain import meetings
    from models import db
    from models import utcnow
    return {"sign": meetings.to_sign(db.session, current_user), "actions": meetings.my_actions(db.session, current_user, 10),
            "today": utcnow().astimezone(company_tz()).date()}


def nav_items():
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
    if current_user.roles & {Role.QUALITY, Role.MANAGER}:     # who run and read the monthly meeting
        shown.insert(len(shown) - (Role.ADMIN in current_user.roles), ("meetings.index", _("专题会")))
    return shown


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


def register_rendering(app) -> None:
    @app.context_processor
    def template_helpers():
        return {
            "csrf_header": lambda: json.dumps({"X-CSRFToken": generate_csrf()}),
            "Role": Role,
            "role_label": lambda r: _(ROLE_LABELS[Role(r)]),
            "home_url": home_url,
            "nav_items": nav_items,
            "nav_section": nav_section,
            "get_locale": get_locale,
            "stage_label": stage_label,
            "severity_label": severity_label,
            "event_label": event_label, "event_actor": event_actor,
            "waiting_for": waiting_for,
            "unread_notices": unread_notices,
            "clock_label": clock_label,
            "notice_label": notice_label,
            "penalty_who": penalty_who,
            "penalty_status": penalty_status,
            "penalty_event": penalty_event,
            "cite": cite,
            "meeting_todo": meeting_todo,
        }

    tz = company_tz()

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
        return value.astimezone(tz).strftime(pattern)
