"""Who may open what: the role guard (a blueprint's, or one route's on top of it), where each
role starts, where a login may return to, and ids from the URL turned into objects or a 404."""
from __future__ import annotations

import functools
from urllib.parse import urlsplit

from flask import abort, make_response, redirect, request, url_for
from flask_login import current_user
from werkzeug.routing import IntegerConverter

from domain import audit
from domain.roles import Role, home_role
from models import db, utcnow

HOME_ENDPOINTS = {
    Role.RECEIVER: "receiver.home",
    Role.HANDLER: "handler.home",
    Role.QUALITY: "quality.home",
    Role.MANAGER: "manager.home",
    Role.ADMIN: "admin.home",
}
COMPLAINT_ROLES = frozenset({Role.RECEIVER, Role.HANDLER, Role.QUALITY, Role.MANAGER})

MAX_ID = 2**31 - 1  # PostgreSQL integer; larger numbers are "not found", not a database error


class IdConverter(IntegerConverter):
    """`<id:name>` in routes: a positive database id; anything else is a 404."""

    def __init__(self, map):
        super().__init__(map, min=1, max=MAX_ID)


def client_ip() -> str | None:
    return request.remote_addr


def _is_htmx() -> bool:
    return bool(getattr(request, "htmx", False))


# --- guards -------------------------------------------------------------------

def to_login():
    """An anonymous request to a page that needs a login: the login page (a redirect), or for an
    HTMX request 401 with HX-Redirect (htmx would otherwise swap the login page into a fragment).
    Also Flask-Login's answer for @login_required (app.py)."""
    login = url_for("auth.login", next=request.full_path.rstrip("?"))
    if _is_htmx():
        resp = make_response("", 401)
        resp.headers["HX-Redirect"] = login
        return resp
    return redirect(login)


def role_guard(*roles: str, also=None):
    """`bp.before_request(role_guard(Role.X))`: anonymous page → login redirect, anonymous
    HTMX → 401 + HX-Redirect, wrong role → 403 page (and an audit event). `also(user)` lets in
    someone without the roles (the people a half-year summary is announced to)."""
    wanted = frozenset(roles)

    def guard():
        if not current_user.is_authenticated:
            return to_login()
        if not (current_user.roles & wanted or (also is not None and also(current_user))):
            audit.record(db.session, audit.PERMISSION_DENIED, actor_id=current_user.id,
                         target=f"path:{request.path}"[:200], ip=client_ip(), now=utcnow())
            db.session.commit()
            abort(403)
        return None

    guard.roles = wanted
    guard.also = also
    return guard


def only(*roles: str, also=None):
    """One route's guard on top of its blueprint's: `@only(Role.QUALITY, Role.MANAGER)`. The
    view keeps its rule in `view.guard` (an access test can read it from the URL map)."""
    guard = role_guard(*roles, also=also)

    def decorate(view):
        @functools.wraps(view)
        def guarded(*args, **kwargs):
            return guard() or view(*args, **kwargs)
        guarded.guard = guard
        return guarded
    return decorate


def password_gate():
    """A user given a temporary password chooses their own before anything else."""
    # The endpoint first: a static file needs no user (nor a database query to load one).
    if (request.endpoint not in ("auth.change_password", "auth.logout", "static", "public.healthz")
            and current_user.is_authenticated and current_user.must_change_password):
        return redirect(url_for("auth.change_password"))
    return None


# --- where to go --------------------------------------------------------------

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


# --- objects from ids ------------------------------------------------------------

def get_or_none(model, ident):
    """Fetch by id from a form or query value without letting a bad number reach the database."""
    try:
        ident = int(ident)
    except (TypeError, ValueError):
        return None
    return db.session.get(model, ident) if 0 < ident <= MAX_ID else None


def get_or_404(model, ident):
    """An id from the URL (already a valid id): the row, or 404."""
    row = db.session.get(model, ident)
    if row is None:
        abort(404)
    return row


def complaint_or_404(complaint_id):
    """The complaint if the current user may see it; 404 otherwise, out of scope or not there."""
    from domain.scoping import complaint_or_none
    complaint = complaint_or_none(db.session, current_user, complaint_id)
    if complaint is None:
        abort(404)
    return complaint


def register_access(app) -> None:
    app.url_map.converters["id"] = IdConverter
    app.before_request(password_gate)
