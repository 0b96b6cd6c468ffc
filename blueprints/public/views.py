import time

from flask import current_app, jsonify
from sqlalchemy import text

from blueprints.public import bp
from extensions import csrf, limiter
from jobs import redis_connection
from jobs.housekeeping import HEARTBEAT_KEY
from models import db


@bp.route("/healthz")
@limiter.exempt
@csrf.exempt
def healthz():
    """Database and Redis reachability: 200 when both answer, 503 otherwise."""
    checks = {}
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # any failure means "not reachable"; say which kind
        db.session.rollback()
        checks["database"] = f"error: {type(exc).__name__}"
    beat = None
    try:
        conn = redis_connection(current_app.config["REDIS_URL"])
        conn.ping()
        checks["redis"] = "ok"
        beat = conn.get(HEARTBEAT_KEY)
    except Exception as exc:
        checks["redis"] = f"error: {type(exc).__name__}"
    ok = all(v == "ok" for v in checks.values())
    # Informational: seconds since the scheduler + worker last ran the heartbeat job.
    jobs = {"heartbeat_age_s": round(time.time() - float(beat)) if beat else None}
    resp = jsonify(status="ok" if ok else "error", jobs=jobs, **checks)
    resp.status_code = 200 if ok else 503
    resp.headers["Cache-Control"] = "no-store"
    return resp
