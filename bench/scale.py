"""Registry and intake at scale (SPEC §10, issue 4): fill a database with N complaints (default
1,000,000) by bulk load, then measure server time of the pages that must stay fast.

    .venv/bin/python bench/scale.py                       # SQLite (file in /tmp), 1,000,000 rows
    .venv/bin/python bench/scale.py --db postgresql       # PostgreSQL at BENCH_DATABASE_URL
    .venv/bin/python bench/scale.py --rows 200000 --db both

Server time is the WSGI call in this process (Flask test client: routing, session, queries,
templates), measured per request; p50 and p95 are also given as a ratio to a bare Flask "hello"
route in the same run. The database is kept between runs (--fresh reloads it).
"""
from __future__ import annotations

import argparse
import io
import os
import random
import re
import statistics
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine, func, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from app import create_app  # noqa: E402
from models import db  # noqa: E402

PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾萧田董潘袁蔡蒋余于杜叶程魏苏吕丁任沈"
PRODUCTS = ["五仁月饼", "蛋黄酥礼盒", "鲜肉月饼", "绿豆糕", "凤梨酥", "全麦吐司", "奶油蛋糕", "肉松小贝", "桃酥",
            "蝴蝶酥", "粽子礼盒", "青团", "芝士蛋糕", "牛角面包", "红豆面包"]
STAGES = ["closed"] * 80 + ["new"] * 4 + ["investigating"] * 6 + ["pending_approval"] * 3 + \
    ["executing"] * 2 + ["verifying"] * 2 + ["follow_up"] * 3
SEVERITIES = ["minor"] * 25 + ["general"] * 55 + ["serious"] * 15 + ["major"] * 5
COLUMNS = ["id", "number", "type", "channel", "formal", "stage", "version", "customer_name", "customer_phone",
           "customer_foreign", "product_name", "content", "demand", "category_id", "severity", "safety_flag",
           "media_flag", "sensitive_flag", "reputation_flag", "urgency", "sample_received", "receiving_unit_id",
           "first_responder_id", "created_at", "updated_at", "responsible_unit_id", "approval_level",
           "proposal_kind", "proposal_amount", "proposal_text", "failed_contacts"]
ASSIGNMENT_COLUMNS = ["complaint_id", "unit_id", "at"]


def database_url(kind: str) -> str:
    if kind == "sqlite":
        return "sqlite:////tmp/kesu-bench.db"
    server = make_url(os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL") or PG_DEFAULT)
    return server.set(database="kesu_bench").render_as_string(hide_password=False)


def reset(kind: str, url: str) -> None:
    """An empty database at `url` (the SQLite file removed, or the PostgreSQL database recreated)."""
    name = make_url(url).database
    if kind == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(name + suffix).unlink(missing_ok=True)
        return
    admin = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()


def ensure_pg_database(url: str) -> None:
    name = make_url(url).database
    admin = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}):
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()


def generate(n, units_users, categories, now, departments, seed=7):
    """Rows in created_at order, numbered per month like the real thing; every complaint past
    `new` has a responsible department, pending ones a proposal."""
    rng = random.Random(seed)
    span = 425 * 86400
    moments = sorted(now - timedelta(seconds=rng.uniform(0, span)) for _ in range(n))
    serial: dict[str, int] = {}
    for i, at in enumerate(moments, start=1):
        local = at + timedelta(hours=8)
        period = f"TS-{local:%Y%m}"
        serial[period] = serial.get(period, 0) + 1
        unit, user = rng.choice(units_users)
        product = rng.choice(PRODUCTS)
        severity = rng.choice(SEVERITIES)
        stage = rng.choice(STAGES)
        dept = rng.choice(departments) if stage != "new" else None
        pending = stage == "pending_approval"
        level = ("manager" if severity in ("major", "serious") or rng.random() < 0.5 else "head") if pending else None
        yield (i, f"{period}-{serial[period]:04d}", "complaint", "walk_in", False, stage, 1,
               rng.choice(SURNAMES) + rng.choice(["女士", "先生"]),
               "1" + rng.choice("3456789") + f"{rng.randrange(10**9):09d}", False, product,
               f"{product}有问题，顾客要求处理（第 {i} 条）", "refund", rng.choice(categories), severity,
               severity == "major", False, False, False, "medium", False, unit, user,
               at.replace(tzinfo=None), at.replace(tzinfo=None), dept, level,
               "refund" if pending else None, 128 if pending else None, "退款 128 元并致歉" if pending else None, 0)
    yield serial


def clock_row(r, now=None):
    """Every open complaint runs its answer clock (5 working days ≈ 7 calendar days here), with
    the reminders the sweep would have sent by now."""
    start = r[23]
    warn, due, escalate = start + timedelta(days=5), start + timedelta(days=7), start + timedelta(days=9)
    now = (now or datetime.now(timezone.utc)).replace(tzinfo=None)
    level = sum(now >= t for t in (warn, due, escalate))
    return (r[0], "answer", "generic", 5, "working_days", "bench", start, due, warn, escalate, True, level,
            (warn, due, escalate, None)[level])


def bulk_load(kind: str, n: int) -> None:
    from demo import seed
    from domain.roles import Role
    from models.complaint import Category
    from models.numbering import NumberCounter
    from models.user import User, UserRole

    seed(db.session)
    db.session.commit()
    receivers = db.session.execute(select(User.org_unit_id, User.id).join(UserRole)
                                   .where(UserRole.role == Role.RECEIVER.value)).all()
    categories = list(db.session.scalars(select(Category.id).where(Category.parent_id.is_not(None))))
    from models.org import OrgUnit
    departments = list(db.session.scalars(select(OrgUnit.id).where(OrgUnit.kind == "department")))
    now = datetime.now(timezone.utc) - timedelta(minutes=5)
    rows = generate(n, [tuple(r) for r in receivers], categories, now, departments)
    started = time.perf_counter()
    serial = None
    raw = db.engine.raw_connection()
    try:
        cur = raw.cursor()
        if kind == "sqlite":
            cur.execute("PRAGMA synchronous=OFF")
            batch = []
            placeholders = ",".join("?" * len(COLUMNS))
            sql = f"INSERT INTO complaint ({','.join(COLUMNS)}) VALUES ({placeholders})"
            ev_sql = "INSERT INTO complaint_event (complaint_id, at, actor_id, kind, to_stage, version) VALUES (?,?,?,?,?,1)"
            as_sql = "INSERT INTO complaint_assignment (complaint_id, unit_id, at) VALUES (?,?,?)"

            ck_sql = ("INSERT INTO sla_clock (complaint_id, kind, preset, amount, unit, source, started_at, deadline, "
                      "warn_at, escalate_at, confirmed, alert_level, next_alert_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)")

            def flush(batch):
                cur.executemany(sql, batch)
                cur.executemany(ev_sql, [(r[0], r[23], r[22], "registered", "new") for r in batch])
                cur.executemany(as_sql, [(r[0], r[25], r[23]) for r in batch if r[25]])
                cur.executemany(ck_sql, [clock_row(r) for r in batch if r[5] != "closed"])
            for row in rows:
                if isinstance(row, dict):
                    serial = row
                    break
                batch.append(row)
                if len(batch) == 50_000:
                    flush(batch)
                    batch = []
            if batch:
                flush(batch)
        else:
            events, assigned, clocks = [], [], []
            with cur.copy(f"COPY complaint ({','.join(COLUMNS)}) FROM STDIN") as copy:
                for row in rows:
                    if isinstance(row, dict):
                        serial = row
                        break
                    copy.write_row(row)
                    events.append((row[0], row[23], row[22], "registered", "new", 1))
                    if row[25]:
                        assigned.append((row[0], row[25], row[23]))
                    if row[5] != "closed":
                        clocks.append(clock_row(row))
            with cur.copy("COPY complaint_event (complaint_id, at, actor_id, kind, to_stage, version) FROM STDIN") as copy:
                for ev in events:
                    copy.write_row(ev)
            with cur.copy("COPY complaint_assignment (complaint_id, unit_id, at) FROM STDIN") as copy:
                for a in assigned:
                    copy.write_row(a)
            with cur.copy("COPY sla_clock (complaint_id, kind, preset, amount, unit, source, started_at, deadline, "
                          "warn_at, escalate_at, confirmed, alert_level, next_alert_at) FROM STDIN") as copy:
                for c in clocks:
                    copy.write_row(c)
            cur.execute("SELECT setval(pg_get_serial_sequence('complaint', 'id'), (SELECT max(id) FROM complaint))")
        cur.execute("DELETE FROM stage_count")
        cur.execute("INSERT INTO stage_count (stage, n) SELECT stage, count(*) FROM complaint GROUP BY stage")
        for period, last in serial.items():
            cur.execute("INSERT INTO number_counter (period, last) VALUES (%s, %s)" if kind != "sqlite"
                        else "INSERT INTO number_counter (period, last) VALUES (?, ?)", (period, last))
        raw.commit()
    finally:
        raw.close()
    # Bulk rows pass no workflow hook: the accountability ledger's kept counts, set-based (≈ 10 s).
    from domain import ledger
    ledger.rebuild(db.session)
    db.session.commit()
    raw = db.engine.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute("ANALYZE")
        raw.commit()
    finally:
        raw.close()
    print(f"  loaded {n:,} complaints (+ {n:,} events, assignments, a running clock per open one) "
          f"in {time.perf_counter() - started:.0f} s")


def percentile(values, p):
    values = sorted(values)
    k = (len(values) - 1) * p
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


class Client:
    def __init__(self, app, username):
        self.c = app.test_client()
        login = self.c.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', login).group(1)
        r = self.c.post("/login", data={"username": username, "password": "demo12345", "csrf_token": token})
        assert r.status_code == 303, r.status_code
        page = self.c.get("/", follow_redirects=True).get_data(as_text=True)
        self.token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page) or \
            re.search(r'X-CSRFToken&#34;: &#34;([^&]+)&#34;', page)
        self.token = self.token.group(1)

    def timed(self, method, url, **kw):
        headers = kw.pop("headers", {})
        headers["X-CSRFToken"] = self.token
        started = time.perf_counter()
        resp = self.c.open(url, method=method, headers=headers, **kw)
        body = resp.get_data()
        elapsed = (time.perf_counter() - started) * 1000
        resp.close()
        return elapsed, resp.status_code, len(body)


class Anonymous(Client):
    """A customer's browser on the public pages (no login): the CSRF token from the form."""

    def __init__(self, app):
        self.c = app.test_client()
        page = self.c.get("/complain").get_data(as_text=True)
        self.token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


def measure(label, fn, n, expect=(200,)):
    for _ in range(10):
        fn()
    times, size = [], 0
    for _ in range(n):
        ms, status, size = fn()
        assert status in expect, (label, status)
        times.append(ms)
    return label, percentile(times, 0.5), percentile(times, 0.95), size


def run(kind: str, rows: int, fresh: bool, n: int) -> list:
    url = database_url(kind)
    if fresh:
        reset(kind, url)
    elif kind != "sqlite":
        ensure_pg_database(url)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "RATELIMIT_ENABLED": False,
                      "UPLOAD_DIR": "/tmp/kesu-bench-uploads", "PASSWORD_HASH_FAST": True})

    @app.route("/bench-hello")
    def hello():
        return "hello"

    from models.complaint import Category, Complaint
    with app.app_context():
        from cli import upgrade_database
        upgrade_database()
        have = db.session.scalar(select(func.count()).select_from(Complaint))
        if have < rows * 0.99:
            if have:
                print("  database holds a different amount; use --fresh")
                sys.exit(2)
            print(f"  {kind}: loading {rows:,} complaints …")
            bulk_load(kind, rows)
        have = db.session.scalar(select(func.count()).select_from(Complaint))
        started = time.perf_counter()
        with db.engine.begin() as conn:   # fresh planner statistics (new indexes from migrations)
            conn.exec_driver_sql("ANALYZE")
        print(f"  ANALYZE took {time.perf_counter() - started:.1f} s")
        parent = db.session.scalar(select(Category.id).where(Category.name == "产品质量"))
        ids = list(db.session.scalars(select(Complaint.id).order_by(func.random()).limit(500)))
        phone = db.session.scalar(select(Complaint.customer_phone).where(Complaint.id == ids[0]))
        number = db.session.scalar(select(Complaint.number).where(Complaint.id == ids[1]))
        store = db.session.scalar(select(Complaint.receiving_unit_id).where(Complaint.id == ids[2]))
    print(f"  {kind}: {have:,} complaints")

    quality, clerk = Client(app, "quality"), Client(app, "receiver")
    manager, head = Client(app, "manager"), Client(app, "prod_head")
    with app.app_context():
        pending = list(db.session.scalars(select(Complaint.id).where(Complaint.stage == "pending_approval")
                                          .order_by(func.random()).limit(n + 20)))
    pending_iter = iter(pending)

    def approve_one():
        return manager.timed("POST", f"/complaints/{next(pending_iter)}/card/approve", data={"version": "1"},
                             headers={"HX-Request": "true"})
    rnd = random.Random(1)
    with app.app_context():
        from sqlalchemy import select as s
        from models.user import User
        clerk_ids = set(db.session.scalars(s(Complaint.id).where(Complaint.first_responder_id == db.session.scalar(
            s(User.id).where(User.username == "receiver"))).limit(500)))
        cat = db.session.scalar(s(Category.id).where(Category.name == "异物"))
    hx = {"HX-Request": "true"}

    def intake():
        data = {"token": uuid.uuid4().hex, "customer_name": "王女士", "customer_phone": "13812345678",
                "content": "月饼里有头发", "category_id": str(cat), "severity": "general", "demand": "refund",
                "type": "complaint", "channel": "walk_in"}
        return clerk.timed("POST", "/receiver/new", data=data, headers=dict(hx))

    customer = Anonymous(app)
    with app.app_context():
        from domain.portal import links
        known = db.session.execute(select(Complaint.id, Complaint.number, Complaint.customer_phone).where(
            Complaint.id.in_(ids), Complaint.customer_phone.is_not(None))).all()
    progress = [links.follow_path(app.config["SECRET_KEY"], row) for row in known]

    def complain():
        data = {"token": uuid.uuid4().hex, "customer_name": "李先生", "customer_phone": "13900001234",
                "content": "买的牛奶过期了，要求退款。", "demand": "refund", "privacy_consent": "y", "contact_consent": "y"}
        return customer.timed("POST", "/complain", data=data)

    def lookup(right=True):
        row = rnd.choice(known)
        digits = row.customer_phone[-4:] if right else f"{(int(row.customer_phone[-4:]) + 1) % 10000:04d}"
        return customer.timed("POST", "/track", data={"number": row.number, "proof": digits})

    with app.app_context():     # /metrics for this machine (issue 18): the admin's address range
        from domain import metrics
        from models.user import User as U
        metrics.set_access(db.session, db.session.scalar(select(U).where(U.username == "admin")), "127.0.0.1",
                           now=datetime.now(timezone.utc))
        db.session.commit()

    results = [
        measure("bare Flask route", lambda: quality.timed("GET", "/bench-hello"), n),
        measure("/metrics (Prometheus scrape)", lambda: customer.timed("GET", "/metrics"), n),
        measure("public: complaint form (GET)", lambda: customer.timed("GET", "/complain"), n),
        measure("public: complaint submit (POST → 303)", complain, n, expect=(303,)),
        measure("public: lookup (POST → 303)", lookup, n, expect=(303,)),
        measure("public: lookup, wrong digits (POST → 422)", lambda: lookup(False), n, expect=(422,)),
        measure("public: progress page", lambda: customer.timed("GET", rnd.choice(progress)), n),
        measure("registry, first page (quality: all)", lambda: quality.timed("GET", "/complaints/"), n),
        measure("registry, first page (store clerk)", lambda: clerk.timed("GET", "/complaints/"), n),
        measure("registry, 2nd page via cursor (quality)", lambda: quality.timed(
            "GET", "/complaints/?after=" + _cursor(quality)), n),
        measure("registry filtered: stage+severity", lambda: quality.timed(
            "GET", "/complaints/?stage=pending_approval&severity=major"), n),
        measure("registry filtered: category+dates", lambda: quality.timed(
            "GET", f"/complaints/?category={parent}&from={(datetime.now() - timedelta(days=60)):%Y-%m-%d}"), n),
        measure("registry filtered: store (HTMX)", lambda: quality.timed(
            "GET", f"/complaints/?unit={store}", headers=dict(hx)), n),
        measure("count, lazy (quality: all)", lambda: quality.timed("GET", "/complaints/count", headers=dict(hx)), n),
        measure("count, lazy (stage+severity)", lambda: quality.timed(
            "GET", "/complaints/count?stage=pending_approval&severity=major", headers=dict(hx)), n),
        measure("registry search: phone", lambda: quality.timed("GET", f"/complaints/?q={phone}", headers=dict(hx)), n),
        measure("registry search: number", lambda: quality.timed("GET", f"/complaints/?q={number}", headers=dict(hx)), n),
        measure("registry search: name prefix", lambda: quality.timed(
            "GET", "/complaints/?q=" + rnd.choice(SURNAMES), headers=dict(hx)), n),
        measure("record page (quality)", lambda: quality.timed("GET", f"/complaints/{rnd.choice(ids)}"), n),
        measure("record page (store clerk)", lambda: clerk.timed(
            "GET", f"/complaints/{rnd.choice(list(clerk_ids) or ids)}", ), n, expect=(200, 404)),
        measure("intake submit (POST → 204)", intake, n, expect=(204,)),
        measure("queue: quality home (dispatch/verify/decide)", lambda: quality.timed("GET", "/quality/"), n),
        measure("queue: department head home", lambda: head.timed("GET", "/handler/"), n),
        measure("queue: receiver home (form + my follow-ups)", lambda: clerk.timed("GET", "/receiver/"), n),
        measure("queue: manager approvals + counts", lambda: manager.timed("GET", "/manager/"), n),
        measure("approve one (POST → card partial)", approve_one, n),
    ]
    with app.app_context():
        db.engine.dispose()
    return results


_cursor_cache = {}


def _cursor(client):
    if "c" not in _cursor_cache:
        page = client.c.get("/complaints/").get_data(as_text=True)
        _cursor_cache["c"] = re.search(r"after=([0-9.]+)", page).group(1)
    return _cursor_cache["c"]


def report(kind, results):
    base50, base95 = results[0][1], results[0][2]
    print(f"\n{kind}: server time per request, ms (ratio to the bare route)")
    print(f"  {'':44} {'p50':>8} {'p95':>8}  {'p50×':>6} {'p95×':>6}  {'bytes':>7}")
    for label, p50, p95, size in results:
        print(f"  {label:44} {p50:8.2f} {p95:8.2f}  {p50 / base50:6.1f} {p95 / base95:6.1f}  {size:7,}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="sqlite")
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--fresh", action="store_true", help="drop and reload the benchmark database")
    args = ap.parse_args()
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    for kind in kinds:
        _cursor_cache.clear()
        report(kind, run(kind, args.rows, args.fresh, args.requests))


if __name__ == "__main__":
    main()
