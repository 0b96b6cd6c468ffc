"""The accountability ledger against a small hand-built set (SPEC §5): every number checked."""
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from domain import ledger
from models.user import User
from tests.builders import TZ, act, register, unit, user

NOV = datetime(2026, 11, 2, 2, 0, tzinfo=timezone.utc)
DAY = timedelta(days=1)


def build(session):
    c1 = register(session, "receiver", at=NOV)
    act(session, "quality", c1, "withdraw", at=NOV + 2 * DAY, reason="顾客撤诉")         # closed in 2 days
    c2 = register(session, "receiver", at=NOV + DAY)
    act(session, "quality", c2, "withdraw", at=NOV + 21 * DAY, reason="顾客撤诉")        # 20 days: past the 15-day limit
    c3 = register(session, "receiver", at=NOV + 2 * DAY)                                # never dispatched: idle
    c4 = register(session, "receiver", at=NOV + 3 * DAY, extra={"repeat_of_id": c1.id})  # a repeat, dispatched
    act(session, "quality", c4, "dispatch", at=NOV + 3 * DAY, unit_id=unit(session, "销售部").id)
    c5 = register(session, "receiver", at=NOV + 4 * DAY, severity="minor", spot_action="当场换货", spot_accepted=True)
    act(session, "receiver", c5, "survey", at=NOV + 5 * DAY, score=4)                   # closed in 1 day, score 4
    register(session, "receiver2", at=NOV + 4 * DAY)                                     # another store
    register(session, "receiver", at=NOV - 10 * DAY)                                     # October: not counted
    session.commit()
    return c1, c2, c3, c4, c5


def test_the_ledger_per_person_store_and_branch(session, company):
    build(session)
    now = NOV + 30 * DAY
    period = (datetime(2026, 11, 1, tzinfo=TZ), datetime(2026, 12, 1, tzinfo=TZ))
    rows = {r.name: r for r in ledger.ledger(session, user(session, "quality"), "person", *period, now)}
    chen = rows["陈晓"]
    assert (chen.received, chen.open, chen.closed, chen.closed_in_time, chen.overdue) == (5, 2, 3, 2, 2)
    assert (chen.median_days, chen.satisfaction, chen.repeats, chen.idle) == (2.0, 4.0, 1, 1)
    zhao = rows["赵敏"]
    assert (zhao.received, zhao.open, zhao.closed, zhao.overdue, zhao.idle, zhao.median_days) == (1, 1, 0, 1, 1, None)
    stores = {r.name: r for r in ledger.ledger(session, user(session, "quality"), "store", *period, now)}
    assert stores["上海徐汇店"].received == 5 and stores["上海徐汇店"].unit == "上海分公司"
    assert stores["杭州西湖店"].received == 1
    branches = {r.name: r for r in ledger.ledger(session, user(session, "manager"), "branch", *period, now)}
    assert (branches["上海分公司"].received, branches["杭州分公司"].received) == (5, 1)
    # sorted by a column, highest first
    assert [r.name for r in ledger.sort(list(stores.values()), "received")] == ["上海徐汇店", "杭州西湖店"]


def test_a_store_head_sees_their_store_only(session, company):
    build(session)
    now = NOV + 30 * DAY
    period = (datetime(2026, 11, 1, tzinfo=TZ), datetime(2026, 12, 1, tzinfo=TZ))
    mine = ledger.ledger(session, user(session, "xh_head"), "store", *period, now)
    assert [r.name for r in mine] == ["上海徐汇店"]
    branch = ledger.ledger(session, user(session, "hz_head"), "person", *period, now)
    assert [r.name for r in branch] == ["赵敏"]


def test_an_empty_period_is_empty(session, company):
    build(session)
    assert ledger.ledger(session, user(session, "quality"), "person", datetime(2025, 1, 1, tzinfo=TZ),
                         datetime(2025, 2, 1, tzinfo=TZ), NOV) == []


def test_store_and_branch_heads_get_the_weekly_page_once_on_monday(session, company, smtp_sink):
    from domain import channels, delivery, reminders
    from models.complaint import Notification
    monday = datetime(2026, 11, 30, 1, 0, tzinfo=timezone.utc)          # Monday 09:00 Shanghai
    channels.set_smtp_config(session, user(session, "admin"), host="127.0.0.1", port=str(smtp_sink.port),
                             security="none", username="", password="", sender="kesu@example.com",
                             sender_name="", now=monday)
    user(session, "xh_head").email = "yang.fan@example.com"
    register(session, "receiver", at=monday - 2 * DAY)
    session.commit()
    assert reminders.send_weekly_ledger(session, monday - DAY) == 0    # Sunday
    written = reminders.send_weekly_ledger(session, monday)
    session.commit()
    heads = {session.get(User, n.user_id).username for n in session.scalars(
        select(Notification).where(Notification.kind == "ledger:weekly"))}
    assert heads == {"xh_head", "sh_head", "hz_head", "nj_head"} and written == 4   # store and branch heads
    assert reminders.send_weekly_ledger(session, monday + timedelta(hours=3)) == 0
    from sqlalchemy import select as sel

    from models.sla import Outbox
    ids = list(session.scalars(sel(Outbox.id).where(Outbox.kind == "ledger:weekly")))
    assert delivery.deliver(session, ids, monday)["sent"] == 1
    to, mail = smtp_sink.messages[-1]
    text = mail.get_body(("plain",)).get_content()
    assert to == ["yang.fan@example.com"] and mail["Subject"].startswith("【客诉周报】本周受理 1 条")
    assert "陈晓：受理 1" in text and "/complaints/ledger?by=person" in text
