"""Delivery of a backlog (issue 13): 50,000 pending messages — 40,000 e-mails, then 10,000 robot
messages across WeCom, DingTalk and Feishu, all due at the same moment — drained by the real
jobs (the sweep enqueues a drain, which hands over to a fresh drain every 50 s) in real RQ workers,
into a real SMTP server (aiosmtpd) and a local HTTP server for the robots, both in this process.

    .venv/bin/python bench/deliver.py                    # SQLite (file in /tmp)
    .venv/bin/python bench/deliver.py --db postgresql    # PostgreSQL at BENCH_DATABASE_URL (own database, dropped after)
    .venv/bin/python bench/deliver.py --db both --workers 2

Prints the time to drain everything, messages per minute overall and per channel, and how long the
first robot message waited (from the start of the sweep job).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine, func, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from app import create_app  # noqa: E402
from bench.scale import PG_DEFAULT, reset  # noqa: E402
from models import db  # noqa: E402

KINDS = ("wecom", "dingtalk", "feishu")


def database_url(kind):
    if kind == "sqlite":
        return "sqlite:////tmp/kesu-deliver.db"
    server = make_url(os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL") or PG_DEFAULT)
    return server.set(database="kesu_deliver").render_as_string(hide_password=False)


def drop_pg(url):
    admin = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    admin.dispose()


class Arrivals:
    """What the SMTP server and the HTTP server received: (wall time, channel), and the SMTP connections."""

    def __init__(self):
        self.lock = threading.Lock()
        self.times: dict[str, list[float]] = {}
        self.peers: set = set()

    def add(self, channel, peer=None):
        at = time.time()
        with self.lock:
            self.times.setdefault(channel, []).append(at)
            if peer is not None:
                self.peers.add(peer)

    def count(self):
        with self.lock:
            return sum(len(v) for v in self.times.values())


def start_smtp(arrivals):
    from aiosmtpd.controller import Controller

    class Sink:
        async def handle_DATA(self, server, session, envelope):
            arrivals.add("email", session.peer)
            return "250 OK"

    with __import__("socket").socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    controller = Controller(Sink(), hostname="127.0.0.1", port=port)
    controller.start()
    return controller, port


def start_http(arrivals):
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            arrivals.add(self.path.strip("/").split("?")[0])
            data = json.dumps({"errcode": 0, "code": 0, "errmsg": "ok"}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def load(kind, emails, robots, smtp_port, http_url, now):
    """The demo company with an address for everyone and a robot (of the three kinds in turn) for
    every department and store, 2,000 open complaints with their clocks (none crossing a level
    during the bench), then the backlog: reminders about those clocks, all due at `now`."""
    from bench.sweep import load as load_complaints
    from domain import channels
    from models.org import OrgUnit
    from models.sla import SlaClock
    from models.user import User
    load_complaints(kind, 2000, now, crossing=0.0)
    units = db.session.scalars(select(OrgUnit).where(OrgUnit.kind.in_(("department", "store"))).order_by(OrgUnit.id)).all()
    for i, unit in enumerate(units):
        unit.robot_kind = KINDS[i % len(KINDS)]
        unit.robot_url = f"{http_url}/{unit.robot_kind}"
        unit.robot_secret = None if unit.robot_kind == "wecom" else "SEC-bench"
    admin = db.session.scalar(select(User).where(User.username == "admin"))
    channels.set_smtp_config(db.session, admin, host="127.0.0.1", port=str(smtp_port), security="none", username="",
                             password="", sender="kesu@example.com", sender_name="", now=now)
    db.session.commit()
    users = db.session.scalars(select(User.id).where(User.email.is_not(None))).all()
    clocks = db.session.execute(select(SlaClock.complaint_id, SlaClock.kind)).all()
    rng = random.Random(13)
    at = now.replace(tzinfo=None)
    rows = []
    for i in range(emails):          # e-mails first, then robots: the wall the robots used to wait behind
        complaint, clock = rng.choice(clocks)
        rows.append(("email", f"bench:e{i}", f"sla:warn:{clock}", rng.choice(users), None, complaint, at))
    for i in range(robots):
        complaint, clock = rng.choice(clocks)
        unit = units[i % len(units)]
        rows.append((unit.robot_kind, f"bench:r{i}", f"sla:warn:{clock}", None, unit.id, complaint, at))
    cols = "channel, dedupe_key, kind, user_id, unit_id, complaint_id, next_attempt_at, created_at, status, attempts"
    raw = db.engine.raw_connection()
    try:
        cur = raw.cursor()
        if kind == "sqlite":
            cur.executemany(f"INSERT INTO outbox ({cols}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', 0)",
                            [r + (r[-1],) for r in rows])
        else:
            with cur.copy(f"COPY outbox ({cols}) FROM STDIN") as copy:
                for r in rows:
                    copy.write_row(r + (r[-1], "pending", 0))
        raw.commit()
        cur.execute("ANALYZE")
        raw.commit()
    finally:
        raw.close()
    return {k: sum(1 for r in rows if r[0] == k) for k in ("email", *KINDS)}


def run(kind, emails, robots, workers):
    from jobs.localredis import redis_binary
    from models.sla import Outbox
    url = database_url(kind)
    arrivals = Arrivals()
    controller, smtp_port = start_smtp(arrivals)
    http = start_http(arrivals)
    with __import__("socket").socket() as s:
        s.bind(("127.0.0.1", 0))
        redis_port = s.getsockname()[1]
    redis = subprocess.Popen([redis_binary(), "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "",
                              "--appendonly", "no"], stdout=subprocess.DEVNULL)
    redis_url = f"redis://127.0.0.1:{redis_port}/0"
    procs = []
    try:
        reset(kind, url)
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
        with app.app_context():
            from cli import upgrade_database
            upgrade_database()
            now = datetime.now(timezone.utc).replace(microsecond=0)
            t = time.perf_counter()
            per_channel = load(kind, emails, robots, smtp_port, f"http://127.0.0.1:{http.server_address[1]}", now)
            print(f"{kind}: {sum(per_channel.values()):,} messages pending "
                  f"({', '.join(f'{k} {n:,}' for k, n in per_channel.items())}), loaded in {time.perf_counter() - t:.0f} s")
            db.session.remove()
            db.engine.dispose()

        from redis import Redis
        from rq import Queue
        from rq.job import Job
        conn = Redis.from_url(redis_url)
        for _ in range(100):
            try:
                conn.ping()
                break
            except Exception:   # noqa: BLE001
                time.sleep(0.05)
        queue = Queue("default", connection=conn)
        sweep = queue.enqueue("jobs.reminders.sweep")
        for _ in range(workers - 1):      # more drains side by side
            queue.enqueue("jobs.reminders.drain", job_timeout=180)
        env = {**os.environ, "DATABASE_URL": url, "REDIS_URL": redis_url, "KESU_SECRET_KEY": "bench",
               "KESU_UPLOAD_DIR": tempfile.mkdtemp(prefix="kesu-bench-uploads-")}
        rq = os.path.join(os.path.dirname(sys.executable), "rq")
        for _ in range(workers):
            procs.append(subprocess.Popen([rq, "worker", "--burst", "--quiet", "--url", redis_url, "default"], env=env))
        total = sum(per_channel.values())
        last, started = -1, None
        while any(p.poll() is None for p in procs):
            time.sleep(1)
            if started is None:
                job = Job.fetch(sweep.id, connection=conn)
                started = job.started_at.replace(tzinfo=timezone.utc).timestamp() if job.started_at else None
            n = arrivals.count()
            if n != last and int(time.time()) % 15 == 0:
                print(f"  … {n:,} delivered")
            last = n
        conn.close()

        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
        with app.app_context():
            states = dict(db.session.execute(select(Outbox.status, func.count()).group_by(Outbox.status)).all())
            db.session.remove()
            db.engine.dispose()
        times = arrivals.times
        end = max(max(v) for v in times.values())
        elapsed = end - started
        print(f"  outbox after: {states} (the sweep added its own digests); received: "
              f"{', '.join(f'{k} {len(v):,}' for k, v in sorted(times.items()))} (more than sent: "
              f"{arrivals.count() - states.get('sent', 0):,}); {len(arrivals.peers):,} SMTP connections; "
              f"{workers} worker(s)")
        print(f"  drained {total:,} in {elapsed:.1f} s = {total / elapsed * 60:,.0f} messages/min "
              f"(from the start of the sweep job to the last message received)")
        for channel in ("email", *KINDS):
            v = sorted(times.get(channel, []))
            if v:
                span = v[-1] - started
                print(f"    {channel:8} {len(v):6,} in {span:6.1f} s = {len(v) / span * 60:8,.0f}/min; "
                      f"first after {v[0] - started:.2f} s")
        first_robot = min(min(times[k]) for k in KINDS if k in times)
        print(f"  first robot message waited {first_robot - started:.2f} s "
              f"(first e-mail {min(times['email']) - started:.2f} s)")
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait(10)
        redis.terminate()
        redis.wait(10)
        controller.stop()
        http.shutdown()
        http.server_close()
        if kind != "sqlite":
            drop_pg(url)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="sqlite")
    parser.add_argument("--emails", type=int, default=40_000)
    parser.add_argument("--robots", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    for kind in (["sqlite", "postgresql"] if args.db == "both" else [args.db]):
        run(kind, args.emails, args.robots, args.workers)


if __name__ == "__main__":
    main()
