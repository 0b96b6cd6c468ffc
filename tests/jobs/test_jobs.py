"""Jobs run on a real Redis through a real RQ worker (burst mode)."""
import importlib

from redis import Redis
from rq import Queue, SimpleWorker
from rq import cron as rq_cron

from jobs.housekeeping import HEARTBEAT_KEY


def test_cron_config_registers_the_heartbeat_every_minute():
    rq_cron._job_data_registry.clear()
    import jobs.cron
    importlib.reload(jobs.cron)
    registered = {d["name"]: d for d in rq_cron._job_data_registry}
    assert registered["heartbeat"]["interval"] == 60
    assert registered["heartbeat"]["func"].__name__ == "heartbeat"


def test_heartbeat_runs_through_a_worker_and_healthz_reports_it(app, redis_url, web):
    conn = Redis.from_url(redis_url)
    try:
        queue = Queue("default", connection=conn)
        job = queue.enqueue("jobs.housekeeping.heartbeat")
        SimpleWorker([queue], connection=conn).work(burst=True)
        job.refresh()
        assert job.is_finished, job.exc_info
        assert float(conn.get(HEARTBEAT_KEY)) == job.return_value()
        assert web.get("/healthz").json["jobs"]["heartbeat_age_s"] <= 5
    finally:
        conn.close()


def test_stale_pending_uploads_are_purged_through_a_worker(demo, redis_url):
    import io
    from datetime import timedelta
    from pathlib import Path

    from PIL import Image
    from sqlalchemy import select

    from domain import attachments
    from models import db, utcnow
    from models.attachment import Attachment
    from models.user import User
    from tests.conftest import UPLOAD_DIR

    clerk = db.session.scalar(select(User).where(User.username == "receiver"))
    buf = io.BytesIO()
    Image.new("RGB", (50, 50)).save(buf, "PNG")
    old = attachments.store(db.session, Path(UPLOAD_DIR), clerk, io.BytesIO(buf.getvalue()), "a.png", "t" * 32, now=utcnow())
    fresh = attachments.store(db.session, Path(UPLOAD_DIR), clerk, io.BytesIO(buf.getvalue()), "b.png", "u" * 32, now=utcnow())
    old.uploaded_at = utcnow() - timedelta(days=3)
    db.session.commit()
    old_file = attachments.file_path(Path(UPLOAD_DIR), old, "thumb")
    assert old_file.is_file()
    conn = Redis.from_url(redis_url)
    try:
        queue = Queue("default", connection=conn)
        job = queue.enqueue("jobs.housekeeping.purge_pending_uploads")
        SimpleWorker([queue], connection=conn).work(burst=True)
        job.refresh()
        assert job.is_finished, job.exc_info
        assert job.return_value() == 1
    finally:
        conn.close()
    db.session.expire_all()
    assert [a.name for a in db.session.scalars(select(Attachment))] == ["b.png"]
    assert not old_file.exists() and attachments.file_path(Path(UPLOAD_DIR), fresh).is_file()


def test_the_half_year_job_through_a_worker_makes_one_report(demo, redis_url):
    from sqlalchemy import func, select

    from models import db
    from models.complaint import Notification
    from models.report import HalfYearReport
    rq_cron._job_data_registry.clear()
    import jobs.cron
    importlib.reload(jobs.cron)
    registered = {d["name"]: d for d in rq_cron._job_data_registry}
    assert registered["half_year_summary"]["func"].__name__ == "half_year"
    conn = Redis.from_url(redis_url)
    try:
        queue = Queue("default", connection=conn)
        jobs_ = [queue.enqueue("jobs.reports.half_year", at) for at in
                 ("2026-11-30T01:00:00+00:00", "2026-12-01T01:00:00+00:00", "2026-12-01T01:10:00+00:00")]
        SimpleWorker([queue], connection=conn).work(burst=True)
        for job in jobs_:
            job.refresh()
            assert job.is_finished, job.exc_info
        assert [j.return_value() and j.return_value()["created"] for j in jobs_] == [None, True, False]
        db.session.expire_all()
        assert db.session.scalar(select(func.count()).select_from(HalfYearReport)) == 1
        assert db.session.scalar(select(func.count()).select_from(Notification)
                                 .where(Notification.kind == "report:halfyear")) == 4
    finally:
        conn.close()
