"""The sweep and the deliveries through real RQ workers on a real Redis: end to end into the SMTP
sink, a worker killed mid-sweep, and Redis stopped while people keep working."""
import os
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from redis import Redis
from rq import Queue, SimpleWorker
from rq.job import Job
from sqlalchemy import func, select, text

from domain import channels, delivery
from jobs.localredis import redis_binary
from models import db, utcnow
from models.complaint import Notification
from models.sla import Outbox, SlaClock
from models.user import User
from tests.builders import register
from tests.conftest import UPLOAD_DIR, Web, free_port
from tests.domain.test_channels import arrivals  # noqa: F401 — a fixture
from tests.jobs.test_export_jobs import kill

DUE_NOW = timedelta(hours=25)      # registered 25 h ago: the 24 h dispatch clock is due, not escalated


def user(name):
    return db.session.scalar(select(User).where(User.username == name))


def overdue_complaint():
    c = register(db.session, at=utcnow() - DUE_NOW)
    db.session.commit()
    return c


def dispatch_due(c):
    k = db.session.scalar(select(SlaClock).where(SlaClock.complaint_id == c.id, SlaClock.kind == "dispatch"))
    db.session.expire_all()
    names = db.session.scalars(select(User.username).join(Notification, Notification.user_id == User.id)
                               .where(Notification.dedupe_key.like(f"r{k.id}:due:%"))).all()
    return sorted(names)


def run_sweep(redis_url):
    conn = Redis.from_url(redis_url)
    try:
        queue = Queue("default", connection=conn)
        job = queue.enqueue("jobs.reminders.sweep")
        SimpleWorker([queue], connection=conn).work(burst=True)   # also runs the delivery jobs it enqueues
        job.refresh()
        assert job.is_finished, job.exc_info
        return job.return_value()
    finally:
        conn.close()


def test_the_cron_runs_the_sweep_every_minute():
    import importlib

    from rq import cron as rq_cron
    rq_cron._job_data_registry.clear()
    import jobs.cron
    importlib.reload(jobs.cron)
    registered = {d["name"]: d for d in rq_cron._job_data_registry}
    assert registered["sla_sweep"]["interval"] == 60 and registered["sla_sweep"]["func"].__name__ == "sweep"


def test_an_overdue_complaint_reminds_in_app_and_by_e_mail_once(demo, redis_url, smtp_sink):
    channels.set_smtp_config(db.session, user("admin"), host="127.0.0.1", port=str(smtp_sink.port),
                             security="none", username="", password="", sender="kesu@example.com",
                             sender_name="", now=utcnow())
    user("quality").email = "li.jing@example.com"
    c = overdue_complaint()
    first = run_sweep(redis_url)
    assert first["notices"] >= 3 and first["delivery_jobs"] >= 1
    assert dispatch_due(c) == ["quality", "quality2", "receiver"]
    subjects = [m["Subject"] for _to, m in smtp_sink.messages]
    assert f"【客诉提醒】{c.number} 分派已到期" in subjects
    assert db.session.scalar(select(func.count()).select_from(Outbox).where(Outbox.status != "sent")) == 0
    mails = len(smtp_sink.messages)
    again = run_sweep(redis_url)
    assert again["notices"] == 0 and again["delivery_jobs"] == 0
    assert len(smtp_sink.messages) == mails and dispatch_due(c) == ["quality", "quality2", "receiver"]


def test_the_sweep_reminds_a_late_meeting_action_once(demo, redis_url, smtp_sink):
    """The monthly meeting's reminders run in the same minute sweep (issue 17): a late action tells
    its owner and quality once, in-app and by e-mail."""
    from domain import meetings
    channels.set_smtp_config(db.session, user("admin"), host="127.0.0.1", port=str(smtp_sink.port),
                             security="none", username="", password="", sender="kesu@example.com",
                             sender_name="", now=utcnow())
    user("handler2").email = "liu@example.com"
    now, q = utcnow(), user("quality")
    m, _new = meetings.open_meeting(db.session, q, "2026-11", now=now)
    item = meetings.act(db.session, q, m, "add_item", meetings.STEPS["add_item"].fields(title="门店卫生"),
                        version=m.version, now=now)
    a = meetings.act(db.session, q, m, "add_action", meetings.STEPS["add_action"].fields(
        item_id=item.id, text="试吃台每日消毒", owner_user_id=user("handler2").id, due=now.date()), version=m.version, now=now)
    a.due = now.date() - timedelta(days=3)          # as if decided weeks ago
    db.session.commit()
    first = run_sweep(redis_url)
    late = db.session.scalars(select(User.username).join(Notification, Notification.user_id == User.id)
                              .where(Notification.kind == "meeting:action_late")).all()
    assert sorted(late) == ["handler2", "quality", "quality2"] and first["meetings"] == 3   # the owner, quality
    assert "【专题会措施】已逾期：试吃台每日消毒" in [m["Subject"] for _to, m in smtp_sink.messages]
    assert run_sweep(redis_url)["meetings"] == 0


def test_the_delivery_job_writes_in_each_recipient_s_language_with_the_app_s_address(app, demo, redis_url,
                                                                                     smtp_sink):
    """domain.messages knows no Flask (issue 14): the job gives it the app's BASE_URL and the
    catalogues — the English-speaking quality officer gets English, the receiver Chinese."""
    app.config["BASE_URL"] = "https://kesu.example.com/"
    channels.set_smtp_config(db.session, user("admin"), host="127.0.0.1", port=str(smtp_sink.port),
                             security="none", username="", password="", sender="kesu@example.com",
                             sender_name="", now=utcnow())
    user("quality").email, user("quality").locale = "li.jing@example.com", "en"
    user("receiver").email = "wang.fang@example.com"
    c = overdue_complaint()
    run_sweep(redis_url)
    english = [m for to, m in smtp_sink.messages if to == ["li.jing@example.com"]]
    chinese = [m for to, m in smtp_sink.messages if to == ["wang.fang@example.com"]]
    assert english and all(m["Subject"].startswith(f"[Kesu reminder] {c.number} ") for m in english)
    assert f"【客诉提醒】{c.number} 分派已到期" in [m["Subject"] for m in chinese]
    for mail in english + chinese:
        assert f"https://kesu.example.com/complaints/{c.id}" in mail.get_body(("plain",)).get_content()


def _hold_write_lock(database_url):
    """Another transaction holding what the sweep must write to: the sweep blocks mid-job."""
    if database_url.startswith("sqlite"):
        import sqlite3
        conn = sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        return conn
    import psycopg
    conn = psycopg.connect(database_url.replace("postgresql+psycopg://", "postgresql://"))
    conn.execute("LOCK TABLE notification IN SHARE ROW EXCLUSIVE MODE")
    return conn


def test_a_worker_killed_mid_sweep_leaves_nothing_and_the_next_sweep_sends_once(demo, redis_url, database_url):
    c = overdue_complaint()
    conn = Redis.from_url(redis_url)
    lock = _hold_write_lock(database_url)
    env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url, "KESU_SECRET_KEY": "test",
           "KESU_UPLOAD_DIR": UPLOAD_DIR}
    worker = subprocess.Popen([os.path.join(os.path.dirname(sys.executable), "rq"), "worker", "--burst", "--url",
                               redis_url, "default"], env=env, start_new_session=True,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        job = Queue("default", connection=conn).enqueue("jobs.reminders.sweep")
        for _ in range(200):
            if job.get_status(refresh=True) == "started":
                break
            time.sleep(0.05)
        assert job.get_status() == "started"
        time.sleep(1.5)                     # well into the job: waiting for the write lock
        kill(worker)                        # and its work horse, which RQ starts in a session of its own
        if not database_url.startswith("sqlite"):
            # the killed worker's server process is still queued for the lock: end it too
            lock.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() "
                         "AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'")
    finally:
        if worker.poll() is None:
            kill(worker)
        lock.rollback() if hasattr(lock, "rollback") and not database_url.startswith("sqlite") else lock.execute("ROLLBACK")
        lock.close()
    assert dispatch_due(c) == []            # the killed sweep committed nothing
    assert Job.fetch(job.id, connection=conn).get_status() != "finished"
    conn.close()
    run_sweep(redis_url)
    run_sweep(redis_url)
    assert dispatch_due(c) == ["quality", "quality2", "receiver"]


@pytest.fixture
def own_redis():
    """A Redis of this test's own, to stop and start again on the same port."""
    port = free_port()
    url = f"redis://127.0.0.1:{port}/0"

    class Server:
        proc = None

        def start(self):
            self.proc = subprocess.Popen([redis_binary(), "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                          "--appendonly", "no"], stdout=subprocess.DEVNULL)
            for _ in range(100):
                try:
                    Redis.from_url(url).ping()
                    return
                except Exception:   # noqa: BLE001
                    time.sleep(0.05)
            raise RuntimeError("redis did not start")

        def stop(self):
            self.proc.terminate()
            self.proc.wait(10)

    server = Server()
    server.url = url
    server.start()
    yield server
    if server.proc.poll() is None:
        server.stop()


def test_with_redis_down_intake_and_workflow_work_and_reminders_catch_up(make_app, company, own_redis):
    app = make_app(REDIS_URL=own_redis.url, RATELIMIT_STORAGE_URI=own_redis.url)
    with app.app_context():
        own_redis.stop()
        from tests.builders import register_on_screen, step, unit
        clerk = Web(app.test_client())
        assert clerk.login("receiver").status_code == 303
        c = register_on_screen(clerk)                 # intake with Redis down
        quality = Web(app.test_client())
        assert quality.login("quality").status_code == 303
        assert step(quality, c, "dispatch", unit_id=unit(db.session, "生产部").id).status_code == 204
        db.session.refresh(c)
        assert c.stage == "investigating"
        # Two and a half days pass with Redis down (the clock's times are stored: move them back
        # 61 h — past the 48 h limit and its 60 h escalation).
        k = db.session.scalar(select(SlaClock).where(SlaClock.complaint_id == c.id, SlaClock.kind == "initial_cause"))
        for name in ("started_at", "deadline", "warn_at", "escalate_at", "next_alert_at"):
            setattr(k, name, getattr(k, name) - timedelta(hours=61))
        db.session.commit()
        own_redis.start()
        result = run_sweep(own_redis.url)
        assert result["notices"] > 0
        names = db.session.scalars(select(User.username).join(Notification, Notification.user_id == User.id)
                                   .where(Notification.dedupe_key.like(f"r{k.id}:due:%"))).all()
        assert sorted(names) == ["prod_head", "receiver"]
        assert sorted(db.session.scalars(select(User.username).join(Notification, Notification.user_id == User.id)
                                         .where(Notification.dedupe_key.like(f"r{k.id}:escalate:%")))) == ["manager", "vp"]


# --- a backlog (issue 13): one drain per sweep, handed over when its time is up ---

@pytest.fixture
def outbox_ready(demo, smtp_sink, webhook_server):
    """SMTP to the sink, a robot of each kind to the local HTTP server, a complaint with nothing due."""
    from sqlalchemy import delete

    from tests.domain.test_channels import ROBOT_UNITS, robot_on, smtp_on
    smtp_on(db.session, smtp_sink.port)
    for kind, unit_name in ROBOT_UNITS.items():
        robot_on(db.session, unit_name, kind, f"{webhook_server.url}/{kind}", None if kind == "wecom" else "SEC-test")
    register(db.session, at=utcnow())
    db.session.execute(delete(Outbox))
    db.session.commit()


def statuses():
    db.session.expire_all()
    return dict(db.session.execute(select(Outbox.status, func.count()).group_by(Outbox.status)).all())


def test_more_than_a_thousand_due_messages_go_out_in_one_sweeps_drain(outbox_ready, arrivals, redis_url, smtp_sink,
                                                                     webhook_server):
    from tests.domain.test_channels import backlog
    backlog(db.session, utcnow() - timedelta(minutes=1), emails=1200, wecom=100, dingtalk=100, feishu=100)
    result = run_sweep(redis_url)
    assert result["delivery_jobs"] == 1
    assert statuses() == {"sent": 1500}
    assert len(smtp_sink.messages) == 1200 and len(webhook_server.requests) == 300     # each once
    assert len({peer for _at, peer in smtp_sink.arrivals}) == 1200 // delivery.BATCH     # one per batch
    conn = Redis.from_url(redis_url)
    assert not conn.exists("kesu:outbox:drain")      # finished: the next sweep may start one
    conn.close()


def test_a_drain_out_of_time_hands_over_and_sweeps_meanwhile_add_none(outbox_ready, redis_url, smtp_sink,
                                                                      monkeypatch):
    import jobs.reminders
    from rq.registry import FinishedJobRegistry

    from tests.domain.test_channels import backlog
    monkeypatch.setattr(jobs.reminders, "DRAIN_SECONDS", 0.05)
    backlog(db.session, utcnow() - timedelta(minutes=1), emails=300)
    conn = Redis.from_url(redis_url)
    queue = Queue("default", connection=conn)
    first, second = queue.enqueue("jobs.reminders.sweep"), queue.enqueue("jobs.reminders.sweep")
    SimpleWorker([queue], connection=conn).work(burst=True)
    assert first.return_value()["delivery_jobs"] == 1 and second.return_value()["delivery_jobs"] == 0
    drains = [Job.fetch(i, connection=conn) for i in FinishedJobRegistry(queue=queue).get_job_ids()]
    drains = [j for j in drains if j.func_name == "jobs.reminders.drain"]
    assert len(drains) > 1 and sum(j.return_value()["sent"] for j in drains) == 300
    assert statuses() == {"sent": 300} and len(smtp_sink.messages) == 300
    assert not conn.exists("kesu:outbox:drain")
    conn.close()


def test_a_killed_drain_is_replaced_by_a_sweep_once_its_mark_expires(outbox_ready, redis_url, smtp_sink):
    from jobs.reminders import DRAIN_KEY, DRAIN_TTL
    from tests.domain.test_channels import backlog
    backlog(db.session, utcnow() - timedelta(minutes=1), emails=10)
    conn = Redis.from_url(redis_url)
    conn.set(DRAIN_KEY, "1", ex=DRAIN_TTL)       # a drain whose worker was killed
    assert run_sweep(redis_url)["delivery_jobs"] == 0 and statuses() == {"pending": 10}
    assert 0 < conn.ttl(DRAIN_KEY) <= DRAIN_TTL
    conn.delete(DRAIN_KEY)                       # … DRAIN_TTL seconds later
    assert run_sweep(redis_url)["delivery_jobs"] == 1 and statuses() == {"sent": 10}
    conn.close()
