"""The minute sweep (SPEC §4.4) and the delivery of e-mails and robot messages."""
from __future__ import annotations

import logging
import time

from jobs import redis_connection, with_app, wording

log = logging.getLogger(__name__)
DRAIN_KEY = "kesu:outbox:drain"   # set while a drain is queued or running
DRAIN_TTL = 90                    # s: a killed worker's drain is replaced by a sweep within this and a minute
DRAIN_SECONDS = 50                # a drain's time budget; then it hands over to a fresh job
DRAIN_TIMEOUT = 180               # RQ's limit: the budget plus the e-mail or robot call in flight


@with_app
def sweep() -> dict:
    """Reminders and digests in one transaction, then a delivery drain when messages are due and
    none is queued or running already. If enqueuing fails, the messages stay pending and the next
    sweep enqueues the drain."""
    from domain import delivery, meetings, reminders
    from models import db, utcnow
    now = utcnow()
    result = reminders.sweep(db.session, now)
    meeting_notices = meetings.remind(db.session, now)
    digests = reminders.send_digests(db.session, now)
    weekly = reminders.send_weekly_ledger(db.session, now)
    db.session.commit()
    due = bool(delivery.due_ids(db.session, now, limit=1))
    db.session.commit()
    enqueued = 0
    if due:
        try:
            enqueued = int(_start_drain())
        except Exception as err:   # noqa: BLE001 — Redis trouble: the database keeps them pending
            log.warning("could not enqueue deliveries: %s", type(err).__name__)
    return {"clocks": result.clocks, "notices": result.notices, "outbox": result.outbox, "digests": digests, "weekly": weekly,
            "meetings": meeting_notices,
            "delivery_jobs": enqueued}


@with_app
def drain() -> dict:
    """Deliver due messages until none is left or the time budget is spent, then hand over to a
    fresh drain job (other jobs get the worker in between). Several may run side by side: each
    message is claimed by one."""
    from domain import delivery
    from models import db, utcnow
    conn = _connection()
    conn.set(DRAIN_KEY, "1", ex=DRAIN_TTL)     # running now: the sweep adds no other
    result = delivery.drain(db.session, utcnow, deadline=time.monotonic() + DRAIN_SECONDS, wording=wording())
    if not result["done"]:
        conn.set(DRAIN_KEY, "1", ex=DRAIN_TTL)
        _enqueue_drain()
        return {**result, "continued": True}
    conn.delete(DRAIN_KEY)
    # A sweep that committed new messages while this drain was finishing saw the key and left
    # them to it: look once more. Not when a channel is unreachable — the next sweep retries it.
    if not result["down"] and delivery.due_ids(db.session, utcnow(), limit=1):
        db.session.commit()
        return {**result, "continued": _start_drain()}
    db.session.commit()
    return {**result, "continued": False}


@with_app
def deliver(ids: list[int]) -> dict:
    """Given messages (jobs enqueued before the drain existed still find this)."""
    from domain import delivery
    from models import db, utcnow
    return delivery.deliver(db.session, ids, utcnow(), wording())


def _start_drain() -> bool:
    """Enqueue a drain unless one is queued or running (the key expires if its worker is killed)."""
    if not _connection().set(DRAIN_KEY, "1", nx=True, ex=DRAIN_TTL):
        return False
    try:
        _enqueue_drain()
    except BaseException:
        _connection().delete(DRAIN_KEY)
        raise
    return True


def _enqueue_drain():
    from rq import Queue
    Queue("default", connection=_connection()).enqueue(drain, job_timeout=DRAIN_TIMEOUT)


def _connection():
    from rq import get_current_job
    job = get_current_job()
    return job.connection if job is not None else redis_connection()
