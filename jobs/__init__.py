"""RQ job functions. Jobs take ids, never ORM objects; `with_app` builds the app (or reuses
the current one in tests); jobs are idempotent and let exceptions propagate so RQ retries."""
from __future__ import annotations

import functools
import os

from redis import Redis

_connections: dict[str, Redis] = {}


def redis_connection(url: str | None = None) -> Redis:
    """One client per URL per process, with short timeouts: a dead Redis must not hang a page."""
    url = url or os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    conn = _connections.get(url)
    if conn is None:
        conn = _connections[url] = Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=2)
    return conn


def with_app(func):
    """Run the job inside an application context (a new app in a worker, the current in tests)."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        from flask import current_app, has_app_context
        if has_app_context():
            return func(*args, **kwargs)
        from app import create_app
        app = create_app()
        with app.app_context():
            return func(*args, **kwargs)
    return wrapper


def queue(name: str = "default", url: str | None = None):
    from rq import Queue
    return Queue(name, connection=redis_connection(url))


def wording():
    """What domain.messages needs from the app (it knows no Flask): the address people open the
    app at, for links, and each recipient's language through Flask-Babel's catalogues."""
    from flask import current_app
    from flask_babel import force_locale, get_translations

    from app import LOCALES
    from domain.messages import Wording

    def translator(locale: str):
        # A Locale object, not its code: parsing "zh_CN" would load Babel's global tables (app.LOCALES).
        with force_locale(LOCALES.get(locale, locale)):
            catalogue = get_translations()
        return lambda message, **params: (catalogue.ugettext(message) % params if params
                                          else catalogue.ugettext(message))
    return Wording(current_app.config.get("BASE_URL", Wording.base_url), translator, current_app.config["SECRET_KEY"])
