"""The accountability ledger at scale (issue 17): /complaints/ledger by person for the last full
month over bench/scale.py's 1,000,000-complaint databases (≈ 70,000 complaints in a month), as
quality (everything) and as a store head (their store), p50/p95 server time and the ratio to a
bare Flask route in the same run — the budget is 50 ms p95.

    .venv/bin/python bench/ledger.py                       # SQLite (/tmp/kesu-bench.db)
    .venv/bin/python bench/ledger.py --db postgresql       # PostgreSQL (kesu_bench)
    .venv/bin/python bench/ledger.py --db both --requests 200
    .venv/bin/python bench/ledger.py --dump /tmp/ledger-{db}.json   # the figures, to compare
    .venv/bin/python bench/ledger.py --lab --db both       # the copy with closing data (below)

The databases must already be loaded (run bench/scale.py once); nothing is written to them.

bench/scale.py's rows have no closing data (closed_at, satisfaction, close clocks), so the ledger's
medians and "closed in time" cost nothing there. --lab copies them once (/tmp/kesu-ledger-lab.db and
the PostgreSQL database kesu_ledger_lab) and gives every closed complaint a closing time 1–20 days
after registration, seven in ten a satisfaction score, one in 33 a repeat, and every complaint a
close clock (15 days; stopped at closing): `--lab` then times (or dumps, explains) that copy.
--dump writes every figure of the ledger (person, store and branch; quality and the store head)
for the last full month at a fixed "now", so two versions of domain/ledger.py can be compared.
--explain prints the query plans of the ledger's statements. The ledger reads the counts kept for it
(migration d17b0e7e3a01: LedgerDay and three columns on complaint); the lab copy's closing data is
written behind the workflow's back, so they are counted again after it (domain.ledger.rebuild).
PostgreSQL reads an index alone only where the visibility map says so: on a server with autovacuum
off (as the benchmark one), VACUUM the tables first, as autovacuum would (--vacuum).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import event, func, select  # noqa: E402

from app import create_app  # noqa: E402
from bench.scale import Client, database_url, measure, report  # noqa: E402
from models import db  # noqa: E402

AS = (("quality", "quality (everything)"), ("xh_head", "store head (上海徐汇店)"), ("sh_head", "branch head (上海分公司)"))


LAB_SQLITE = "/tmp/kesu-ledger-lab.db"


def lab_url(kind: str) -> str:
    from sqlalchemy.engine import make_url
    if kind == "sqlite":
        return f"sqlite:///{LAB_SQLITE}"
    return make_url(database_url(kind)).set(database="kesu_ledger_lab").render_as_string(hide_password=False)


def prepare_lab(kind: str) -> None:
    """The copy with closing data (made once; --fresh-lab makes it again)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    url = lab_url(kind)
    if kind == "sqlite":
        import sqlite3
        Path(LAB_SQLITE).unlink(missing_ok=True)
        source = sqlite3.connect("/tmp/kesu-bench.db")
        target = sqlite3.connect(LAB_SQLITE)
        source.backup(target)
        source.close()
        target.close()
        days = lambda n, col: f"strftime('%Y-%m-%d %H:%M:%S', {col}, '+' || ({n}) || ' days') || '.000000'"  # noqa: E731
    else:
        admin = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text('DROP DATABASE IF EXISTS "kesu_ledger_lab" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "kesu_ledger_lab" TEMPLATE "{make_url(database_url(kind)).database}"'))
        admin.dispose()
        days = lambda n, col: f"{col} + ({n}) * interval '1 day'"  # noqa: E731
    started = time.perf_counter()
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f"UPDATE complaint SET closed_at = {days('id % 20 + 1', 'created_at')}, "
                          "satisfaction = CASE WHEN id % 10 < 7 THEN id % 5 + 1 END, "
                          "repeat_of_id = CASE WHEN id % 33 = 0 AND id > 1000 THEN id - 1000 END "
                          "WHERE stage = 'closed'"))
        conn.execute(text(
            "INSERT INTO sla_clock (complaint_id, kind, preset, amount, unit, source, started_at, deadline, warn_at, "
            "escalate_at, confirmed, alert_level, stopped_at, paused_seconds) "
            f"SELECT id, 'close', 'generic', 15, 'calendar_days', 'lab', created_at, {days(15, 'created_at')}, "
            f"{days(12, 'created_at')}, {days(17, 'created_at')}, true, 0, closed_at, 0 FROM complaint c "
            "WHERE NOT EXISTS (SELECT 1 FROM sla_clock s WHERE s.complaint_id = c.id AND s.kind = 'close')"))
    from sqlalchemy.orm import Session

    from domain import ledger
    with Session(engine) as session:          # the kept counts, after changes made behind the workflow
        ledger.rebuild(session)
        session.commit()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE" if kind != "sqlite" else "ANALYZE")
    engine.dispose()
    print(f"  {kind}: lab copy with closing data ready in {time.perf_counter() - started:.0f} s")


def lab_exists(kind: str) -> bool:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    if kind == "sqlite":
        return Path(LAB_SQLITE).exists()
    admin = create_engine(make_url(database_url(kind)).set(database="postgres"))
    with admin.connect() as conn:
        found = conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = 'kesu_ledger_lab'"))
    admin.dispose()
    return bool(found)


URL_OVERRIDE: dict[str, str] = {}     # --url: another copy of the data (kind → URL)

def vacuum(kind: str, lab: bool) -> None:
    from sqlalchemy import create_engine
    engine = create_engine(URL_OVERRIDE.get(kind) or (lab_url(kind) if lab else database_url(kind)))
    started = time.perf_counter()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE complaint")
        conn.exec_driver_sql("VACUUM ANALYZE sla_clock")
    engine.dispose()
    print(f"  {kind}: VACUUM ANALYZE complaint, sla_clock ({time.perf_counter() - started:.0f} s)")


def open_app(kind: str, lab: bool = False):
    url = URL_OVERRIDE.get(kind) or (lab_url(kind) if lab else database_url(kind))
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench",
                      "RATELIMIT_ENABLED": False, "UPLOAD_DIR": "/tmp/kesu-bench-uploads",
                      "PASSWORD_HASH_FAST": True})

    @app.route("/bench-hello")
    def hello():
        return "hello"
    with app.app_context():        # a lab copy made before the latest migration: bring it up to date
        from cli import upgrade_database
        upgrade_database()
    return app


def period(app):
    """The last full month (the ledger page's default) as query parameters and as bounds."""
    from domain.ledger import last_full_month
    from domain.settings import company_tz
    with app.app_context():
        tz = company_tz()
        start, end = last_full_month(datetime.now(timezone.utc).astimezone(tz).date())
    bounds = (datetime.combine(start, datetime.min.time(), tz),
              datetime.combine(end + timedelta(days=1), datetime.min.time(), tz))
    return {"by": "person", "from": start.isoformat(), "to": end.isoformat()}, bounds


def check_loaded(app, kind):
    from models.complaint import Complaint
    with app.app_context():
        have = db.session.scalar(select(func.count()).select_from(Complaint))
    if have < 900_000:
        print(f"  {kind}: {have:,} complaints — load the database with bench/scale.py first")
        sys.exit(2)
    return have


def run(kind: str, n: int, lab: bool = False) -> list:
    app = open_app(kind, lab)
    have = check_loaded(app, kind)
    params, bounds = period(app)
    from models.complaint import Complaint
    with app.app_context():
        in_month = db.session.scalar(select(func.count()).select_from(Complaint).where(
            Complaint.created_at >= bounds[0], Complaint.created_at < bounds[1]))
    print(f"  {kind}: {have:,} complaints, {in_month:,} received {params['from']} — {params['to']}")
    query = "&".join(f"{k}={v}" for k, v in params.items())
    clients = {name: Client(app, name) for name, _label in AS}
    results = [measure("bare Flask route", lambda: clients["quality"].timed("GET", "/bench-hello"), n)]
    for name, label in AS:
        client = clients[name]
        results.append(measure(f"ledger by person, {label}",
                               lambda c=client: c.timed("GET", "/complaints/ledger?" + query), n))
    for by in ("store", "branch"):
        results.append(measure(f"ledger by {by}, quality", lambda b=by: clients["quality"].timed(
            "GET", "/complaints/ledger?" + query.replace("by=person", f"by={b}")), n))
    with app.app_context():
        db.engine.dispose()
    return results


def dump(kind: str, path: str, lab: bool = False) -> None:
    """Every figure, at a fixed `now` (the first of this month, 00:00 company time)."""
    from domain import ledger
    from models.user import User
    app = open_app(kind, lab)
    check_loaded(app, kind)
    _params, bounds = period(app)
    now = bounds[1]
    out = {}
    with app.app_context():
        for name, _label in AS:
            user = db.session.scalar(select(User).where(User.username == name))
            for by in ledger.BY:
                t0 = time.perf_counter()
                rows = ledger.ledger(db.session, user, by, *bounds, now)
                ms = (time.perf_counter() - t0) * 1000
                out[f"{name}/{by}"] = sorted([r.key, r.name, r.unit, r.received, r.open, r.closed, r.closed_in_time,
                                              r.overdue, r.median_days, r.satisfaction, r.repeats, r.idle]
                                             for r in rows)
                print(f"  {name:8} {by:7} {len(rows):4} rows, {sum(r.received for r in rows):7,} received, {ms:7.1f} ms")
        db.session.rollback()
        db.engine.dispose()
    Path(path).write_text(json.dumps(out, ensure_ascii=False, indent=0))
    print(f"  written to {path}")


def explain(kind: str, lab: bool = False) -> None:
    """The plans of the statements one ledger call (quality and store head, by person) runs."""
    from domain import ledger
    from models.user import User
    app = open_app(kind, lab)
    check_loaded(app, kind)
    _params, bounds = period(app)
    statements = []
    with app.app_context():
        engine = db.engine

        def keep(conn, cursor, statement, parameters, context, executemany):
            statements.append((statement, parameters))
        for name in ("quality", "xh_head"):
            user = db.session.scalar(select(User).where(User.username == name))
            statements.clear()
            event.listen(engine, "before_cursor_execute", keep)
            ledger.ledger(db.session, user, "person", *bounds, bounds[1])
            event.remove(engine, "before_cursor_execute", keep)
            raw = engine.raw_connection()
            try:
                cur = raw.cursor()
                for statement, parameters in statements:
                    print(f"\n--- {name} ---\n{statement}\n{parameters}")
                    if not statement.lstrip().upper().startswith(("SELECT", "WITH")):
                        cur.execute(statement, parameters)      # SET LOCAL …: as the ledger runs it
                        continue
                    prefix = "EXPLAIN QUERY PLAN " if kind == "sqlite" else "EXPLAIN (ANALYZE, BUFFERS) "
                    cur.execute(prefix + statement, parameters)
                    for row in cur.fetchall():
                        print("   ", " | ".join(str(x) for x in row))
                raw.rollback()
            finally:
                raw.close()
        db.session.rollback()
        engine.dispose()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="sqlite")
    ap.add_argument("--requests", type=int, default=120)
    ap.add_argument("--dump", metavar="FILE", help="write the figures to FILE (JSON) instead of timing")
    ap.add_argument("--explain", action="store_true", help="print the query plans instead of timing")
    ap.add_argument("--lab", action="store_true", help="use the copy with closing data (made on first use)")
    ap.add_argument("--fresh-lab", action="store_true", help="make the copy with closing data again")
    ap.add_argument("--vacuum", action="store_true", help="PostgreSQL: VACUUM ANALYZE complaint and sla_clock first")
    ap.add_argument("--url", help="another database holding the same data (with --db sqlite or postgresql)")
    args = ap.parse_args()
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    if args.url:
        URL_OVERRIDE[kinds[0]] = args.url
    for kind in kinds:
        lab = args.lab or args.fresh_lab
        if lab and (args.fresh_lab or not lab_exists(kind)):
            prepare_lab(kind)
        if args.vacuum and kind != "sqlite":
            vacuum(kind, lab)
        if args.dump:
            dump(kind, args.dump.replace("{db}", kind), lab)
        elif args.explain:
            explain(kind, lab)
        else:
            report(f"{kind} (lab copy with closing data)" if lab else kind, run(kind, args.requests, lab))


if __name__ == "__main__":
    main()
