"""The half-year summary over HTTP: who may read and make it, once per period, the Excel download."""
import io
import re

from openpyxl import load_workbook
from sqlalchemy import func, select

from models import db
from models.report import HalfYearReport
from tests.builders import as_user


def run_jobs(app):
    from redis import Redis
    from rq import Queue, SimpleWorker
    conn = Redis.from_url(app.config["REDIS_URL"])
    try:
        SimpleWorker([Queue("default", connection=conn)], connection=conn).work(burst=True)
    finally:
        conn.close()


def test_quality_makes_it_the_market_department_reads_it(login_as, app):
    quality = login_as("quality")
    page = quality.get("/complaints/half-year").get_data(as_text=True)
    assert "还没有半年汇总" in page
    first_option = re.search(r'<option value="([0-9-]+/[0-9-]+)"', page).group(1)
    made = quality.post("/complaints/half-year", {"period": first_option})
    assert made.status_code == 303 and "making=" in made.headers["Location"]          # a job makes it
    waiting = quality.get(made.headers["Location"]).get_data(as_text=True)
    assert "正在生成" in waiting and 'hx-trigger="every 2s"' in waiting
    poll = f"/complaints/half-year/making?period={first_option}"
    assert "正在生成" in quality.get(poll, htmx=True).get_data(as_text=True)
    run_jobs(app)
    done = quality.get(poll, htmx=True).get_data(as_text=True)
    assert "已生成" in done and "every 2s" not in done
    report_url = re.search(r'href="(/complaints/half-year/\d+)"', done).group(1)
    again = quality.post("/complaints/half-year", {"period": first_option})
    assert again.status_code == 303 and again.headers["Location"] == report_url
    assert db.session.scalar(select(func.count()).select_from(HalfYearReport)) == 1
    report = db.session.scalars(select(HalfYearReport)).one()
    start, end = first_option.split("/")
    assert (report.period_start.isoformat(), report.period_end.isoformat()) == (start, end)
    assert quality.post("/complaints/half-year", {"period": "2020-01-01/2020-02-01"}).status_code == 422
    assert quality.post("/complaints/half-year", {"period": "x<script>"}).status_code == 422
    assert quality.post("/complaints/half-year", {"period": first_option}, csrf=False).status_code == 400

    from models.complaint import Notification
    told = set(db.session.scalars(select(Notification.user_id).where(Notification.kind == "report:halfyear")))
    from models.user import User
    assert {db.session.get(User, u).username for u in told} == {"manager", "vp", "market_head", "market", "quality"}
    market = as_user(app, "market_head")
    notices = market.get("/complaints/notices").get_data(as_text=True)
    assert "新的半年汇总" in notices and "/complaints/half-year" in notices
    shown = market.get(report_url).get_data(as_text=True)
    assert "客诉处理半年汇总" in shown and "导出 Excel" in shown
    xlsx = market.get(report_url + ".xlsx")
    assert xlsx.status_code == 200 and xlsx.headers["Content-Type"].startswith("application/vnd.openxml")
    book = load_workbook(io.BytesIO(xlsx.data))
    assert book["概况"]["A1"].value == "客诉处理半年汇总" and book["概况"]["B3"].value == report.data["totals"]["received"]
    assert as_user(app, "market").post("/complaints/half-year", {"period": first_option}).status_code == 403

    clerk = as_user(app, "receiver")
    assert clerk.get("/complaints/half-year").status_code == 403
    assert clerk.get(report_url).status_code == 403
    assert clerk.get(report_url + ".xlsx").status_code == 403
    assert quality.get("/complaints/half-year/999999").status_code == 404
    assert quality.get("/complaints/half-year/99999999999999999999").status_code == 404


def test_the_admin_chooses_the_departments_told(login_as, app):
    from domain import halfyear
    from models.org import OrgUnit
    admin = login_as("admin")
    page = admin.get("/admin/reminders").get_data(as_text=True)
    market = db.session.scalar(select(OrgUnit.id).where(OrgUnit.name == "市场部"))
    quality = db.session.scalar(select(OrgUnit.id).where(OrgUnit.name == "品管部"))
    assert 'id="halfyear"' in page and f'value="{market}" checked' in page      # the seed's default
    assert admin.post("/admin/reminders/halfyear", {"units": [str(quality), str(market)]}).status_code == 303
    assert sorted(halfyear.recipient_units(db.session)) == sorted([quality, market])
    bad = admin.post("/admin/reminders/halfyear", {"units": ["abc"]})
    assert bad.status_code == 422 and "请选择有效的单位" in bad.get_data(as_text=True)
    assert admin.post("/admin/reminders/halfyear", {}).status_code == 303               # managers only
    assert halfyear.recipient_units(db.session) == []
    assert admin.post("/admin/reminders/halfyear", {}, csrf=False).status_code == 400
    assert as_user(app, "quality").post("/admin/reminders/halfyear", {"units": [str(quality)]}).status_code == 403


def test_made_in_the_request_when_redis_is_down(demo, make_app):
    from tests.conftest import Web, free_port
    app = make_app(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")     # nothing listens there
    web = Web(app.test_client())
    assert web.login("quality").status_code == 303
    page = web.get("/complaints/half-year").get_data(as_text=True)
    first_option = re.search(r'<option value="([0-9-]+/[0-9-]+)"', page).group(1)
    made = web.post("/complaints/half-year", {"period": first_option})
    assert made.status_code == 303 and re.search(r"/complaints/half-year/\d+$", made.headers["Location"])
    assert db.session.scalar(select(func.count()).select_from(HalfYearReport)) == 1


def test_a_lost_job_says_so_instead_of_waiting_forever(login_as, app):
    quality = login_as("quality")
    page = quality.get("/complaints/half-year").get_data(as_text=True)
    first_option = re.search(r'<option value="([0-9-]+/[0-9-]+)"', page).group(1)
    assert quality.post("/complaints/half-year", {"period": first_option}).status_code == 303
    from redis import Redis
    from rq.job import Job
    from jobs.reports import job_id
    from datetime import date
    conn = Redis.from_url(app.config["REDIS_URL"])
    Job.fetch(job_id(*(date.fromisoformat(x) for x in first_option.split("/"))), connection=conn).delete()
    conn.close()
    shown = quality.get(f"/complaints/half-year/making?period={first_option}", htmx=True).get_data(as_text=True)
    assert "没有生成成功" in shown and "every 2s" not in shown
    assert quality.get("/complaints/half-year/making?period=2020-01-01/2020-06-01", htmx=True).status_code == 404


def test_a_double_tap_on_generate_makes_one_report_and_tells_each_person_once(login_as, app):
    from models.complaint import Notification
    quality = login_as("quality")
    page = quality.get("/complaints/half-year").get_data(as_text=True)
    first_option = re.search(r'<option value="([0-9-]+/[0-9-]+)"', page).group(1)
    for _ in range(2):                       # both before the worker has run
        assert quality.post("/complaints/half-year", {"period": first_option}).status_code == 303
    run_jobs(app)
    assert db.session.scalar(select(func.count()).select_from(HalfYearReport)) == 1
    keys = list(db.session.scalars(select(Notification.dedupe_key).where(Notification.kind == "report:halfyear")))
    assert len(keys) == len(set(keys)) == 5          # managers (2), market department (2), and quality who asked
