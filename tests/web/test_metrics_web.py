"""/metrics for Prometheus (issue 18, SPEC §9): parsed with prometheus_client's own parser — the
request-time histogram per endpoint, open complaints per stage equal to the stage counts, overdue
clocks, failed messages, the RQ queue's depth; only with the administrator's token or from an
allowed address range (set on Admin → 设置, the token shown once, bad ranges answered in words); and
correct with several processes (multiprocess mode: two processes' requests add up in one scrape)."""
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select

from domain import metrics, queues
from models import db, utcnow
from models.sla import Outbox, SlaClock
from tests.builders import make_complaint, user

ROOT = Path(__file__).resolve().parents[2]


def families(body: str) -> dict:
    out = {}
    for family in text_string_to_metric_families(body):
        for sample in family.samples:
            out.setdefault(sample.name, []).append(sample)
    return out


def allow(networks="", token=False):
    t = metrics.set_access(db.session, user(db.session, "admin"), networks, new_token=token, now=utcnow())
    db.session.commit()
    return t


def test_nobody_reads_metrics_until_the_admin_allows_it(demo, web):
    resp = web.get("/metrics")
    assert resp.status_code == 403 and resp.headers["Cache-Control"] == "no-store"
    token = allow(token=True)
    assert web.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 403
    resp = web.get("/metrics", headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 200 and resp.mimetype == "text/plain"
    allow("10.0.0.0/8")                                                    # the token is kept
    assert web.get("/metrics", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert web.get("/metrics").status_code == 403                          # the test client is 127.0.0.1
    allow("10.0.0.0/8\n127.0.0.1")
    assert web.get("/metrics").status_code == 200


def test_the_figures_equal_the_database(demo, web):
    allow("127.0.0.0/8")
    s = db.session
    make_complaint(s, "investigating")
    late = make_complaint(s, "new")
    clock = s.scalar(select(SlaClock).where(SlaClock.complaint_id == late.id, SlaClock.kind == "dispatch"))
    clock.deadline = utcnow() - timedelta(hours=1)
    s.add(Outbox(channel="email", dedupe_key="t:1", kind="x", status="failed", attempts=5, next_attempt_at=utcnow(),
                 created_at=utcnow()))
    s.commit()
    for _i in range(3):
        web.get("/login")
    got = families(web.get("/metrics").get_data(as_text=True))
    stages = queues.stage_counts(s)
    open_ = {x.labels["stage"]: x.value for x in got["kesu_complaints_open"]}
    assert open_["new"] == stages["new"] and open_["investigating"] == stages["investigating"]
    assert "closed" not in open_
    overdue = {x.labels["clock"]: x.value for x in got["kesu_clocks_overdue"]}
    assert overdue["dispatch"] >= 1
    assert {x.labels["channel"]: x.value for x in got["kesu_outbox_failed"]} == {"email": 1.0}
    assert got["kesu_redis_up"][0].value == 1 and got["kesu_rq_queue_depth"][0].value >= 0
    login = [x for x in got["kesu_request_seconds_count"] if x.labels == {"endpoint": "auth.login", "method": "GET"}]
    assert login and login[0].value >= 3
    body = web.get("/metrics").get_data(as_text=True)
    assert "/login" not in body and "王" not in body                        # endpoint names only, nothing personal


def test_the_admin_sets_the_ranges_and_a_token_shown_once(demo, login_as):
    admin = login_as("admin")
    resp = admin.post("/admin/settings/metrics", {"networks": "10.0.0.0/8, 300.1.1.1", "token": "keep"})
    assert resp.status_code == 422 and "地址范围格式不对：300.1.1.1" in resp.get_data(as_text=True)
    assert metrics.access(db.session)["networks"] == []
    resp = admin.post("/admin/settings/metrics", {"networks": "10.0.0.0/8\n192.168.1.5", "token": "new"})
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200 and resp.headers["Cache-Control"] == "no-store" and "只显示这一次" in body
    db.session.expire_all()
    config = metrics.access(db.session)
    assert config["networks"] == ["10.0.0.0/8", "192.168.1.5/32"] and config["token_hash"]
    assert config["token_hash"] not in body and "只显示这一次" not in admin.get("/admin/settings").get_data(as_text=True)
    assert admin.post("/admin/settings/metrics", {"networks": "", "token": "drop"}).status_code == 303
    db.session.expire_all()
    assert metrics.access(db.session) == {"token_hash": None, "networks": []}
    assert login_as("quality").post("/admin/settings/metrics", {"networks": ""}).status_code == 403


SCRIPT = """
import sys
from app import create_app
app = create_app({"SQLALCHEMY_DATABASE_URI": sys.argv[1], "SECRET_KEY": "x", "REDIS_URL": "redis://127.0.0.1:1/0",
                  "RATELIMIT_ENABLED": False})
c = app.test_client()
for _ in range(int(sys.argv[2])):
    c.get("/login")
if sys.argv[3] == "scrape":
    print(c.get("/metrics").get_data(as_text=True))
"""


def test_several_processes_add_up_in_one_scrape(demo, database_url, tmp_path):
    allow("127.0.0.0/8")
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    run = lambda n, what: subprocess.run([sys.executable, "-c", SCRIPT, database_url, str(n), what], cwd=ROOT,  # noqa: E731
                                         env=env, capture_output=True, text=True, timeout=120, check=True).stdout
    run(2, "-")
    run(3, "-")
    got = families(run(0, "scrape"))
    login = [x for x in got["kesu_request_seconds_count"] if x.labels == {"endpoint": "auth.login", "method": "GET"}]
    assert login and login[0].value == 5
