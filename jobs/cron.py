"""RQ cron configuration: `rq cron jobs.cron` (started by the Procfile).

The SLA sweep (reminders, escalation, morning digests) runs every minute; the half-year summary
is checked every ten minutes (it does something only in the first ten days of June and December)."""
from rq import cron

from jobs.housekeeping import heartbeat, purge_pending_uploads
from jobs.reminders import sweep
from jobs.reports import half_year

cron.register(sweep, "default", interval=60, name="sla_sweep")
cron.register(heartbeat, "default", interval=60, name="heartbeat")
cron.register(purge_pending_uploads, "default", interval=3600, name="purge_pending_uploads")
cron.register(half_year, "default", interval=600, name="half_year_summary")
