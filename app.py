"""Kesu 客诉 — application factory.

    flask --app app run          # development server
    waitress-serve --call app:create_app        # make run's web (one process)
    gunicorn 'app:create_app()'                 # production, several processes
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path

from babel import Locale
from flask import Flask, request
from flask_login import current_user

from extensions import babel, compress, csrf, htmx, limiter, login_manager
from models import db, utcnow


class Config:
    """Defaults; the environment (KESU_* variables, plus DATABASE_URL / REDIS_URL / SECRET_KEY)
    overrides them, and create_app(overrides) overrides both (tests)."""

    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL")  # None → SQLite in instance/
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    SECRET_KEY = os.environ.get("SECRET_KEY")
    # The company's time zone is KESU_COMPANY_TZ, read by domain.settings.company_tz alone.
    # The address people open the app at: links in e-mails and robot messages (KESU_BASE_URL).
    BASE_URL = "http://127.0.0.1:8000"
    BABEL_DEFAULT_LOCALE = "zh_CN"
    LANGUAGES = ("zh_CN", "en")
    # Session cookie: HttpOnly, SameSite=Lax; Secure when served over TLS (KESU_TLS=1).
    TLS = False
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_DURATION = 14 * 24 * 3600
    PERMANENT_SESSION_LIFETIME = 12 * 3600
    # A tablet stays open through a whole shift: the CSRF token lives as long as the session.
    WTF_CSRF_TIME_LIMIT = None
    WTF_CSRF_SSL_STRICT = False
    # A request: a few tablet photos (one file at most 15 MB, domain.attachments).
    MAX_CONTENT_LENGTH = 48 * 1024 * 1024
    UPLOAD_DIR = None  # None → instance/uploads (outside the web root)
    # Per address. Generous enough for a store whose tablets share one NAT address at shift
    # start; the per-account lockout (domain.accounts) is what stops password guessing.
    LOGIN_RATE_LIMIT = "20 per minute;200 per hour"
    RATELIMIT_HEADERS_ENABLED = False
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_STORAGE_OPTIONS = {"socket_connect_timeout": 0.3, "socket_timeout": 0.3}
    PROXY_COUNT = 0  # number of trusted reverse proxies in front (X-Forwarded-For)
    # gzip for pages, fragments and static text (first load ≤ 60 KB transferred). Not brotli: at
    # its default quality it came out larger than gzip 6 for htmx and app.css, and costs more memory.
    # blueprints._transfer decides which responses (not attachments, not cross-site requests).
    COMPRESS_REGISTER = False
    COMPRESS_ALGORITHM = ["gzip"]
    COMPRESS_STREAMS = False   # streamed responses (attachments, exports) are never compressed
    COMPRESS_MIMETYPES = ["text/html", "text/css", "text/javascript", "application/javascript",
                          "application/json", "image/svg+xml"]
    PASSWORD_HASH_FAST = False  # tests only


def create_app(overrides: dict | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_object(Config)
    app.config.from_prefixed_env("KESU")
    if overrides:
        app.config.update(overrides)
    _finish_config(app)

    db.init_app(app)
    csrf.init_app(app)
    htmx.init_app(app)
    babel.init_app(app, locale_selector=_select_locale, timezone_selector=lambda: app.config["BABEL_DEFAULT_TIMEZONE"])
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None
    login_manager.session_protection = "basic"
    login_manager.user_loader(_load_user)
    from blueprints._access import to_login
    login_manager.unauthorized_handler(to_login)
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config["REDIS_URL"])
    limiter.init_app(app)
    compress.init_app(app)

    if app.config["PASSWORD_HASH_FAST"]:
        from domain.accounts import use_fast_hashing
        use_fast_hashing()
    if app.config["PROXY_COUNT"]:
        from werkzeug.middleware.proxy_fix import ProxyFix
        n = int(app.config["PROXY_COUNT"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)

    from blueprints import register_web
    register_web(app)  # first: the URL converters the blueprints' routes use

    from blueprints import register_blueprints
    register_blueprints(app)

    import cli
    cli.register(app)
    return app


def _finish_config(app: Flask) -> None:
    os.makedirs(app.instance_path, exist_ok=True)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + os.path.join(app.instance_path, "kesu.db")
    if not app.config.get("UPLOAD_DIR"):
        app.config["UPLOAD_DIR"] = os.path.join(app.instance_path, "uploads")
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret(app)
    if app.config.get("TLS"):
        app.config.update(SESSION_COOKIE_SECURE=True, REMEMBER_COOKIE_SECURE=True)
    from domain.settings import company_tz
    app.config["BABEL_DEFAULT_TIMEZONE"] = company_tz().key


def _instance_secret(app: Flask) -> str:
    """A per-installation secret kept in instance/ (mode 0600), made on first start."""
    path = Path(app.instance_path) / "secret_key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
    return path.read_text().strip()


def _load_user(cookie_id: str):
    from domain.accounts import load_session_user
    return load_session_user(db.session, cookie_id, now=utcnow())


# Locales as objects, not codes: Flask-Babel would parse "zh_CN" on every request, and Babel
# finds that it means zh_Hans_CN only by loading its global CLDR tables (2.5 MB kept for good).
LOCALES = {"zh_CN": Locale("zh", "CN", script="Hans"), "en": Locale("en")}


def _select_locale() -> Locale | str:
    code = _locale_code()
    return LOCALES.get(code, code)


def _locale_code() -> str:
    from flask import current_app
    languages = current_app.config["LANGUAGES"]
    if current_user and current_user.is_authenticated:
        return current_user.locale if current_user.locale in languages else "zh_CN"
    chosen = request.cookies.get("lang")
    return chosen if chosen in languages else current_app.config["BABEL_DEFAULT_LOCALE"]
