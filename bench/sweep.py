"""The SLA sweep at scale (SPEC §10, issue 6): 200,000 open complaints with their running clocks,
about 5 % of them crossing a level (warn, due or escalate) at the moment of the sweep.

    .venv/bin/python bench/sweep.py                    # SQLite (file in /tmp)
    .venv/bin/python bench/sweep.py --db postgresql    # PostgreSQL at BENCH_DATABASE_URL
    .venv/bin/python bench/sweep.py --db both

The database is loaded afresh each run (about 15 s).

Prints the time of one sweep (the whole transaction: find, write the notices, their e-mail and
robot copies, move the clocks on, commit), repeated on the same state (rolled back in between),
and the time of a sweep with nothing to do. Budgets: ≤ 2 s and ≤ 100 ms.
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, select  # noqa: E402

from app import create_app  # noqa: E402
from bench.scale import PG_DEFAULT, ensure_pg_database, reset  # noqa: E402
from models import db  # noqa: E402

STAGES = ["new"] * 20 + ["investigating"] * 30 + ["pending_approval"] * 15 + ["executing"] * 10 + \
    ["verifying"] * 10 + ["follow_up"] * 15
CLOCKS = {"new": ("dispatch", "first_contact", "answer", "close"),
          "investigating": ("initial_cause", "proposal", "answer", "close"),
          "pending_approval": ("approval", "answer", "close"),
          "executing": ("answer", "close"), "verifying": ("close",), "follow_up": ("follow_up", "close")}


def database_url(kind):
    import os

    from sqlalchemy.engine import make_url
    if kind == "sqlite":
        return "sqlite:////tmp/kesu-sweep.db"
    server = make_url(os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL") or PG_DEFAULT)
    return server.set(database="kesu_sweep").render_as_string(hide_password=False)


def load(kind, n, now, crossing=0.05, seed=11):
    """n open complaints, their running clocks; a `crossing` share has one clock past a level."""
    from demo import seed as seed_company
    from domain import channels
    from domain.roles import Role
    from models.complaint import Category
    from models.org import OrgUnit
    from models.user import User, UserRole
    seed_company(db.session)
    db.session.commit()
    for u in db.session.scalars(select(User)):
        u.email = f"{u.username}@example.com"          # every reminder also gets an e-mail copy
    for unit in db.session.scalars(select(OrgUnit).where(OrgUnit.kind.in_(("department", "store")))):
        unit.robot_kind, unit.robot_url = "wecom", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=bench"
    admin = db.session.scalar(select(User).where(User.username == "admin"))
    channels.set_smtp_config(db.session, admin, host="127.0.0.1", port="2525", security="none", username="",
                             password="", sender="kesu@example.com", sender_name="", now=now)
    db.session.commit()
    rng = random.Random(seed)
    receivers = db.session.execute(select(User.org_unit_id, User.id).join(UserRole)
                                   .where(UserRole.role == Role.RECEIVER.value)).all()
    handlers = db.session.execute(select(User.org_unit_id, User.id).join(UserRole)
                                  .where(UserRole.role == Role.HANDLER.value)).all()
    depts = sorted({u for u, _ in handlers})
    category = db.session.scalar(select(Category.id).where(Category.parent_id.is_not(None)))
    complaints, clocks = [], []
    crossing_n = 0
    for i in range(1, n + 1):
        stage = rng.choice(STAGES)
        unit, user = rng.choice(receivers)
        started = now - timedelta(hours=rng.uniform(1, 17))   # before the 18 h warning
        dept = rng.choice(depts) if stage not in ("new",) else None
        investigator = None
        if dept and rng.random() < 0.5:
            investigator = rng.choice([u for d, u in handlers if d == dept] or [None])
        level = ("manager" if rng.random() < 0.4 else "head") if stage == "pending_approval" else None
        naive = started.replace(tzinfo=None)
        complaints.append((i, f"TS-B-{i:07d}", "complaint", "walk_in", False, stage, 1, "王女士", "13800000000",
                           False, "月饼", "bench", "refund", category, "general", False, False, False, False,
                           "medium", False, unit, user, naive, naive, dept, investigator, level, 0, False))
        cross = rng.random() < crossing
        crossing_n += cross
        for j, kind_ in enumerate(CLOCKS[stage]):
            # 24 h limits: warn at 18 h, due at 24 h, escalate at 30 h from the start
            start = started
            alert, nxt = 0, start + timedelta(hours=18)
            if cross and j == 0:
                which = rng.choice(["warn", "due", "escalate"])
                back = {"warn": 19, "due": 25, "escalate": 31}[which]
                start = now - timedelta(hours=back)
                alert = {"warn": 0, "due": 1, "escalate": 2}[which]
                nxt = start + timedelta(hours=(18, 24, 30)[alert])
            s = start.replace(tzinfo=None)
            clocks.append((i, kind_, "generic", 24, "calendar_hours", "bench", s, s + timedelta(hours=24),
                           s + timedelta(hours=18), s + timedelta(hours=30), True, alert, nxt.replace(tzinfo=None), 0))
    cols = ("id, number, type, channel, formal, stage, version, customer_name, customer_phone, customer_foreign, "
            "product_name, content, demand, category_id, severity, safety_flag, media_flag, sensitive_flag, "
            "reputation_flag, urgency, sample_received, receiving_unit_id, first_responder_id, created_at, "
            "updated_at, responsible_unit_id, investigator_id, approval_level, failed_contacts, needs_decision")
    ck_cols = ("complaint_id, kind, preset, amount, unit, source, started_at, deadline, warn_at, escalate_at, "
               "confirmed, alert_level, next_alert_at, paused_seconds")
    raw = db.engine.raw_connection()
    started_at = time.perf_counter()
    try:
        cur = raw.cursor()
        if kind == "sqlite":
            cur.execute("PRAGMA synchronous=OFF")
            cur.executemany(f"INSERT INTO complaint ({cols}) VALUES ({','.join('?' * 30)})", complaints)
            cur.executemany(f"INSERT INTO sla_clock ({ck_cols}) VALUES ({','.join('?' * 14)})", clocks)
        else:
            with cur.copy(f"COPY complaint ({cols}) FROM STDIN") as copy:
                for r in complaints:
                    copy.write_row(r)
            with cur.copy(f"COPY sla_clock ({ck_cols}) FROM STDIN") as copy:
                for r in clocks:
                    copy.write_row(r)
        raw.commit()
        cur.execute("ANALYZE")
        raw.commit()
    finally:
        raw.close()
    print(f"  loaded {n:,} open complaints, {len(clocks):,} running clocks, {crossing_n:,} crossing a level "
          f"in {time.perf_counter() - started_at:.0f} s")


def run(kind, n):
    from domain import reminders
    from models.sla import SlaClock
    url = database_url(kind)
    if kind != "sqlite":
        ensure_pg_database(url)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
    with app.app_context():
        # Always a fresh load (15 s): the crossing share is relative to the time of loading.
        now = datetime.now(timezone.utc).replace(microsecond=0)
        db.session.remove()
        db.engine.dispose()
        reset(kind, url)
        from cli import upgrade_database
        upgrade_database()
        load(kind, n, now)
        at = now + timedelta(seconds=1)
        reminders.sweep(db.session, at - timedelta(hours=2))   # warm up (connection, statement cache)
        db.session.rollback()
        empty = []
        for _ in range(20):
            t = time.perf_counter()
            reminders.sweep(db.session, at - timedelta(hours=2))   # an hour-old state: nothing crossed then
            db.session.commit()
            empty.append((time.perf_counter() - t) * 1000)
        times = []
        for _ in range(3):
            t = time.perf_counter()
            result = reminders.sweep(db.session, at)
            db.session.flush()
            times.append((time.perf_counter() - t) * 1000)
            db.session.rollback()           # the same state again for the next round
        t = time.perf_counter()
        result = reminders.sweep(db.session, at)
        db.session.commit()
        times.append((time.perf_counter() - t) * 1000)
        after = []
        for _ in range(20):
            t = time.perf_counter()
            reminders.sweep(db.session, at + timedelta(seconds=1))
            db.session.commit()
            after.append((time.perf_counter() - t) * 1000)
        open_n = db.session.scalar(select(func.count(func.distinct(SlaClock.complaint_id))).where(
            SlaClock.stopped_at.is_(None)))
        print(f"{kind}: {open_n:,} open complaints")
        print(f"  sweep with ~5 % crossing: median {statistics.median(times):.0f} ms, max {max(times):.0f} ms "
              f"(budget 2000 ms) — {result.clocks:,} clocks moved on, {result.notices:,} notices, "
              f"{result.outbox:,} e-mail/robot messages queued")
        quiet = sorted(empty + after)
        print(f"  sweep with nothing to do: median {statistics.median(quiet):.2f} ms, "
              f"p95 {quiet[int(len(quiet) * 0.95) - 1]:.2f} ms, max {quiet[-1]:.2f} ms (budget 100 ms)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="sqlite")
    parser.add_argument("--complaints", type=int, default=200_000)
    args = parser.parse_args()
    for kind in (["sqlite", "postgresql"] if args.db == "both" else [args.db]):
        run(kind, args.complaints)


if __name__ == "__main__":
    main()
