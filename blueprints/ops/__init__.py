"""/metrics for Prometheus (SPEC §9): each request's server time per endpoint (a histogram), and at
scrape time the figures of domain.metrics and the RQ queue's depth. With several processes (gunicorn
workers) set PROMETHEUS_MULTIPROC_DIR to a shared empty folder: each process writes its samples
there and a scrape, whichever process answers it, adds them up (prometheus_client's multiprocess
mode). Only for the administrator's token or address ranges (domain.metrics.allowed); no-store."""
from __future__ import annotations

import os
import time

from flask import Blueprint, Response, g, request

bp = Blueprint("ops", __name__)

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
_latency = None


def latency():
    """The request-time histogram (made once per process, after PROMETHEUS_MULTIPROC_DIR is read)."""
    global _latency
    if _latency is None:
        from prometheus_client import Histogram
        _latency = Histogram("kesu_request_seconds", "Server time per request, by endpoint and method",
                             ["endpoint", "method"], buckets=BUCKETS)
    return _latency


def register_metrics(app) -> None:
    """Time every request (endpoint names only: no path, no query, nothing personal)."""
    @app.before_request
    def _start_clock():
        g.metrics_started = time.perf_counter()

    @app.after_request
    def _observe(response):
        started = g.pop("metrics_started", None)
        if started is not None:
            endpoint = request.url_rule.endpoint if request.url_rule is not None else "unmatched"
            latency().labels(endpoint, request.method).observe(time.perf_counter() - started)
        return response


class KesuCollector:
    """The figures counted when scraped (the database and Redis are the truth, not a process)."""

    def __init__(self, figures: dict, queue_depth: int | None):
        self.figures, self.queue_depth = figures, queue_depth

    def collect(self):
        from prometheus_client.core import GaugeMetricFamily
        open_ = GaugeMetricFamily("kesu_complaints_open", "Open complaints per stage", labels=["stage"])
        for stage, n in self.figures["open"].items():
            open_.add_metric([stage], n)
        yield open_
        overdue = GaugeMetricFamily("kesu_clocks_overdue", "Running time limits past their deadline, per clock "
                                    "(each counted up to 100,000)", labels=["clock"])
        for kind, n in self.figures["overdue"].items():
            overdue.add_metric([kind], n)
        yield overdue
        failed = GaugeMetricFamily("kesu_outbox_failed", "Messages that failed for good, per channel",
                                   labels=["channel"])
        for channel, n in sorted(self.figures["outbox_failed"].items()):
            failed.add_metric([channel], n)
        yield failed
        up = GaugeMetricFamily("kesu_redis_up", "1 when Redis answered this scrape")
        up.add_metric([], 0 if self.queue_depth is None else 1)
        yield up
        if self.queue_depth is not None:
            depth = GaugeMetricFamily("kesu_rq_queue_depth", "Jobs waiting in the RQ queue", labels=["queue"])
            depth.add_metric(["default"], self.queue_depth)
            yield depth


def _queue_depth() -> int | None:
    from jobs import redis_connection
    try:
        return int(redis_connection().llen("rq:queue:default"))
    except Exception:   # noqa: BLE001 — Redis down: the scrape says so (kesu_redis_up 0)
        return None


@bp.route("/metrics")
def metrics():
    from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest

    from domain import metrics as figures
    from models import db, utcnow
    if not figures.allowed(db.session, request.remote_addr, request.headers.get("Authorization")):
        return Response("forbidden\n", 403, mimetype="text/plain", headers={"Cache-Control": "no-store"})
    latency()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess
        base = CollectorRegistry()
        multiprocess.MultiProcessCollector(base)
    else:
        base = REGISTRY
    ours = CollectorRegistry()
    ours.register(KesuCollector(figures.figures(db.session, utcnow()), _queue_depth()))
    body = generate_latest(base) + generate_latest(ours)
    return Response(body, 200, content_type=CONTENT_TYPE_LATEST, headers={"Cache-Control": "no-store"})
