"""The half-year summary (SPEC §6, seed 001 三.4): periods, figures on a hand-built set, once per
period however often it runs (concurrently: test_once.py), announced once, the Excel file cell by cell."""
import io
from datetime import date, datetime, timedelta, timezone

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from domain import delivery, halfyear, penalties
from models.complaint import Notification
from models.org import OrgUnit
from models.report import HalfYearReport
from models.sla import Outbox
from tests.builders import act, user
from tests.domain.test_channels import smtp_on
from tests.domain.test_ledger import NOV, build

DEC_1 = datetime(2026, 12, 1, 1, 0, tzinfo=timezone.utc)          # 09:00 in Shanghai on 1 December
PERIOD = (date(2026, 6, 1), date(2026, 12, 1))
DAY = timedelta(days=1)


def test_the_periods_follow_the_seed():
    assert halfyear.period_for(date(2026, 6, 3)) == (date(2025, 12, 1), date(2026, 6, 1))
    assert halfyear.period_for(date(2026, 12, 10)) == PERIOD
    assert halfyear.due_period(date(2026, 6, 1)) == (date(2025, 12, 1), date(2026, 6, 1))
    assert halfyear.due_period(date(2026, 12, 10)) == PERIOD
    for day in (date(2026, 12, 11), date(2026, 11, 30), date(2026, 5, 31), date(2026, 6, 11), date(2026, 1, 5)):
        assert halfyear.due_period(day) is None
    assert halfyear.last_period(date(2026, 11, 26)) == (date(2025, 12, 1), date(2026, 6, 1))
    assert halfyear.last_period(date(2026, 12, 1)) == PERIOD
    assert halfyear.last_period(date(2026, 3, 1)) == (date(2025, 6, 1), date(2025, 12, 1))
    assert halfyear.recent_periods(date(2026, 11, 26)) == [
        (date(2025, 12, 1), date(2026, 6, 1)), (date(2025, 6, 1), date(2025, 12, 1)),
        (date(2024, 12, 1), date(2025, 6, 1)), (date(2024, 6, 1), date(2024, 12, 1))]
    with pytest.raises(Exception):
        halfyear.check_period(date(2026, 6, 1), date(2026, 6, 1))


def attributed_with_penalty(session):
    """build()'s dispatched repeat complaint (销售部), resolved, attributed to the person who sold it, penalised."""
    c1, c2, c3, c4, c5 = build(session)
    at = NOV + 4 * DAY
    for who, action, fields in (("handler", "propose", dict(findings="误导", root_cause="未讲清保质期", cause_category="man",
                                                            kind="apology", text="致歉")),
                                ("manager", "approve", {}),
                                ("quality", "attribute", dict(kind="individual", user_id=user(session, "sales2").id,
                                                              reason="销售员本人"))):
        session.refresh(c4)
        act(session, who, c4, action, at=at, **fields)
        at += DAY
    p = penalties.act(session, user(session, "quality"), c4, "propose", version=None, now=at)
    penalties.act(session, user(session, "manager"), c4, "approve", version=p.version, now=at)
    session.commit()
    return c4, p


def test_the_figures_of_a_hand_built_half_year(session, company):
    c4, p = attributed_with_penalty(session)
    d = halfyear.summarize(session, *PERIOD, NOV + 30 * DAY)
    # seven complaints from June to November (one of them in October); three closed, two within the limit
    assert d["totals"] == {"received": 7, "closed": 3, "closed_in_time": 2, "open": 4, "valid": 1, "not_valid": 0,
                           "company": 1, "attributed": 1, "repeats": 1, "satisfaction": 4.0}
    assert d["severity"] == [["minor", 1], ["general", 6], ["serious", 0], ["major", 0]]
    assert d["categories"] == [["产品质量", 7]]
    assert d["units"] == [["销售部", 1, 0, 0, 1, 1, str(p.amount)]]
    assert d["attribution"] == [["individual", "销售部", 1]]
    assert d["penalties_by_person"] == [["曹阳", "销售部", 1, str(p.amount)]]
    assert d["penalties_by_unit"] == [["销售部", "鑫源食品股份有限公司", 1, str(p.amount)]]
    assert [r[:3] for r in d["stores"]] == [["上海徐汇店", "上海分公司", 6], ["杭州西湖店", "杭州分公司", 1]]
    assert [r[:3] for r in d["branches"]] == [["上海分公司", "鑫源食品股份有限公司", 6], ["杭州分公司", "鑫源食品股份有限公司", 1]]
    close = {kind: rest for kind, *rest in d["clocks"]}["close"]
    assert close[:2] == [3, 2]
    # a period that ends before these complaints: nothing
    empty = halfyear.summarize(session, date(2025, 12, 1), date(2026, 6, 1), NOV + 30 * DAY)
    assert empty["totals"]["received"] == 0 and empty["units"] == [] and empty["penalties_by_unit"] == []


def notices(session):
    return session.execute(select(Notification.user_id, Notification.dedupe_key)
                              .where(Notification.kind == halfyear.NOTICE)).all()


def test_run_twice_one_report_one_notice_each(session, company):
    build(session)
    assert halfyear.run_due(session, DEC_1 - 2 * DAY) is None        # 29 November: not the time
    first = halfyear.run_due(session, DEC_1)
    session.commit()
    assert first["created"] and first["told"] == 4
    again = halfyear.run_due(session, DEC_1 + 10 * 60 * 1000 * timedelta(microseconds=1))
    later = halfyear.run_due(session, DEC_1 + 5 * DAY)
    session.commit()
    assert not again["created"] and not later["created"] and again["report"] == first["report"]
    assert session.scalar(select(func.count()).select_from(HalfYearReport)) == 1
    report = session.get(HalfYearReport, first["report"])
    assert (report.period_start, report.period_end, report.generated_by_id) == (*PERIOD, None)
    assert report.data["totals"]["received"] == 7
    told = {session.get(type(user(session, "manager")), uid).username for uid, _k in notices(session)}
    assert told == {"manager", "vp", "market_head", "market"} and len(notices(session)) == 4
    assert halfyear.run_due(session, DEC_1 + 11 * DAY) is None        # 12 December: over


def test_an_admin_chooses_who_besides_the_managers_is_told(session, company):
    build(session)
    qc = session.scalar(select(OrgUnit.id).where(OrgUnit.name == "品管部"))
    with pytest.raises(Exception):
        halfyear.set_recipient_units(session, user(session, "quality"), [qc], now=DEC_1)
    with pytest.raises(Exception):
        halfyear.set_recipient_units(session, user(session, "admin"), [qc, 999999], now=DEC_1)
    halfyear.set_recipient_units(session, user(session, "admin"), [qc], now=DEC_1)
    halfyear.run_due(session, DEC_1)
    session.commit()
    told = {session.get(type(user(session, "manager")), uid).username for uid, _k in notices(session)}
    assert told == {"manager", "vp", "quality", "quality2"}


def test_announced_by_e_mail_once_with_the_headline(session, company, smtp_sink):
    build(session)
    smtp_on(session, smtp_sink.port, DEC_1)
    user(session, "manager").email = "wang@example.com"
    user(session, "market_head").email = "he.li@example.com"
    session.commit()
    halfyear.run_due(session, DEC_1)
    halfyear.run_due(session, DEC_1 + DAY)
    session.commit()
    rows = session.scalars(select(Outbox).where(Outbox.kind == halfyear.NOTICE)).all()
    assert len(rows) == 2
    outcome = delivery.deliver(session, [r.id for r in rows], DEC_1 + DAY)
    assert outcome["sent"] == 2
    mails = sorted(smtp_sink.messages, key=lambda m: m[0][0])
    assert [to[0] for to, _m in mails] == ["he.li@example.com", "wang@example.com"]
    mail = mails[0][1]
    assert mail["Subject"] == "【半年汇总】2026-06-01 至 2026-11-30 客诉处理情况"
    text = mail.get_body(("plain",)).get_content()
    assert "受理 7 条，已结 3 条，按时结案 2 条，未结 4 条。" in text and "/complaints/half-year/" in text
    assert "王女士" not in text and "13812345678" not in text


def test_the_excel_file_cell_by_cell(session, company):
    c4, p = attributed_with_penalty(session)
    report, created = halfyear.generate(session, *PERIOD, NOV + 30 * DAY)
    session.commit()
    assert created
    book = load_workbook(io.BytesIO(halfyear.to_xlsx(report, labels=halfyear.labels())))
    assert book.sheetnames == ["概况", "责任部门", "分公司与门店", "责任归属", "罚扣"]
    s = book["概况"]
    assert [s["A1"].value, s["B1"].value] == ["客诉处理半年汇总", "2026-06-01 — 2026-11-30"]
    rows = {r[0]: r[1] for r in s.iter_rows(min_row=3, max_col=2, values_only=True) if r[0]}
    assert (rows["受理"], rows["已结"], rows["按时结案"], rows["未结"], rows["二次投诉"]) == (7, 3, 2, 4, 1)
    assert rows["按时结案率"] == pytest.approx(2 / 3, abs=1e-4) and rows["一般"] == 6 and rows["轻微"] == 1
    assert rows["产品质量"] == 7
    s = book["责任部门"]
    assert [c.value for c in s[2]] == ["销售部", 1, 0, 0, 1, 1, float(p.amount)]
    s = book["分公司与门店"]
    assert [c.value for c in s[2]][:3] == ["上海分公司", "鑫源食品股份有限公司", 6]
    assert s["A5"].value == "门店" and [c.value for c in s[6]][:3] == ["上海徐汇店", "上海分公司", 6]
    s = book["责任归属"]
    assert [c.value for c in s[2]] == ["个人", "销售部", 1]
    s = book["罚扣"]
    assert [c.value for c in s[2]] == ["销售部", "鑫源食品股份有限公司", 1, float(p.amount)]
    assert [c.value for c in s[3]] == ["合计", None, 1, float(p.amount)]
    assert [c.value for c in s[6]] == ["曹阳", "销售部", 1, float(p.amount)]
