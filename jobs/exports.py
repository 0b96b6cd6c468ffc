"""Excel exports (SPEC §8): the worker writes an ExportJob's file (domain.exports.run) under the
upload directory's exports/ folder, with a heartbeat in Redis beside each progress write — the
page tells a live job from one whose worker died by it (domain.exports.shown_status).

The page enqueues `export(job_id)`; when Redis is down it calls it in the request instead.
"""
from __future__ import annotations

import time
from datetime import datetime, timezone
from pathlib import Path

from jobs import redis_connection, with_app

BEAT_KEY = "kesu:export-beat:{}"
TIMEOUT = 3600               # the worker gives up on one export after an hour
PROGRESS_EVERY = 5000        # rows between progress writes (KESU_EXPORT_PROGRESS_EVERY)


def folder() -> Path:
    from flask import current_app

    from domain.exports import FOLDER
    return Path(current_app.config["UPLOAD_DIR"]) / FOLDER


def _redis():
    from flask import current_app
    from rq import get_current_job
    job = get_current_job()
    return job.connection if job is not None else redis_connection(current_app.config["REDIS_URL"])


@with_app
def export(job_id: int) -> str | None:
    """Write export `job_id` (once: a re-run of a job already claimed does nothing). Returns its status."""
    from flask import current_app

    from domain import exports
    from jobs import wording
    from models import db, utcnow
    from models.report import ExportJob
    from models.user import User
    job = db.session.get(ExportJob, job_id)
    if job is None:
        return None
    owner = db.session.get(User, job.user_id)
    translate = wording().translator(owner.locale if owner is not None else "zh_CN")
    key = BEAT_KEY.format(job_id)

    def beat(_rows: int) -> None:
        try:
            _redis().set(key, time.time(), ex=86400)
        except Exception:   # noqa: BLE001 — Redis away (the job runs in a request): no heartbeat
            pass
    every = int(current_app.config.get("EXPORT_PROGRESS_EVERY") or PROGRESS_EVERY)
    done = exports.run(db.session, job_id, folder(), clock=utcnow, _=translate, beat=beat, every=every)
    return done.status if done is not None else None


def enqueue(job_id: int, redis_url: str) -> None:
    """Hand export `job_id` to the worker (raises when Redis cannot be reached)."""
    from rq import Queue
    Queue("default", connection=redis_connection(redis_url)).enqueue(
        export, job_id, job_id=f"export-{job_id}", job_timeout=TIMEOUT, result_ttl=3600, failure_ttl=86400)


def last_beat(job_id: int, redis_url: str) -> datetime | None:
    """When the worker last showed progress on `job_id`, or None (none yet, or Redis away)."""
    try:
        value = redis_connection(redis_url).get(BEAT_KEY.format(job_id))
    except Exception:   # noqa: BLE001 — Redis away: judged by the database alone
        return None
    return datetime.fromtimestamp(float(value), timezone.utc) if value else None


@with_app
def purge() -> int:
    """Export files more than a day old removed (run with the hourly housekeeping)."""
    from domain import exports
    from models import db, utcnow
    removed = exports.purge(db.session, folder(), utcnow())
    db.session.commit()
    return removed
