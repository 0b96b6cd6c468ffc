"""Cron configuration, loaded by the scheduler (`python -m jobs.scheduler`, started by `make run`).

The SLA sweep (reminders, escalation, morning digests) runs every minute; the half-year summary
is checked every ten minutes (it does something only in the first ten days of June and December), and
so is the monthly report (last month's, from the first working day of a month, once).
KESU_SWEEP_SECONDS shortens the minute (the tests of the supervised run use a few seconds)."""
import os

from rq import cron

from jobs.housekeeping import heartbeat, purge_pending_uploads
from jobs.reminders import sweep
from jobs.reports import half_year, monthly_report

MINUTE = int(os.environ.get("KESU_SWEEP_SECONDS", "60"))

cron.register(sweep, "default", interval=MINUTE, name="sla_sweep")
cron.register(heartbeat, "default", interval=MINUTE, name="heartbeat")
cron.register(purge_pending_uploads, "default", interval=3600, name="purge_pending_uploads")
cron.register(half_year, "default", interval=600, name="half_year_summary")
cron.register(monthly_report, "default", interval=600, name="monthly_report")
