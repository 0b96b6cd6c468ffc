"""The monthly report over HTTP (issue 17): the page with its charts, every figure's drill-down
counted by the register, scope, the stored report, the month picker and bad months, the register's
chips, the scheduled job through a real RQ worker, and `flask monthly-report`."""
import html
import importlib
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select

from models import db
from models.complaint import Notification
from models.report import MonthlyReport, OrderVolume
from tests.builders import as_user, unit, user
from tests.domain.test_monthly import NOW, november
from tests.web.test_halfyear_web import run_jobs

PAGE = "/complaints/monthly?month=2026-11"
SVG = re.compile(r"<svg\b.*?</svg>", re.S)
NUMBER_LINK = re.compile(r'<a (?:class="kpi-n" )?href="(/complaints/\?[^"]+)">(\d+)</a>')
SVG_LINK = re.compile(r'<a href="(/complaints/\?[^"]+)" aria-label="([^"]*)">')
COUNT = re.compile(r"共 (\d+) 条")


@pytest.fixture
def made(demo):
    c = november(db.session)
    admin = user(db.session, "admin")
    for name, orders in (("上海分公司", 30000), ("上海徐汇店", 10000), ("杭州西湖店", 4000)):
        db.session.add(OrderVolume(unit_id=unit(db.session, name).id, month="2026-11", orders=orders, updated_at=NOW,
                                   updated_by_id=admin.id))
    db.session.commit()
    return c


def register_count(web, href) -> int:
    """What the register says for a drill-down link (its count fragment, as the list page loads it)."""
    query = urlsplit(html.unescape(href)).query
    body = web.get(f"/complaints/count?{query}", htmx=True).get_data(as_text=True)
    return int(COUNT.search(body).group(1))


def drill_links(body):
    return [(html.unescape(href), int(n)) for href, n in NUMBER_LINK.findall(body)]


def test_the_page_draws_each_chart_as_svg_under_30_kb(made, login_as):
    web = login_as("quality")
    resp = web.get(PAGE)
    assert resp.status_code == 200
    body = resp.get_data(as_text=True)
    charts = SVG.findall(body)
    assert len(charts) >= 14
    assert all(len(c.encode()) < 30 * 1024 for c in charts)
    assert "<script" not in "".join(charts) and 'style="' not in body
    for heading in ("频次 × 紧急程度", "原因分析（人机料法环测）", "投诉类别", "近 12 个月", "时限达成", "各阶段用时（中位数）",
                    "满意度", "严重程度、紧急程度与渠道", "分公司与受理单位", "责任部门", "商品（前 10 名）"):
        assert heading in body, heading
    assert "全公司的投诉" in body and "实时计算" in body
    # every chart's numbers are also a table (under <details>)
    assert body.count('class="chart-table"') >= len(charts) - 2
    # the matrix stars the agenda: all three categories are among the top 3
    assert body.count("★") >= 5


def test_every_figure_drills_down_to_as_many_complaints(made, login_as):
    web = login_as("quality")
    body = web.get(PAGE).get_data(as_text=True)
    links = drill_links(body)
    assert len(links) > 60
    seen_keys, wrong = set(), []
    for href, n in links:
        query = parse_qs(urlsplit(href).query)
        assert query["type"] == ["complaint"]
        seen_keys |= {k for k in query if k not in ("from", "to", "type")}
        if query["from"] != ["2026-11-01"]:
            seen_keys.add("month")
        counted = register_count(web, href)
        if counted != n:
            wrong.append((href, n, counted))
    assert not wrong, wrong
    # every kind of figure was among them
    assert seen_keys >= {"category", "urgency", "severity", "channel", "unit", "units", "dept", "product", "cause", "sat",
                         "repeat", "clock", "clock_state", "passed", "stage", "month"}
    assert any("dept=none" in h for h, _n in links) and any("cause=none" in h for h, _n in links)
    # the bars and cells link to the same drill-downs as the numbers
    svg_hrefs = {html.unescape(h) for chart in SVG.findall(body) for h, _label in SVG_LINK.findall(chart)}
    assert len(svg_hrefs) > 50 and svg_hrefs <= {h for h, _n in links}


def test_known_figures_and_their_links(made, login_as):
    web = login_as("quality")
    body = web.get(PAGE).get_data(as_text=True)
    links = dict((h, n) for h, n in drill_links(body))
    total = [n for h, n in links.items() if urlsplit(h).query == "from=2026-11-01&to=2026-11-30&type=complaint"]
    assert total == [9]
    assert links[next(h for h in links if "repeat=1" in h)] == 1
    assert links[next(h for h in links if "cause=man" in h)] == 3
    assert links[next(h for h in links if "passed=investigating" in h)] == 5
    assert links[next(h for h in links if "clock=dispatch&clock_state=late" in h and "dept=" not in h)] == 1
    assert "2.5 小时" in body and "10 小时" in body and "24 小时" in body     # medians: new, investigating, to close
    assert "每万单投诉" in body and "2.35" in body                              # 8 per 34,000 orders


def test_a_store_head_sees_their_store_only(made, login_as, app):
    head = login_as("xh_head")                  # head of 上海徐汇店
    body = head.get(PAGE).get_data(as_text=True)
    assert "您负责的单位范围内的投诉（上海徐汇店）" in body
    assert "杭州西湖店" not in body and "上海浦东店" not in body and "客服中心" not in body.split('id="units"')[1]
    wrong = [(h, n, c) for h, n in drill_links(body) if (c := register_count(head, h)) != n]
    assert not wrong, wrong
    total = next(n for h, n in drill_links(body) if urlsplit(h).query == "from=2026-11-01&to=2026-11-30&type=complaint")
    assert total == 5
    # another store's drill-down: nothing (the register's scope), whatever the link says
    other = unit(db.session, "杭州西湖店").id
    assert register_count(head, f"/complaints/?from=2026-11-01&to=2026-11-30&type=complaint&unit={other}") == 0
    assert register_count(head, f"/complaints/?from=2026-11-01&to=2026-11-30&type=complaint&units={other}") == 0
    # a branch head sees both Shanghai stores
    branch = as_user(app, "sh_head").get(PAGE).get_data(as_text=True)
    assert "上海浦东店" in branch and "杭州西湖店" not in branch


def test_who_may_open_it(made, app):
    for name, status in (("quality", 200), ("manager", 200), ("prod_head", 200), ("xh_head", 200),
                         ("receiver", 403), ("handler2", 403), ("market", 403)):
        assert as_user(app, name).get(PAGE).status_code == status, name
    from tests.conftest import Web
    anonymous = Web(app.test_client()).get(PAGE)
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]


def test_a_stored_month_is_shown_as_it_was_made(made, login_as, app):
    from domain import monthly
    report, _created, _told = monthly.make_month(db.session, "2026-11", now=NOW)
    report.data = {**report.data, "total": 4321}        # what the stored report says wins
    db.session.commit()
    web = login_as("quality")
    body = web.get(PAGE).get_data(as_text=True)
    assert "报告生成于 2026-12-01 11:00" in body and ">4321<" in body and "看现在的数字" in body
    live = web.get(PAGE + "&live=1").get_data(as_text=True)
    assert ">4321<" not in live and "看 2026-12-01 11:00 生成的报告" in live
    # a head's figures are counted now, within their scope
    assert ">4321<" not in as_user(app, "xh_head").get(PAGE).get_data(as_text=True)
    # the notice links to the report
    notices = as_user(app, "manager").get("/complaints/notices").get_data(as_text=True)
    assert "新的月度报告" in notices and "/complaints/monthly?month=2026-11" in notices


def test_the_month_picker_and_bad_months(made, login_as):
    web = login_as("quality")
    body = web.get(PAGE).get_data(as_text=True)
    assert 'href="/complaints/monthly?month=2026-10"' in body and 'href="/complaints/monthly?month=2026-12"' in body
    assert re.search(r'<form method="get" action="/complaints/monthly"', body)
    assert '<option value="2026-11" selected>' in body
    default = web.get("/complaints/monthly").get_data(as_text=True)       # last month, company time
    assert "客诉月度报告 · " in default
    for bad in ("2026-13", "abc", "2026-1", "<script>"):
        resp = web.get(f"/complaints/monthly?month={bad}")
        assert resp.status_code == 422 and "月份格式不对" in resp.get_data(as_text=True), bad
    future = web.get("/complaints/monthly?month=2099-01")
    assert future.status_code == 422 and "这个月还没到" in future.get_data(as_text=True)
    # the department breakdown follows the clock chosen
    dispatch = web.get(PAGE + "&clock=dispatch").get_data(as_text=True)
    assert 'aria-current="page">分派</a>' in dispatch


def test_the_excel_button_exports_the_month_shown(made, login_as, app):
    from models.report import ExportJob
    from tests.web.test_exports_web import button, downloaded
    for name in ("quality", "xh_head"):                 # everyone who reads the page has the button
        assert button(login_as(name).get(PAGE).get_data(as_text=True)) == {"kind": "monthly", "month": "2026-11"}
    web = login_as("quality")
    october = button(web.get("/complaints/monthly?month=2026-10").get_data(as_text=True))
    assert october == {"kind": "monthly", "month": "2026-10"}
    resp = web.post("/complaints/exports", button(web.get(PAGE).get_data(as_text=True)))
    assert resp.status_code == 303 and re.fullmatch(r"/complaints/exports/\d+", resp.headers["Location"])
    job = db.session.scalars(select(ExportJob).order_by(ExportJob.id.desc())).first()
    assert (job.kind, job.params, job.user_id) == ("monthly", {"month": "2026-11"}, user(db.session, "quality").id)
    run_jobs(app)
    _download, sheet = downloaded(web, resp.headers["Location"])
    assert [sheet["A1"].value, sheet["B1"].value] == ["月度客诉报告", "2026-11"]
    assert {r[0].value: r[1].value for r in sheet.iter_rows(min_row=2, max_row=8)}["受理投诉"] == 9


def test_months_out_of_range_are_answered_in_words(made, login_as):
    web = login_as("quality")
    for bad, says in (("1900-01", "月度报告从 2000 年 1 月开始"), ("1999-12", "月度报告从 2000 年 1 月开始"),
                      ("2026-11" * 500, "月份格式不对"), ("%E4%B8%AD", "月份格式不对"), ("9999-12", "这个月还没到")):
        resp = web.get(f"/complaints/monthly?month={bad}")
        assert resp.status_code == 422 and says in resp.get_data(as_text=True), bad
    # the first month there is: no way back, its trend reaches before 2000 without failing, empty parts say so
    resp = web.get("/complaints/monthly?month=2000-01")
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200 and 'rel="prev"' not in body and "month=1999-12" not in body
    assert '<option value="2000-01" selected>' in body          # the picker shows the month shown
    assert "近 12 个月都没有投诉" in body and "这个月的投诉还没有走完任何一个阶段" in body and "这个月没有投诉" in body
    # the Excel button's month is checked as the page checks it
    for month, says in (("garbage", "月份格式不对"), ("", "月份格式不对"), ("1900-01", "从 2000 年 1 月开始"),
                        ("2099-01", "这个月还没到")):
        resp = web.post("/complaints/exports", {"kind": "monthly", "month": month})
        assert resp.status_code == 422 and says in resp.get_data(as_text=True), month
    assert web.post("/complaints/exports", {"kind": "monthly", "month": " 2026-11 "}).status_code == 303


def test_the_register_shows_the_drill_down_as_chips(made, login_as):
    web = login_as("quality")
    store = unit(db.session, "上海徐汇店").id
    url = f"/complaints/?from=2026-11-01&to=2026-11-30&type=complaint&channel=phone&units={store}&clock=close&clock_state=in_time"
    body = web.get(url).get_data(as_text=True)
    for chip in ("类型：投诉", "渠道：电话", "受理单位：上海徐汇店", "时限：结案", "状态：按时完成"):
        assert chip in body, chip
    assert '<input type="hidden" name="channel" value="phone">' in body and "去掉这些条件" in body
    numbers = re.findall(r'<strong class="mono">(TS-\d{6}-\d{4})</strong>', body)
    assert len(numbers) == 2                        # c1 and c11: 徐汇店, by phone, closed in time
    nothing = web.get("/complaints/?type=complaint&channel=phone&product=没有这个").get_data(as_text=True)
    assert "没有符合条件的投诉" in nothing
    odd = web.get("/complaints/?channel=x&units=a,b&sat=9&clock=nope&passed=x&dept=-1")
    assert odd.status_code == 200 and "去掉这些条件" not in odd.get_data(as_text=True)


def test_the_register_lists_the_report(made, login_as):
    assert "/complaints/monthly" in login_as("manager").get("/complaints/").get_data(as_text=True)


def test_the_scheduled_job_makes_last_months_report_once(made, app):
    from redis import Redis
    from rq import Queue
    from rq import cron as rq_cron
    rq_cron._job_data_registry.clear()
    import jobs.cron
    importlib.reload(jobs.cron)
    registered = {d["name"]: d for d in rq_cron._job_data_registry}
    assert registered["monthly_report"]["func"].__name__ == "monthly_report"
    conn = Redis.from_url(app.config["REDIS_URL"])
    try:
        queue = Queue("default", connection=conn)
        jobs_ = [queue.enqueue("jobs.reports.monthly_report", at) for at in
                 ("2026-11-01T04:00:00+00:00",          # Sunday 1 November: not a working day
                  "2026-11-30T16:30:00+00:00",          # 1 December 00:30 in Shanghai: November's
                  "2026-11-30T16:30:00+00:00",          # the same again (overlapping)
                  "2026-12-03T02:00:00+00:00")]
        run_jobs(app)
        for job in jobs_:
            job.refresh()
            assert job.is_finished, job.exc_info
        results = [j.return_value() for j in jobs_]
    finally:
        conn.close()
    assert results[0] is None
    assert [r["created"] for r in results[1:]] == [True, False, False]
    db.session.expire_all()
    assert db.session.scalars(select(MonthlyReport.month)).all() == ["2026-11"]
    told = db.session.scalars(select(Notification.user_id).where(Notification.kind == "report:monthly")).all()
    assert len(told) == len(set(told)) and {user(db.session, n).id for n in ("manager", "vp", "quality", "quality2")} <= set(told)


def test_the_command_makes_a_month_once(made, app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["monthly-report", "--month", "2026-11"])
    assert first.exit_code == 0 and "已生成 2026-11 的月度报告" in first.output and "受理投诉 9 条" in first.output
    again = runner.invoke(args=["monthly-report", "--month", "2026-11"])
    assert again.exit_code == 0 and "已存在" in again.output
    quiet = runner.invoke(args=["monthly-report", "--month", "2026-10", "--quiet"])
    assert quiet.exit_code == 0 and "通知了 0 人" in quiet.output
    bad = runner.invoke(args=["monthly-report", "--month", "2026-13"])
    assert bad.exit_code != 0 and "月份格式不对" in bad.output
    from datetime import datetime

    from domain.monthly import months
    from domain.settings import company_tz
    this_month = months.name(months.this_month(datetime.now(company_tz()).date()))
    early = runner.invoke(args=["monthly-report", "--month", this_month])
    assert early.exit_code != 0 and "还没有结束" in early.output
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(MonthlyReport)) == 2


def test_each_chart_stays_under_30_kb_however_many_rows(app):
    """A company with hundreds of stores, departments and categories: the charts draw the first
    rows (the tables under them list all) and each stays under 30 KB."""
    href = "/complaints/?from=2026-11-01&to=2026-11-30&type=complaint&dept=123456&clock=first_contact&clock_state=overdue"
    with app.test_request_context():
        charts = app.jinja_env.get_template("_macros/charts.html").module
        many = 300
        drawn = {
            "bars": charts.bars([(f"上海第{i}号门店（旗舰）", 99999 - i, f"{99999 - i}", href) for i in range(many)], "t"),
            "pareto": charts.pareto([(f"细类第{i}号", 5000 - i, min(1, i / many), href) for i in range(many)], "t"),
            "states": charts.states([(f"第{i}号部门", "按时率 99.9%",
                                      [(f"s-{s}", "超期未完成", 99999, href) for s in ("in_time", "late", "overdue", "running")])
                                     for i in range(many)], "t"),
            "matrix": charts.matrix([(f"类别{i}", [(9999, href, True)] * 4) for i in range(many)], ["紧急", "普通", "不急", "合计"],
                                    "t", 9999),
            "trend": charts.trend([(f"{m}月", 99999, 88888, href) for m in range(1, 13)], "t"),
        }
    for name, markup in drawn.items():
        svg = SVG.search(str(markup)).group(0)
        assert len(svg.encode()) < 30 * 1024, (name, len(svg.encode()))
        if name != "trend":
            assert "全部 300 项见下面的数字" in str(markup), name


def test_names_from_the_records_are_escaped_in_charts_and_links(made, login_as):
    from tests.builders import register
    from tests.domain.test_monthly import T
    odd = '<img src=x onerror=alert(1)>"&'
    register(db.session, "receiver", at=T(11, 9, 1), extra={"product_name": odd})
    db.session.commit()
    web = login_as("quality")
    body = web.get(PAGE).get_data(as_text=True)
    assert odd not in body and "&lt;img src=x onerror=alert(1)&gt;" in body
    href = next(h for h, _n in drill_links(body) if "product=%3Cimg" in h)
    assert register_count(web, href) == 1


def test_the_report_in_english(made, login_as):
    user(db.session, "manager").locale = "en"
    db.session.commit()
    body = login_as("manager").get(PAGE).get_data(as_text=True)
    for words in ("Monthly complaint report", "Frequency × urgency", "on the agenda", "Time limits met", "Time per stage"):
        assert words in body, words
    main = body[body.index("<main"):]
    names = {"产品质量", "服务质量", "交货", "生产部", "仓储物流部", "销售部", "上海分公司", "杭州分公司", "异物", "变质", "过期",
             "服务态度", "延迟交货", "上海徐汇店", "杭州西湖店", "上海浦东店", "客服中心", "五仁月饼", "蛋黄酥礼盒"}
    assert set(re.findall(r"[\u4e00-\u9fff]+", main)) <= names      # only the company's own names stay Chinese
