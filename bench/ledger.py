"""The accountability ledger at scale (issue 17): /complaints/ledger by person for the last full
month over bench/scale.py's 1,000,000-complaint databases (≈ 70,000 complaints in a month), as
quality (everything) and as a store head (their store), p50/p95 server time and the ratio to a
bare Flask route in the same run — the budget is 50 ms p95.

    .venv/bin/python bench/ledger.py                       # SQLite (/tmp/kesu-bench.db)
    .venv/bin/python bench/ledger.py --db postgresql       # PostgreSQL (kesu_bench)
    .venv/bin/python bench/ledger.py --db both --requests 200
    .venv/bin/python bench/ledger.py --dump /tmp/ledger-before.json   # the figures, to compare

The databases must already be loaded (run bench/scale.py once); nothing is written to them.
--dump writes every figure of the ledger (person, store and branch; quality and the store head)
for the last full month at a fixed "now", so two versions of domain/ledger.py can be compared.
--explain prints the query plans of the ledger's statements.
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


def open_app(kind: str):
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url(kind), "SECRET_KEY": "bench",
                      "RATELIMIT_ENABLED": False, "UPLOAD_DIR": "/tmp/kesu-bench-uploads",
                      "PASSWORD_HASH_FAST": True})

    @app.route("/bench-hello")
    def hello():
        return "hello"
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


def run(kind: str, n: int) -> list:
    app = open_app(kind)
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


def dump(kind: str, path: str) -> None:
    """Every figure, at a fixed `now` (the first of this month, 00:00 company time)."""
    from domain import ledger
    from models.user import User
    app = open_app(kind)
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


def explain(kind: str) -> None:
    """The plans of the statements one ledger call (quality and store head, by person) runs."""
    from domain import ledger
    from models.user import User
    app = open_app(kind)
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
            for statement, parameters in statements:
                print(f"\n--- {name} ---\n{statement}\n{parameters}")
                prefix = "EXPLAIN QUERY PLAN " if kind == "sqlite" else "EXPLAIN (ANALYZE, BUFFERS) "
                raw = engine.raw_connection()
                try:
                    cur = raw.cursor()
                    cur.execute(prefix + statement, parameters)
                    for row in cur.fetchall():
                        print("   ", " | ".join(str(x) for x in row))
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
    args = ap.parse_args()
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    for kind in kinds:
        if args.dump:
            dump(kind, args.dump.replace("{db}", kind) if len(kinds) > 1 and "{db}" in args.dump else args.dump)
        elif args.explain:
            explain(kind)
        else:
            report(kind, run(kind, args.requests))


if __name__ == "__main__":
    main()
