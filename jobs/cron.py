"""RQ cron configuration: `rq cron jobs.cron` (started by the Procfile).

Later issues add the SLA sweep, digests and reports here."""
from rq import cron

from jobs.housekeeping import heartbeat, purge_pending_uploads

cron.register(heartbeat, "default", interval=60, name="heartbeat")
cron.register(purge_pending_uploads, "default", interval=3600, name="purge_pending_uploads")
