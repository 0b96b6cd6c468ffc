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
