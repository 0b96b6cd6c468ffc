"""The cron scheduler (`python -m jobs.scheduler`): RQ's CronScheduler with the jobs of
jobs/cron.py, kept alive through a Redis outage.

`rq cron` ends on the first ConnectionError of its loop (about 18 s into an outage, at its
next heartbeat). This one logs the outage, waits (1, 2, 4 … at most 10 s) and carries on where it
was: a job whose interval passed during the outage is enqueued as soon as Redis answers, once
(the sweep's ledger makes the reminders it then writes exactly-once).
"""
from __future__ import annotations

import logging
import os
import time

from redis.exceptions import ConnectionError as RedisConnectionError, TimeoutError as RedisTimeout
from rq.cron import CronScheduler

log = logging.getLogger("kesu.scheduler")
OUTAGE = (RedisConnectionError, RedisTimeout, OSError)
MAX_WAIT = 10.0


class StopRequested(Exception):
    pass


class Scheduler(CronScheduler):
    def _request_stop(self, signum, frame):   # RQ's own exception is private; ours ends the loop too
        raise StopRequested()

    def _retrying(self, step) -> None:
        """Run `step` until Redis answers, waiting a little longer after each failure."""
        wait = 1.0
        while True:
            try:
                step()
                return
            except OUTAGE as err:
                log.warning("Redis unreachable (%s); retrying in %.0f s", type(err).__name__, wait)
                time.sleep(wait)
                wait = min(wait * 2, MAX_WAIT)

    def tick(self) -> None:
        if self.enqueue_jobs():
            self.save()
        self.heartbeat()

    def start(self) -> None:
        self._install_signal_handlers()
        try:
            self._retrying(self.register_birth)
            log.info("scheduler %s started with %d jobs", self.name, len(self.get_jobs()))
            while True:
                self._retrying(self.tick)
                pause = self.calculate_sleep_interval()
                if pause > 0:
                    time.sleep(pause)
        except (StopRequested, KeyboardInterrupt):
            log.info("scheduler %s stopping", self.name)
        finally:
            try:
                self.register_death()
            except OUTAGE:
                pass   # Redis is gone anyway; the registry entry expires by itself


def main() -> None:
    from jobs import redis_connection
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    scheduler = Scheduler(connection=redis_connection(os.environ.get("REDIS_URL")))
    scheduler.load_config_from_file("jobs.cron")
    scheduler.start()


if __name__ == "__main__":
    main()
