from datetime import timedelta

from flask import current_app, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from blueprints._access import client_ip, home_url, safe_next
from blueprints._render import apply_domain_error, render, see_other
from blueprints.auth import bp
from blueprints.auth.forms import ChangePasswordForm, LoginForm
from domain import accounts, audit
from domain.errors import DomainError, LoginRefused
from extensions import limiter
from models import db, utcnow


@bp.route("/")
def index():
    if current_user.is_authenticated:
        return redirect(home_url(current_user))
    return redirect(url_for("auth.login"))


def _login_limit():
    return current_app.config["LOGIN_RATE_LIMIT"]


def _login_lifetime() -> timedelta:
    """The longest a login can last: a remember-me cookie's life, then one session's."""
    remember = current_app.config["REMEMBER_COOKIE_DURATION"]
    if not isinstance(remember, timedelta):
        remember = timedelta(seconds=remember)
    return remember + current_app.permanent_session_lifetime


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login():
    if current_user.is_authenticated and request.method == "GET":
        return redirect(home_url(current_user))
    form = LoginForm()
    if request.method == "GET":
        form.next.data = safe_next(request.args.get("next")) or ""
    if form.validate_on_submit():
        try:
            user = accounts.authenticate(db.session, form.username.data, form.password.data,
                                         now=utcnow(), ip=client_ip())
        except LoginRefused as err:
            db.session.commit()  # keep the failure count and the audit events
            apply_domain_error(form, err)
            return render("auth/login.html", form=form, status=422)
        accounts.start_session(db.session, user, now=utcnow(), lifetime=_login_lifetime())
        db.session.commit()
        login_user(user, remember=form.remember.data)
        if user.must_change_password:
            return see_other(url_for("auth.change_password"))
        return see_other(safe_next(form.next.data) or home_url(user))
    status = 422 if form.errors else 200
    return render("auth/login.html", form=form, status=status)


@bp.route("/logout", methods=["POST"])
def logout():
    if current_user.is_authenticated:
        # Ends this login on the server: its session and remember-me cookies stop working
        # even where a copy was kept (a shared tablet); the user's other devices stay logged in.
        now = utcnow()
        accounts.end_session(db.session, current_user, now=now)
        audit.record(db.session, audit.LOGOUT, actor_id=current_user.id, ip=client_ip(), now=now)
        db.session.commit()
        logout_user()
    return see_other(url_for("auth.login"), _("您已退出登录。"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            accounts.change_password(db.session, current_user, form.old_password.data,
                                     form.new_password.data, now=utcnow(), ip=client_ip())
        except DomainError as err:
            db.session.rollback()
            apply_domain_error(form, err)
            return render("auth/password.html", form=form, status=422)
        db.session.commit()
        # New session version (the user's other logins end), same login token: stay logged in.
        login_user(current_user._get_current_object())
        return see_other(home_url(current_user), _("密码已修改。"))
    return render("auth/password.html", form=form, status=422 if form.errors else 200)


@bp.route("/no-role")
@login_required
def no_role():
    return render("auth/no_role.html")


@bp.route("/lang/<code>", methods=["POST"])
def set_language(code):
    """Language for the login page (logged-in users keep the one in their profile)."""
    resp = see_other(url_for("auth.login"))
    if code in current_app.config["LANGUAGES"]:
        resp.set_cookie("lang", code, max_age=365 * 24 * 3600, httponly=True, samesite="Lax",
                        secure=bool(current_app.config.get("TLS")))
    return resp
