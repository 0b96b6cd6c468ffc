"""RQ cron configuration: `rq cron jobs.cron` (started by the Procfile).

The SLA sweep (reminders, escalation, morning digests) runs every minute; later issues add
the reports here."""
from rq import cron

from jobs.housekeeping import heartbeat, purge_pending_uploads
from jobs.reminders import sweep

cron.register(sweep, "default", interval=60, name="sla_sweep")
cron.register(heartbeat, "default", interval=60, name="heartbeat")
cron.register(purge_pending_uploads, "default", interval=3600, name="purge_pending_uploads")
