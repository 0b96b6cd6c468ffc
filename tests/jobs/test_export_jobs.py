"""Excel exports through real RQ workers (issue 17): 30,000 complaints exported by an `rq worker`
process while the page's progress fragment is polled; a worker killed mid-export leaves its job
running without a sign of life, which the page shows as failed, and 重新导出 writes it whole; the
hourly housekeeping purges day-old files."""
import os
import re
import subprocess
import sys
import time
from datetime import timedelta, timezone
from pathlib import Path

from openpyxl import load_workbook
from redis import Redis
from rq import Queue, SimpleWorker
from sqlalchemy import insert, select

from domain import exports
from models import db, utcnow
from models.complaint import Category, Complaint
from models.org import OrgUnit
from models.report import ExportJob
from models.user import User, UserRole
from tests.conftest import UPLOAD_DIR, Web

ROWS = 30_000
PROGRESS_RE = re.compile(r"正在写入：(\d+) / (\d+) 行")


def bulk_complaints(n: int) -> None:
    """`n` complaints written straight into the table (bench/scale.py's generator), as at scale."""
    from bench.scale import COLUMNS, generate
    receivers = [tuple(r) for r in db.session.execute(select(User.org_unit_id, User.id).join(UserRole)
                                                      .where(UserRole.role == "receiver"))]
    categories = list(db.session.scalars(select(Category.id).where(Category.parent_id.is_not(None))))
    departments = list(db.session.scalars(select(OrgUnit.id).where(OrgUnit.kind == "department")))
    rows = []
    for row in generate(n, receivers, categories, utcnow() - timedelta(minutes=5), departments):
        if isinstance(row, dict):
            break
        values = dict(zip(COLUMNS, row))
        for name in ("created_at", "updated_at"):
            values[name] = values[name].replace(tzinfo=timezone.utc)
        rows.append(values)
    db.session.execute(insert(Complaint.__table__), rows)
    db.session.commit()


def rq_worker(database_url, redis_url):
    env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url, "KESU_SECRET_KEY": "test",
           "KESU_UPLOAD_DIR": UPLOAD_DIR, "KESU_EXPORT_PROGRESS_EVERY": "1000"}
    return subprocess.Popen([os.path.join(os.path.dirname(sys.executable), "rq"), "worker", "--burst", "--url",
                             redis_url, "default"], env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def kill(worker) -> None:
    """The worker and its work horse (RQ forks the job into a session of its own), at once."""
    import psutil
    for proc in [*psutil.Process(worker.pid).children(recursive=True), psutil.Process(worker.pid)]:
        try:
            proc.kill()
        except psutil.NoSuchProcess:
            pass
    worker.wait(10)


def poll(web, job_url, until, seconds=120):
    """The progress fragment, as the page polls it, until `until(text)`; every page seen."""
    seen = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        text = web.get(job_url, htmx=True).get_data(as_text=True)
        seen.append(text)
        if until(text):
            return seen
        time.sleep(0.05)
    raise AssertionError(f"gave up waiting; last: {seen[-1] if seen else None}")


def progress(pages):
    return [tuple(map(int, m.groups())) for m in (PROGRESS_RE.search(p) for p in pages) if m]


def test_a_real_worker_shows_progress_and_a_killed_one_is_exported_again(make_app, company, redis_url, database_url):
    app = make_app(EXPORT_STALL_SECONDS=1)
    with app.app_context():
        bulk_complaints(ROWS)
        web = Web(app.test_client())
        assert web.login("quality").status_code == 303
        started = web.post("/complaints/exports", {"kind": "register", "sort": "old"})
        job_url = started.headers["Location"]
        folder = Path(UPLOAD_DIR) / exports.FOLDER
        before = set(folder.iterdir()) if folder.is_dir() else set()

        worker = rq_worker(database_url, redis_url)
        try:
            pages = poll(web, job_url, lambda text: any(0 < done for done, _total in progress([text])))
            kill(worker)                                     # mid-export

        finally:
            if worker.poll() is None:
                kill(worker)
        done, total = progress(pages)[-1]
        assert total == ROWS and 0 < done < ROWS
        db.session.expire_all()
        job = db.session.scalars(select(ExportJob)).one()
        assert job.status == "running" and job.rows_done < ROWS and job.file_key is None
        assert set(folder.iterdir()) - before, "the killed worker left its temporary files"
        time.sleep(1.2)                                      # EXPORT_STALL_SECONDS without a sign of life
        lost = web.get(job_url, htmx=True).get_data(as_text=True)
        assert "导出没有完成，请重新导出。" in lost and "every 1s" not in lost

        again = web.post(job_url + "/again")
        assert again.status_code == 303
        new_url = again.headers["Location"]
        worker = rq_worker(database_url, redis_url)
        try:
            pages = poll(web, new_url, lambda text: "已完成" in text)
            worker.wait(60)
        finally:
            if worker.poll() is None:
                kill(worker)
        seen = progress(pages)
        assert any(0 < done < total for done, total in seen), seen       # the bar moved on the way
        assert [d for d, _t in seen] == sorted(d for d, _t in seen)
        assert f"共 {ROWS} 行" in pages[-1]
        link = re.search(r'href="(/complaints/exports/\d+/download)"', pages[-1]).group(1)
        resp = web.get(link)
        assert resp.status_code == 200
        path = folder / "check.xlsx"
        path.write_bytes(resp.data)
        book = load_workbook(path, read_only=True)
        try:
            sheet = book.active
            first = next(sheet.iter_rows(min_row=2, max_row=2, values_only=True))
            assert sheet.max_row == ROWS + 1 and first[0] == db.session.scalar(
                select(Complaint.number).order_by(Complaint.created_at, Complaint.id).limit(1))
        finally:
            book.close()
        path.unlink()

        # a day later the hourly housekeeping takes the file and what the killed worker left
        db.session.expire_all()
        finished = db.session.scalars(select(ExportJob).where(ExportJob.status == "done")).one()
        assert exports.purge(db.session, folder, utcnow() + 2 * exports.KEEP) >= 2
        db.session.commit()
        assert set(folder.iterdir()) <= before and db.session.get(ExportJob, finished.id).file_key is None


def test_the_hourly_housekeeping_purges_day_old_exports_through_a_worker(demo, redis_url):
    from tests.builders import register, user
    register(db.session)
    db.session.commit()
    folder = Path(UPLOAD_DIR) / exports.FOLDER
    old_job = exports.create(db.session, user(db.session, "quality"), "register", {}, utcnow() - timedelta(days=2))
    db.session.commit()
    old_job = exports.run(db.session, old_job.id, folder, clock=lambda: utcnow() - timedelta(days=2))
    new_job = exports.create(db.session, user(db.session, "quality"), "register", {}, utcnow())
    db.session.commit()
    new_job = exports.run(db.session, new_job.id, folder, clock=utcnow)
    old_file, new_file = exports.file_path(folder, old_job), exports.file_path(folder, new_job)
    stamp = (utcnow() - timedelta(days=2)).timestamp()
    os.utime(old_file, (stamp, stamp))
    conn = Redis.from_url(redis_url)
    try:
        queue = Queue("default", connection=conn)
        job = queue.enqueue("jobs.housekeeping.purge_pending_uploads")
        SimpleWorker([queue], connection=conn).work(burst=True)
        job.refresh()
        assert job.is_finished, job.exc_info
    finally:
        conn.close()
    db.session.expire_all()
    assert not old_file.exists() and new_file.exists()
    assert db.session.get(ExportJob, old_job.id).file_key is None
    assert db.session.get(ExportJob, new_job.id).file_key == new_job.file_key
