"""The minute sweep (SPEC §4.4) and the delivery of e-mails and robot messages."""
from __future__ import annotations

import logging

from jobs import redis_connection, with_app

log = logging.getLogger(__name__)
CHUNK = 50


@with_app
def sweep() -> dict:
    """Reminders and digests in one transaction, then a delivery job per chunk of due messages.
    If enqueuing fails, the messages stay pending and the next sweep enqueues them."""
    from domain import channels, reminders
    from models import db, utcnow
    now = utcnow()
    result = reminders.sweep(db.session, now)
    digests = reminders.send_digests(db.session, now)
    weekly = reminders.send_weekly_ledger(db.session, now)
    db.session.commit()
    ids = channels.due_ids(db.session, now)
    db.session.commit()
    enqueued = 0
    if ids:
        try:
            queue = _queue()
            for i in range(0, len(ids), CHUNK):
                queue.enqueue(deliver, ids[i:i + CHUNK], job_timeout=CHUNK * (channels.TIMEOUT + 5))
                enqueued += 1
        except Exception as err:   # noqa: BLE001 — Redis trouble: the database keeps them pending
            log.warning("could not enqueue deliveries: %s", type(err).__name__)
    return {"clocks": result.clocks, "notices": result.notices, "outbox": result.outbox, "digests": digests, "weekly": weekly,
            "delivery_jobs": enqueued}


@with_app
def deliver(ids: list[int]) -> dict:
    from domain import channels
    from models import db
    return channels.deliver(db.session, ids)


def _queue():
    from rq import Queue, get_current_job
    job = get_current_job()
    return Queue("default", connection=job.connection if job is not None else redis_connection())
