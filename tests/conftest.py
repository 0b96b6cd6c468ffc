"""Fixtures with real parts: a Redis server started on a free port, SQLite always and
PostgreSQL too when TEST_DATABASE_URL is set (the whole suite runs once per database)."""
from __future__ import annotations

import atexit
import contextvars
import os
import re
import shutil
import socket
import tempfile
import subprocess
import time
import uuid

import pytest
from redis import Redis
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from app import create_app
from jobs.localredis import redis_binary
from models import Base, db

DEMO_PASSWORD = "demo12345"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def redis_url():
    port = free_port()
    proc = subprocess.Popen([redis_binary(), "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    conn = Redis.from_url(url)
    for _ in range(100):
        try:
            conn.ping()
            break
        except Exception:
            time.sleep(0.05)
    else:
        proc.kill()
        pytest.fail("test Redis did not start")
    conn.close()
    yield url
    proc.terminate()
    proc.wait(10)


BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request, tmp_path_factory):
    """A fresh database per backend for the session, migrated with Alembic (as in production).
    It needs no Redis: domain tests use it through `session` alone."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'kesu.db'}"
        cleanup = None
    else:
        server = make_url(os.environ["TEST_DATABASE_URL"])
        name = f"kesu_test_{uuid.uuid4().hex[:10]}"
        admin = create_engine(server, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = server.set(database=name).render_as_string(hide_password=False)

        def cleanup():
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    app = create_app(_test_config(url, NO_REDIS))   # migrations run in the app (migrations/env.py)
    with app.app_context():
        from cli import upgrade_database
        upgrade_database()
        db.engine.dispose()
    _engines[url] = engine = create_engine(url)
    _reference[url] = _rows(engine, SEEDED_TABLES)
    yield url
    del _engines[url]
    engine.dispose()
    if cleanup:
        cleanup()


# One directory for the run (the environment keeps it the same if this module is imported twice).
UPLOAD_DIR = os.environ.setdefault("KESU_TEST_UPLOAD_DIR", tempfile.mkdtemp(prefix="kesu-test-uploads-"))
atexit.register(shutil.rmtree, UPLOAD_DIR, True)
NO_REDIS = "redis://127.0.0.1:1/0"   # for an app that must not need Redis (nothing listens there)


def _test_config(url, redis_url, **extra):
    config = {
        "UPLOAD_DIR": UPLOAD_DIR,
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": url,
        "REDIS_URL": redis_url,
        "RATELIMIT_STORAGE_URI": redis_url,
        "SECRET_KEY": "test-secret",
        "PASSWORD_HASH_FAST": True,
        "SERVER_NAME": None,
    }
    config.update(extra)
    return config


# One engine per database for the fixtures' own work (emptying, loading) and for `session`.
_engines: dict[str, object] = {}
# Reference data that the migrations insert (default categories): put back after each test.
SEEDED_TABLES = ["category"]
_reference: dict[str, dict[str, list]] = {}


def _rows(engine, names=None) -> dict[str, list[dict]]:
    """The rows of the named tables (every table when None), in primary-key order; empty tables left out."""
    snapshot = {}
    with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            if names is None or table.name in names:
                rows = [dict(r._mapping) for r in conn.execute(table.select().order_by(*table.primary_key.columns))]
                if rows:
                    snapshot[table.name] = rows
    return snapshot


def _load(conn, snapshot) -> None:
    """Write a snapshot into the tables (a table it holds is replaced), parents before children;
    PostgreSQL's id sequences are moved past the rows written."""
    postgres = conn.dialect.name == "postgresql"
    for table in reversed(Base.metadata.sorted_tables):
        if table.name in snapshot and table.name in SEEDED_TABLES:
            conn.execute(table.delete())
    for table in Base.metadata.sorted_tables:
        rows = snapshot.get(table.name)
        if not rows:
            continue
        conn.execute(table.insert(), rows)
        if postgres and "id" in table.c:
            conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                              f"{max(r['id'] for r in rows)})"))


def _empty_tables(url) -> None:
    """Every table emptied (children first) and its ids restarting at 1, the migrations' reference
    rows put back. DELETE, not TRUNCATE: on these small tables it is 30 times faster on PostgreSQL."""
    engine = _engines[url]
    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())
        if engine.dialect.name == "postgresql":
            conn.execute(text("SELECT " + ", ".join(f"setval(pg_get_serial_sequence('{t.name}', 'id'), 1, false)"
                                                    for t in Base.metadata.sorted_tables if "id" in t.c)))
        _load(conn, _reference[url])


def _written(url, write) -> dict[str, list[dict]]:
    """What `write()` adds to the empty database (beyond the reference rows); the database is emptied again."""
    try:
        write()
        return {name: rows for name, rows in _rows(_engines[url]).items() if rows != _reference[url].get(name)}
    finally:
        _empty_tables(url)


class Loaded:
    """Data a fixture wrote into the test database; `reload()` empties the database and writes it again
    (close your sessions first)."""

    def __init__(self, url, snapshot, result=None):
        self.url, self.snapshot, self.result = url, snapshot, result
        self.load()

    def load(self):
        with _engines[self.url].begin() as conn:
            _load(conn, self.snapshot)

    def reload(self):
        _empty_tables(self.url)
        self.load()


@pytest.fixture
def clean_database(database_url):
    """The test's database, emptied after the test (the migrations' reference rows put back)."""
    yield database_url
    _empty_tables(database_url)


@pytest.fixture
def session(clean_database):
    """A SQLAlchemy session on the test database, without Flask, an app or Redis (domain tests)."""
    with Session(_engines[clean_database]) as s:
        yield s


@pytest.fixture(scope="session")
def demo_company_rows(database_url):
    """demo.seed (the company of SPEC §11: units and users), run once per backend and run."""
    from demo import seed
    from domain import accounts
    accounts.use_fast_hashing()    # as create_app does with PASSWORD_HASH_FAST

    def write():
        with Session(_engines[database_url]) as s:
            seed(s)
            s.commit()
    return _written(database_url, write)


@pytest.fixture
def company(clean_database, demo_company_rows):
    """The demo company (SPEC §11: units and users, as demo.seed makes them) in the test database,
    copied in from the run's one seeding. With `session` for domain tests; web tests use `demo`."""
    return Loaded(clean_database, demo_company_rows)


@pytest.fixture(scope="session")
def seed_demo_run(database_url, redis_url):
    """`flask seed-demo` (the company, ~300 complaints, penalties, a half-year summary), run once per
    backend and run: the command's result and the rows it wrote."""
    app = create_app(_test_config(database_url, redis_url))
    outcome = {}

    def write():
        with app.app_context():
            outcome["result"] = app.test_cli_runner().invoke(args=["seed-demo"])
            db.session.remove()
            db.engine.dispose()
    rows = _written(database_url, write)
    conn = Redis.from_url(redis_url)
    conn.flushdb()
    conn.close()
    return outcome["result"], rows


@pytest.fixture
def full_demo(clean_database, seed_demo_run):
    """The whole demo database as `flask seed-demo` leaves it, copied in from the run's one seeding;
    `.result` is that command's result (exit code and output)."""
    result, rows = seed_demo_run
    return Loaded(clean_database, rows, result)


@pytest.fixture
def make_app(clean_database, redis_url):
    """Build an app on the session's database; tables are emptied and Redis flushed after."""
    made = []

    def make(**overrides):
        app = create_app(_test_config(clean_database, redis_url, **overrides))
        made.append(app)
        return app
    yield make
    for app in made:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    conn = Redis.from_url(redis_url)
    conn.flushdb()
    conn.close()


@pytest.fixture
def app(make_app):
    app = make_app()
    with app.app_context():
        yield app


@pytest.fixture
def demo(app, company):
    """The demo company of SPEC §11 (units and users) for a test with the app: returns db.session."""
    return db.session


@pytest.fixture(scope="module")
def module_app(database_url, redis_url, demo_company_rows):
    """One app and the demo company for all the tests of a module that leave the data as they found
    it (what they write — logins, audit events — stays until the module ends). Such a module must
    not also use the per-test fixtures (app, demo, session …): they empty the database after each test."""
    app = create_app(_test_config(database_url, redis_url))
    Loaded(database_url, demo_company_rows)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    _empty_tables(database_url)
    conn = Redis.from_url(redis_url)
    conn.flushdb()
    conn.close()


# --- web helpers ------------------------------------------------------------------

CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


class Web:
    """A test client that behaves like a browser with CSRF on: it reads the token from a page.

    Each request runs in an empty contextvars.Context, so that it gets its own application
    context (its own `g` and database session) as a real request would, instead of reusing
    the test's. The test's pending changes are committed first so that the request sees them."""

    def __init__(self, client):
        self.client = client
        self._token = None

    def _call(self, fn, *args, **kwargs):
        db.session.commit()
        resp = contextvars.Context().run(fn, *args, **kwargs)
        resp.get_data()  # buffer streamed bodies (files) and close them: no file left open
        resp.close()
        return resp

    def token(self) -> str:
        if self._token is None:
            page = self._call(self.client.get, "/login" if not self._logged_in() else "/",
                              follow_redirects=True)
            match = CSRF_RE.search(page.get_data(as_text=True))
            assert match, "no CSRF token on the page"
            self._token = match.group(1)
        return self._token

    def _logged_in(self) -> bool:
        with self.client.session_transaction() as s:
            return "_user_id" in s

    def get(self, url, htmx=False, **kw):
        headers = kw.pop("headers", {})
        if htmx:
            headers["HX-Request"] = "true"
        return self._call(self.client.get, url, headers=headers, **kw)

    def post(self, url, data=None, htmx=False, csrf=True, **kw):
        data = data if isinstance(data, list) else dict(data or {})
        headers = kw.pop("headers", {})
        if htmx:
            headers["HX-Request"] = "true"
        if csrf:
            headers["X-CSRFToken"] = self.token()
        return self._call(self.client.post, url, data=data, headers=headers, **kw)

    def login(self, username, password=DEMO_PASSWORD, **extra):
        self._token = None
        resp = self.post("/login", {"username": username, "password": password, **extra})
        self._token = None  # the session changed
        return resp

    def logout(self):
        resp = self.post("/logout")
        self._token = None
        return resp


@pytest.fixture
def web(app):
    return Web(app.test_client())


@pytest.fixture
def login_as(demo, web):
    def login(username):
        resp = web.login(username)
        assert resp.status_code == 303, resp.get_data(as_text=True)
        return web
    return login


# --- real SMTP sink and webhook server ---------------------------------------------------

@pytest.fixture
def smtp_sink():
    """A real SMTP server (aiosmtpd) on a free port; `.messages` are the parsed e-mails."""
    import email
    from email import policy

    from aiosmtpd.controller import Controller

    class Sink:
        def __init__(self):
            self.messages = []

        async def handle_DATA(self, server, session, envelope):
            msg = email.message_from_bytes(envelope.content, policy=policy.default)
            self.messages.append((envelope.rcpt_tos, msg))
            return "250 OK"

    handler = Sink()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    handler.port = controller.port
    yield handler
    controller.stop()


@pytest.fixture
def webhook_server():
    """A real local HTTP server that records each POST and answers from a script
    (`.answers`: a list of (status, JSON) used in turn; the last one repeats)."""
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class State:
        requests: list = []
        answers: list = [(200, {"errcode": 0, "errmsg": "ok"})]

    state = State()
    state.requests = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            state.requests.append({"path": self.path, "body": json.loads(body), "headers": dict(self.headers)})
            status, answer = state.answers[min(len(state.requests) - 1, len(state.answers) - 1)]
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield state
    server.shutdown()
    server.server_close()
