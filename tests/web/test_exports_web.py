"""Excel exports over HTTP (issue 17): the button on each list starts a job (CSRF), its page polls
the progress and then offers the download — the owner's alone, not cached, a Chinese file name —
a lost job is shown as failed and exported again; without Redis the file is written at once."""
import io
import re
from datetime import timedelta
from urllib.parse import quote

from openpyxl import load_workbook
from sqlalchemy import func, select

from models import db, utcnow
from models.report import ExportJob
from tests.builders import as_user, make_complaint, register, user
from tests.web.test_halfyear_web import run_jobs

FORM_RE = re.compile(r'<form method="post" action="/complaints/exports" class="inline-form export-form">(.*?)</form>', re.S)


def button(page: str, n: int = 0) -> dict:
    """The hidden fields of the page's n-th 导出 Excel form (what pressing it posts)."""
    form = FORM_RE.findall(page)[n]
    return {k: v for k, v in re.findall(r'name="([^"]+)" value="([^"]*)"', form) if k != "csrf_token"}


def jobs():
    db.session.expire_all()
    return db.session.scalars(select(ExportJob).order_by(ExportJob.id)).all()


def start(web, page_url, n=0):
    fields = button(web.get(page_url).get_data(as_text=True), n)
    resp = web.post("/complaints/exports", fields)
    assert resp.status_code == 303, resp.get_data(as_text=True)
    return fields, resp.headers["Location"]


def downloaded(web, job_url):
    done = web.get(job_url, htmx=True).get_data(as_text=True)
    assert "every 1s" not in done, done
    link = re.search(r'href="(/complaints/exports/\d+/download)"', done).group(1)
    resp = web.get(link)
    assert resp.status_code == 200 and resp.headers["Content-Type"].startswith("application/vnd.openxmlformats")
    return resp, load_workbook(io.BytesIO(resp.data)).active


def test_the_register_button_exports_what_the_list_shows(login_as, app):
    for i in range(3):
        register(db.session, severity="major", customer_name=f"王{i}", at=utcnow() - timedelta(hours=i + 1))
    register(db.session, severity="general", customer_name="李四")
    web = login_as("quality")
    listed = web.get("/complaints/?severity=major&q=王").get_data(as_text=True)
    fields, job_url = start(web, "/complaints/?severity=major&q=王")
    assert fields == {"kind": "register", "severity": "major", "q": "王"}
    assert re.fullmatch(r"/complaints/exports/\d+", job_url)
    waiting = web.get(job_url).get_data(as_text=True)
    assert "排队中" in waiting and 'hx-trigger="every 1s"' in waiting
    assert '<noscript><meta http-equiv="refresh" content="2"></noscript>' in waiting     # without JavaScript
    assert 'hx-trigger="every 1s"' in web.get(job_url, htmx=True).get_data(as_text=True)
    run_jobs(app)
    resp, sheet = downloaded(web, job_url)
    name = jobs()[0].filename
    assert name.startswith("投诉台账-") and name.endswith(".xlsx")
    assert f"filename*=UTF-8''{quote(name)}" in resp.headers["Content-Disposition"]
    assert resp.headers["Cache-Control"] == "no-store"
    on_screen = re.findall(r'<strong class="mono">(TS-[0-9-]+)</strong>', listed)
    assert [r[0].value for r in sheet.iter_rows(min_row=2)] == on_screen and len(on_screen) == 3
    assert sheet["A1"].value == "编号" and sheet["E2"].value == "王0"
    assert "我的导出" in web.get(job_url).get_data(as_text=True)
    assert name in web.get("/complaints/exports").get_data(as_text=True)


def test_only_the_owner_sees_and_downloads_an_export(login_as, app):
    register(db.session)
    owner = login_as("receiver")
    _fields, job_url = start(owner, "/complaints/")
    run_jobs(app)
    downloaded(owner, job_url)
    for name in ("receiver2", "quality", "manager"):
        other = as_user(app, name)
        for url in (job_url, job_url + "/download"):
            assert other.get(url).status_code == 404, (name, url)
        assert other.post(job_url + "/again").status_code == 404
        assert "投诉台账-" not in other.get("/complaints/exports").get_data(as_text=True)
    assert len(jobs()) == 1


def test_starting_an_export_needs_the_form_s_token_and_a_list_one_may_export(login_as, app):
    web = login_as("receiver")
    assert web.post("/complaints/exports", {"kind": "register"}, csrf=False).status_code == 400
    refused = web.post("/complaints/exports", {"kind": "queue", "queue": "dispatch"})    # quality's queue
    assert refused.status_code == 422 and "不能导出这个列表" in refused.get_data(as_text=True)
    assert web.post("/complaints/exports", {"kind": "everything"}).status_code == 422
    assert jobs() == []


def test_the_queues_and_the_overdue_list_have_their_button(login_as, app):
    make_complaint(db.session, "investigating", at=utcnow() - timedelta(days=20))       # overdue by now
    fresh = register(db.session, at=utcnow())
    web = login_as("quality")
    fields, job_url = start(web, "/quality/")
    assert fields == {"kind": "queue", "queue": "dispatch"}
    run_jobs(app)
    _resp, sheet = downloaded(web, job_url)
    assert [r[0].value for r in sheet.iter_rows(min_row=2)] == [fresh.number]
    fields, job_url = start(web, "/complaints/overdue")
    assert fields == {"kind": "overdue"}
    run_jobs(app)
    _resp, sheet = downloaded(web, job_url)
    assert sheet.max_row == 2 and sheet["Q1"].value == "时限"
    head = login_as("handler2")
    assert button(head.get("/handler/").get_data(as_text=True)) == {"kind": "queue", "queue": "department"}


def test_a_lost_export_is_shown_as_failed_and_exported_again(login_as, app):
    register(db.session)
    web = login_as("quality")
    _fields, job_url = start(web, "/complaints/")
    job = jobs()[0]
    job.status, job.started_at = "running", utcnow() - timedelta(minutes=10)   # its worker died long ago
    db.session.commit()
    page = web.get(job_url, htmx=True).get_data(as_text=True)
    assert "导出没有完成，请重新导出。" in page and "every 1s" not in page
    again = web.post(job_url + "/again")
    assert again.status_code == 303 and again.headers["Location"] != job_url
    assert [(j.kind, j.params) for j in jobs()] == [("register", {}), ("register", {})]
    run_jobs(app)                                   # the old one is claimed by no one: only the new one runs
    assert [j.status for j in jobs()] == ["running", "done"]
    downloaded(web, again.headers["Location"])


def test_without_redis_the_file_is_written_in_the_request(make_app, company):
    from tests.conftest import NO_REDIS, Web
    app = make_app(REDIS_URL=NO_REDIS, RATELIMIT_STORAGE_URI="memory://")
    with app.app_context():
        register(db.session)
        db.session.commit()
        web = Web(app.test_client())
        assert web.login("quality").status_code == 303
        _fields, job_url = start(web, "/complaints/")
        assert jobs()[0].status == "done"
        downloaded(web, job_url)


def test_an_english_user_gets_english_headings(login_as, app):
    register(db.session)
    user(db.session, "quality").locale = "en"
    web = login_as("quality")
    _fields, job_url = start(web, "/complaints/")
    run_jobs(app)
    _resp, sheet = downloaded(web, job_url)
    assert sheet["A1"].value == "No." and sheet["A1"].value != "编号"
    assert db.session.scalar(select(func.count()).select_from(ExportJob)) == 1


def test_the_export_reads_every_filter_the_register_reads(login_as, app):
    from blueprints.complaints.views import FILTER_KEYS
    from domain import exports
    assert set(FILTER_KEYS) <= set(exports.REGISTER_KEYS)
    for i, channel in enumerate(["phone", "walk_in", "phone", "hotline"]):
        register(db.session, channel=channel, at=utcnow() - timedelta(hours=i + 1))
    web = login_as("quality")
    url = "/complaints/?channel=phone&type=complaint&sort=old"
    listed = re.findall(r'<strong class="mono">(TS-[0-9-]+)</strong>', web.get(url).get_data(as_text=True))
    _fields, job_url = start(web, url)
    run_jobs(app)
    _resp, sheet = downloaded(web, job_url)
    assert [r[0].value for r in sheet.iter_rows(min_row=2)] == listed and listed


def test_with_no_export_yet_the_list_says_where_to_start_one(login_as):
    page = login_as("quality").get("/complaints/exports").get_data(as_text=True)
    assert "还没有导出过" in page and "月度报告" in page
