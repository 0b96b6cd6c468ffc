"""Small jobs that keep the installation healthy."""
from __future__ import annotations

import time

from jobs import redis_connection, with_app

HEARTBEAT_KEY = "kesu:heartbeat"


def heartbeat() -> float:
    """Run by the cron scheduler every minute through the worker: proves the whole chain
    (scheduler → Redis → worker) is alive. /healthz reports its age."""
    from rq import get_current_job

    job = get_current_job()
    conn = job.connection if job is not None else redis_connection()
    now = time.time()
    conn.set(HEARTBEAT_KEY, now, ex=3600)
    return now


@with_app
def purge_pending_uploads(older_than_hours: int = 48) -> int:
    """Photos uploaded with a form that was never registered (the clerk walked away): after two
    days they are removed, rows and files. Claimed attachments are never touched."""
    from datetime import timedelta
    from pathlib import Path

    from flask import current_app
    from sqlalchemy import select

    from domain import attachments
    from models import db, utcnow
    from models.attachment import Attachment

    root = Path(current_app.config["UPLOAD_DIR"])
    cutoff = utcnow() - timedelta(hours=older_than_hours)
    stale = db.session.scalars(select(Attachment).where(
        Attachment.complaint_id.is_(None), Attachment.uploaded_at < cutoff).limit(1000)).all()
    for row in stale:
        attachments.discard(db.session, root, row)
    db.session.commit()
    from jobs.exports import purge as purge_exports
    purge_exports()          # and Excel exports more than a day old (jobs.exports), in the same hourly run
    return len(stale)
