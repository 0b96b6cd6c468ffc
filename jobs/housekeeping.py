"""Small jobs that keep the installation healthy."""
from __future__ import annotations

import time

from jobs import redis_connection

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
