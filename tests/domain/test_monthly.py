"""The monthly report's figures (issue 17, SPEC §8) against a hand-built November 2026: every figure,
the frequency × urgency matrix and the Pareto charts on known data, scope, month edges in company
time, the stored report made and announced once, and the first working day of a month.

`november(session)` builds the data set (the web and browser tests use it too); `EXPECTED` and the
tests below say what each figure must be and why."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from domain import monthly
from models.complaint import Notification
from models.report import MonthlyReport, OrderVolume
from models.setting import Setting
from models.sla import Outbox
from tests.builders import act, category_id, make_complaint, register, unit, user
from tests.domain.test_channels import smtp_on

UTC = timezone.utc
NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)          # Tuesday 1 December, 11:00 in Shanghai
H = 3600


def T(month, day, hour, minute=0):
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def steps(start, **hours):
    """Each action's time: hours after the one before (in the order given), from `start`."""
    out, at = {}, start
    for action, h in hours.items():
        at = at + timedelta(hours=h)
        out[action] = at
    return out


def november(s) -> dict:
    """Nine complaints received in November 2026 (company time), and around them: an October one
    (the repeat's original), one a minute before November began, one a minute after it ended and an
    inquiry (not counted). Stage times in hours are in the comments (registration → dispatch …)."""
    cat = lambda name: category_id(s, name)  # noqa: E731
    c = {"old": make_complaint(s, "closed", clerk="cs1", at=T(10, 10, 2), extra={"product_name": "桃酥"})}
    # new 2, investigating 10, pending 3, executing 5, follow-up 4 → closed after 24 h (score 5)
    c[1] = make_complaint(s, "closed", at=T(11, 2, 1), category_id=cat("异物"), urgency="high", channel="phone",
                          extra={"product_name": "五仁月饼"}, proposal={"cause_category": "machine"},
                          when=steps(T(11, 2, 1), dispatch=2, propose=10, approve=3, answer=5, survey=4))
    # dispatched 30 h after registration: the dispatch clock (24 h) stopped late
    c[2] = make_complaint(s, "investigating", at=T(11, 3, 1), category_id=cat("异物"), urgency="high",
                          channel="walk_in", severity="serious", extra={"product_name": "五仁月饼"},
                          when=steps(T(11, 3, 1), dispatch=30))
    # 浦东店, to 仓储物流部: new 1, investigating 20, pending 2, executing 3, follow-up 5 → closed after 31 h
    c[3] = make_complaint(s, "closed", clerk="pd_clerk", dept="仓储物流部", at=T(11, 4, 1), category_id=cat("变质/过期"),
                          urgency="medium", channel="phone", extra={"product_name": "蛋黄酥礼盒"},
                          proposal={"cause_category": "material"},
                          when=steps(T(11, 4, 1), dispatch=1, propose=20, approve=2, answer=3, survey=5))
    # 杭州西湖店: not dispatched — its dispatch clock is overdue on 1 December
    c[4] = register(s, "receiver2", at=T(11, 20, 2), category_id=cat("服务态度"), urgency="low", channel="email",
                    severity="minor")
    # 西湖店, to 销售部: new 4, investigating 5, pending 1, executing 2; rated 2 (stays in follow-up)
    c[5] = make_complaint(s, "follow_up", clerk="receiver2", dept="销售部", at=T(11, 5, 1), category_id=cat("延迟交货"),
                          urgency="medium", channel="phone",
                          when=steps(T(11, 5, 1), dispatch=4, propose=5, approve=1, answer=2))
    act(s, "receiver2", c[5], "survey", at=T(11, 5, 16), score=2, comment="太慢")
    # 客服中心 (a department), a repeat of October's: new 3, investigating 8 + 4 (rejected once), pending 2 + now
    c[6] = make_complaint(s, "pending_approval", clerk="cs1", at=T(11, 25, 1), category_id=cat("异物"),
                          urgency="medium", channel="hotline", extra={"repeat_of_id": c["old"].id},
                          when=steps(T(11, 25, 1), dispatch=3, propose=8))
    act(s, "prod_head", c[6], "reject", at=T(11, 25, 14), comment="方案不够")
    act(s, "handler2", c[6], "propose", at=T(11, 25, 18), findings="再查", root_cause="发网破损", cause_category="man",
        kind="refund", amount="68", text="退款 68 元")
    # 30 November 23:00 in Shanghai: its dispatch clock is still running on 1 December 11:00
    c[7] = register(s, "receiver", at=T(11, 30, 15), category_id=cat("服务态度"), urgency="high", channel="walk_in")
    # the first minute of November in Shanghai (31 October 16:00 UTC)
    c[8] = register(s, "receiver", at=datetime(2026, 10, 31, 16, 0, tzinfo=UTC), category_id=cat("变质/过期"),
                    urgency="low", channel="letter")
    c["before"] = register(s, "receiver", at=datetime(2026, 10, 31, 15, 59, tzinfo=UTC))    # October
    c["after"] = register(s, "receiver", at=datetime(2026, 11, 30, 16, 0, tzinfo=UTC))      # December
    c["inquiry"] = register(s, "receiver", at=T(11, 7, 1), type="inquiry")
    # new 2, investigating 6, pending 2, executing 1, follow-up 2 → closed after 13 h (score 4)
    c[11] = make_complaint(s, "follow_up", at=T(11, 6, 1), category_id=cat("异物"), urgency="medium", channel="phone",
                           when=steps(T(11, 6, 1), dispatch=2, propose=6, approve=2, answer=1))
    act(s, "receiver", c[11], "survey", at=T(11, 6, 14), score=4, comment="")
    s.commit()
    return c


IN_NOVEMBER = (1, 2, 3, 4, 5, 6, 7, 8, 11)


@pytest.fixture
def made(session, company):
    return november(session)


def figures(session, who="quality", **kw):
    return monthly.figures(session, user(session, who) if who else None, "2026-11", now=NOW, **kw)


def by_name(rows, name_at=1, value_at=-1):
    return {r[name_at]: r[value_at] for r in rows}


def test_totals_and_the_month_edges_in_company_time(session, made):
    d = figures(session)
    assert d["month"] == "2026-11" and (d["first"], d["last"]) == ("2026-11-01", "2026-11-30")
    assert d["total"] == len(IN_NOVEMBER) == 9
    assert d["previous"] == 2                                 # October: the original and the last minute
    assert (d["closed"], d["closed_in_time"], d["repeats"]) == (3, 3, 1)
    assert d["rated"] == 4 and d["satisfaction_avg"] == 4.0  # 5, 5, 2, 4


def test_counts_by_category_severity_channel_urgency(session, made):
    d = figures(session)
    assert by_name(d["categories"]) == {"产品质量": 6, "服务质量": 2, "交货": 1}
    assert [r[1] for r in d["categories"]] == ["产品质量", "服务质量", "交货"]
    assert {r[1]: (r[2], r[3]) for r in d["subcategories"]} == {
        "异物": ("产品质量", 4), "变质/过期": ("产品质量", 2), "服务态度": ("服务质量", 2), "延迟交货": ("交货", 1)}
    assert d["severity"] == [["minor", 1], ["general", 7], ["serious", 1], ["major", 0]]
    assert d["urgency"] == [["high", 3], ["medium", 4], ["low", 2]]
    assert d["channel"] == [["phone", 4], ["walk_in", 2], ["email", 1], ["hotline", 1], ["letter", 1]]


def test_counts_by_unit_branch_department_and_product(session, made):
    d = figures(session)
    assert {r[1]: r[4] for r in d["receiving"]} == {"上海徐汇店": 5, "上海浦东店": 1, "杭州西湖店": 2, "客服中心": 1}
    assert {r[1]: r[4] for r in d["receiving"] if r[3]} == {"上海徐汇店": 5, "上海浦东店": 1, "杭州西湖店": 2}
    branches = {r[1]: (r[2], r[3]) for r in d["branches"]}
    assert branches["上海分公司"][0] == 6 and branches["杭州分公司"][0] == 2
    assert unit(session, "上海静安店").id in branches["上海分公司"][1]       # a branch counts its stores
    assert by_name(d["departments"]) == {"生产部": 4, "仓储物流部": 1, "销售部": 1, None: 3}
    assert d["products"] == [["五仁月饼", 2], ["蛋黄酥礼盒", 1]]


def test_the_frequency_urgency_matrix_marks_the_meetings_agenda(session, made):
    d = figures(session)
    assert d["top_n"] == 3
    rows = {r[1]: r[2:] for r in d["matrix"]}
    #                high medium low total frequent
    assert rows == {"产品质量": [2, 3, 1, 6, True], "服务质量": [1, 0, 1, 2, True], "交货": [0, 1, 0, 1, True]}
    session.add(Setting(key=monthly.TOP_N_SETTING, value=1, updated_at=NOW))
    session.flush()
    rows = {r[1]: r[-1] for r in figures(session)["matrix"]}
    assert rows == {"产品质量": True, "服务质量": False, "交货": False}
    # ties at the edge are both frequent: top 2 of 6, 2, 2 …
    assert [r[-1] for r in monthly.figures.__globals__["_matrix"]([[1, "a", 6], [2, "b", 2], [3, "c", 2], [4, "d", 1]],
                                                                  {}, 2)] == [True, True, True, False]


def test_pareto_of_causes_and_of_categories(session, made):
    d = figures(session)
    # man: 5, 6, 11; machine: 1; material: 3 — of the five with a cause; four have none yet
    assert d["causes"] == [["man", "man", 3, 0.6, 0.6], ["machine", "machine", 1, 0.2, 0.8],
                           ["material", "material", 1, 0.2, 1.0]]
    assert d["no_cause"] == 4
    pareto = d["pareto_categories"]
    assert [r[2] for r in pareto] == [4, 2, 2, 1] and pareto[0][1] == "异物"
    assert [r[4] for r in pareto] == [round(4 / 9, 4), round(6 / 9, 4), round(8 / 9, 4), 1.0]
    assert [r[3] for r in pareto] == [round(4 / 9, 4), round(2 / 9, 4), round(2 / 9, 4), round(1 / 9, 4)]


def test_time_limits_per_clock_and_department(session, made):
    d = figures(session)
    clocks = {r[0]: r[1:] for r in d["clocks"]}
    # dispatch (24 h): in time 1 3 5 6 11, late 2 (30 h), overdue 4 and 8, still running 7
    assert clocks["dispatch"] == [5, 1, 2, 1]
    # close (15 days): closed in time 1 3 11; past the limit and open 2 (3 Nov) 5 (5 Nov) 8 (1 Nov); running 4 6 7
    assert clocks["close"] == [3, 0, 3, 3]
    dispatch = {r[1]: r[3:] for r in d["clocks_by_dept"] if r[2] == "dispatch"}
    assert dispatch == {"生产部": [3, 1, 0, 0], "仓储物流部": [1, 0, 0, 0], "销售部": [1, 0, 0, 0], None: [0, 0, 2, 1]}
    kinds = [r[0] for r in d["clocks"]]
    assert kinds.index("dispatch") < kinds.index("answer") < kinds.index("close")    # the SLA table's order


def test_median_time_per_stage_from_the_timeline(session, made):
    d = figures(session)
    stages = {stage: (n, median) for stage, n, median in d["stages"]}
    assert stages["new"] == (6, 2.5 * H)                 # 1 2 2 3 4 30
    assert stages["investigating"] == (5, 10 * H)        # 5 6 10 12(8+4, rejected once) 20
    assert stages["pending_approval"] == (5, 2 * H)      # 1 2 2(6's first visit) 2 3
    assert stages["executing"] == (4, 2.5 * H)           # 1 2 3 5
    assert stages["follow_up"] == (3, 4 * H)             # 2 4 5 (5's low score keeps it there)
    assert [s for s, _n, _m in d["stages"]] == ["new", "investigating", "pending_approval", "executing", "follow_up"]
    assert d["to_close"] == [3, 24 * H]                  # 13 24 31


def test_satisfaction_repeats_and_the_trend(session, made):
    d = figures(session)
    assert d["satisfaction"] == [[1, 0], [2, 1], [3, 0], [4, 1], [5, 2]]
    assert [m for m, *_ in d["trend"]] == [f"2025-{m:02d}" for m in (12,)] + [f"2026-{m:02d}" for m in range(1, 12)]
    assert d["trend"][-1] == ["2026-11", 9, 3, False] and d["trend"][-2] == ["2026-10", 2, 1, False]
    assert sum(p[1] for p in d["trend"][:-2]) == 0


def test_complaint_rate_per_ten_thousand_orders(session, made):
    admin = user(session, "admin")
    for name, orders in (("上海分公司", 30000), ("上海徐汇店", 10000), ("杭州西湖店", 4000)):
        session.add(OrderVolume(unit_id=unit(session, name).id, month="2026-11", orders=orders, updated_at=NOW,
                                updated_by_id=admin.id))
    session.add(OrderVolume(unit_id=unit(session, "杭州西湖店").id, month="2026-10", orders=1, updated_at=NOW))
    session.flush()
    d = figures(session)
    rates = {r[1]: r[3:6] for r in d["rates"]["units"]}
    assert rates == {"上海分公司": [30000, 6, 2.0], "上海徐汇店": [10000, 5, 5.0], "杭州西湖店": [4000, 2, 5.0]}
    # overall: 上海分公司 (its stores inside it) + 杭州西湖店
    orders, n, rate, members = d["rates"]["overall"]
    assert (orders, n, rate) == (34000, 8, round(8 * 10000 / 34000, 2))
    assert unit(session, "上海徐汇店").id in members and unit(session, "客服中心").id not in members
    # a store head sees their own store's rate only
    mine = figures(session, "xh_head")["rates"]
    assert [r[1] for r in mine["units"]] == ["上海徐汇店"] and mine["overall"][:3] == [10000, 5, 5.0]


def test_a_store_head_sees_their_stores_figures_only(session, made):
    d = figures(session, "xh_head")            # head of 上海徐汇店
    assert d["everything"] is False
    assert d["total"] == 5                      # 1 2 7 8 11
    assert {r[1] for r in d["receiving"]} == {"上海徐汇店"}
    assert by_name(d["categories"]) == {"产品质量": 4, "服务质量": 1}
    assert d["trend"][-2][1] == 1               # October: the last-minute one (the original is 客服中心's)
    branch = figures(session, "sh_head")        # 上海分公司: its stores
    assert branch["total"] == 6 and {r[1] for r in branch["receiving"]} == {"上海徐汇店", "上海浦东店"}


def test_figures_are_plain_json(session, made):
    import json
    d = figures(session)
    assert json.loads(json.dumps(d)) == d


# --- the stored report, made and announced once --------------------------------------------------------

def test_the_report_is_made_once_and_announced_once(session, made):
    report, created, told = monthly.make_month(session, "2026-11", now=NOW)
    assert created and report.month == "2026-11" and report.generated_by_id is None
    assert report.data["total"] == 9
    people = set(monthly.recipients(session))
    assert people and {user(session, "quality").id, user(session, "manager").id} <= people
    assert told == len(people)
    again, created2, told2 = monthly.make_month(session, "2026-11", now=NOW + timedelta(minutes=10))
    assert again.id == report.id and not created2 and told2 == 0
    assert session.scalar(select(func.count()).select_from(MonthlyReport)) == 1
    keys = session.scalars(select(Notification.dedupe_key).where(Notification.kind == monthly.NOTICE)).all()
    assert len(keys) == len(set(keys)) == len(people)
    # announcing again (a second job that lost the race) writes nothing
    assert monthly.announce(session, report, NOW + timedelta(minutes=20)) == 0


def test_announced_by_e_mail_once_with_the_headline(session, made, smtp_sink):
    from domain import delivery
    smtp_on(session, smtp_sink.port, NOW)
    user(session, "manager").email = "wang@example.com"
    user(session, "quality").email = "li.jing@example.com"
    session.commit()
    monthly.run_due(session, NOW)
    monthly.run_due(session, NOW + timedelta(hours=1))
    session.commit()
    rows = session.scalars(select(Outbox).where(Outbox.kind == monthly.NOTICE)).all()
    assert len(rows) == 2
    assert delivery.deliver(session, [r.id for r in rows], NOW + timedelta(hours=1))["sent"] == 2
    mails = sorted(smtp_sink.messages, key=lambda m: m[0][0])
    assert [to[0] for to, _m in mails] == ["li.jing@example.com", "wang@example.com"]
    mail = mails[0][1]
    assert mail["Subject"] == "【月度报告】2026-11 客诉月度报告"
    text = mail.get_body(("plain",)).get_content()
    assert "受理投诉 9 条（上月 2 条）；已结案 3 条，按时结案 3 条；二次投诉 1 条。" in text
    assert "高频类别：产品质量、服务质量、交货" in text and "/complaints/monthly?month=2026-11" in text


def test_a_stored_month_feeds_the_next_months_trend(session, made):
    october, _created, _told = monthly.make_month(session, "2026-10", now=NOW)
    october.data = {**october.data, "total": 7, "closed_in_time": 5}    # as it was when made
    session.flush()
    d = figures(session)
    assert d["trend"][-2] == ["2026-10", 7, 5, True] and d["previous"] == 7
    assert figures(session, "xh_head")["trend"][-2][3] is False     # a head's figures are always counted now
    # every earlier month stored but September: only September is counted
    for back in range(1, 12):
        month = monthly.months.name(monthly.months.shift(monthly.months.parse("2026-11"), -back))
        if month not in ("2026-09", "2026-10"):
            monthly.generate(session, month, now=NOW)
    d = figures(session)
    assert [p[3] for p in d["trend"]] == [True] * 9 + [False, True, False]
    assert d["trend"][-3][1:3] == [0, 0] and d["trend"][-2][1:3] == [7, 5] and d["trend"][-1][1:3] == [9, 3]


def test_bad_months(session, company):
    from domain.errors import InvalidInput
    for bad in ("2026-13", "2026-1", "abc", "", None, "1999-12"):
        with pytest.raises(InvalidInput):
            monthly.months.parse(bad)
    with pytest.raises(InvalidInput, match="还没有结束"):       # a month not over yet is never stored
        monthly.make_month(session, "2026-12", now=NOW)
    assert session.scalar(select(func.count()).select_from(MonthlyReport)) == 0


# --- when the scheduled job makes it ----------------------------------------------------------------

def test_first_working_day_follows_the_company_calendar(session, company):
    from datetime import date
    first = monthly.first_working_day
    assert first(session, date(2026, 10, 1)) == date(2026, 10, 8)    # 国庆: 1–7 October 2026
    assert first(session, date(2026, 11, 1)) == date(2026, 11, 2)    # a Sunday, then Monday
    assert first(session, date(2026, 12, 1)) == date(2026, 12, 1)    # a Tuesday


def test_run_due_makes_last_months_report_on_the_first_working_day_once(session, made):
    holiday = datetime(2026, 10, 7, 15, 0, tzinfo=UTC)               # 7 October 23:00: still 国庆
    assert monthly.run_due(session, holiday) is None
    nov_1 = datetime(2026, 11, 1, 4, 0, tzinfo=UTC)                   # a Sunday
    assert monthly.run_due(session, nov_1) is None
    first = monthly.run_due(session, datetime(2026, 11, 30, 16, 30, tzinfo=UTC))   # 1 December 00:30 in Shanghai
    assert first["month"] == "2026-11" and first["created"] and first["told"] > 0
    later = monthly.run_due(session, datetime(2026, 12, 3, 2, 0, tzinfo=UTC))
    assert later["month"] == "2026-11" and not later["created"] and later["told"] == 0
    assert session.scalar(select(func.count()).select_from(MonthlyReport)) == 1
