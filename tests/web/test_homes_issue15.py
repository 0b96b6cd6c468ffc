"""Issue 15, each home shows the work first: the manager's approval cards by urgency with their
countdown, the clerk's waiting counts above the intake form, quality's queues (to dispatch: overdue
and major first; to attribute: counted, most urgent first, all of them one tap away), the handler's
department queue oldest first, and the notices grouped per complaint with rejections in words."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import event, select

from domain import queues
from domain.sla import ClockKind
from models import db, utcnow
from models.complaint import Notification
from models.sla import SlaClock
from tests.builders import act, make_complaint, register, user

H = timedelta(hours=1)


def proposed(hours_ago, severity="general", dept="生产部", **fields):
    """A complaint pending approval whose proposal went in `hours_ago` hours ago (the approval clock:
    24 calendar hours from then)."""
    now = utcnow()
    return make_complaint(db.session, "pending_approval", at=now - (hours_ago + 2) * H, severity=severity,
                          dept=dept, when={"propose": now - hours_ago * H}, **fields)


def positions(page, ids, prefix="approval-"):
    """The order in which the elements `id="<prefix><id>"` appear on the page."""
    found = {i: page.find(f'id="{prefix}{i}"') for i in ids}
    assert all(at >= 0 for at in found.values()), found
    return sorted(ids, key=found.get)


@pytest.fixture
def approvals(demo):
    """Six proposals: two overdue (16 h and 6 h), a major one due in 23 h, a serious one due in 4 h,
    a general one due in 14 h and a general one waiting for the customer (its clock paused)."""
    made = dict(
        late16=proposed(40), late6=proposed(30), major=proposed(1, "major", safety=True),
        serious=proposed(20, "serious"), general=proposed(10), paused=proposed(12))
    act(db.session, "handler2", made["paused"], "pause", at=utcnow() - H, reason="等顾客的发票照片")
    db.session.commit()
    return made


ORDER = ["late16", "late6", "major", "serious", "general", "paused"]


def test_the_manager_sees_the_most_urgent_proposal_first_with_its_countdown(login_as, approvals):
    page = login_as("manager").get("/manager/").get_data(as_text=True)
    ids = {c.id: name for name, c in approvals.items()}
    assert [ids[i] for i in positions(page, list(ids))] == ORDER
    assert "已超时的在前，其次重大投诉，再按审批期限由近到远。" in page

    def card(name):
        start = page.index(f'id="approval-{approvals[name].id}"')
        return page[start:page.index("</article>", start)]
    assert "已超时 16 小时" in card("late16") and "sla-overdue" in card("late16")
    assert "还剩 3 小时" in card("serious") and "还剩 22 小时" in card("major")
    assert "暂停中" in card("paused")
    # One tap still approves: the card's approve form posts at once.
    assert re.search(r'hx-post="/complaints/\d+/card/approve"', card("major"))


def test_the_urgency_order_is_the_same_walked_by_tiers_or_sorted_in_one_query(approvals):
    """The manager's queue walks the clocks tier by tier; a head's (a department: small) is one sorted
    query. Both give the order of the rule."""
    now = utcnow()
    every = queues.to_approve(db.session, user(db.session, "manager"), now)
    head_level = [c for c in every if c.approval_level == "head"]
    assert len(head_level) >= 3
    assert queues.to_approve(db.session, user(db.session, "prod_head"), now) == head_level
    assert queues._urgent_sorted(db.session, queues._approvable(db.session, user(db.session, "manager")),
                                 ClockKind.APPROVAL, now, 25) == every
    # A short page stops at its limit in any tier.
    assert queues.to_approve(db.session, user(db.session, "manager"), now, limit=3) == every[:3]


def test_the_heads_cards_come_by_urgency_and_their_count_is_all_of_them(login_as, approvals):
    head = login_as("prod_head")
    page = head.get("/handler/").get_data(as_text=True)
    mine = [name for name in ORDER if approvals[name].approval_level == "head"]
    ids = {approvals[name].id: name for name in mine}
    assert [ids[i] for i in positions(page, list(ids))] == mine
    assert f'id="approve-count" class="count-badge">{len(mine)}<' in page


def count_queries(web, url):
    seen = []

    def count(*_args):
        seen.append(1)
    event.listen(db.engine, "before_cursor_execute", count)
    try:
        assert web.get(url).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return len(seen)


def test_the_manager_home_asks_the_same_number_of_questions_for_two_cards_or_six(login_as, demo):
    manager = login_as("manager")
    proposed(30), proposed(3, "serious")
    db.session.commit()
    few = count_queries(manager, "/manager/")
    # more cards, from other stores for other departments: their units come in the same one query
    proposed(40, dept="销售部", clerk="receiver2"), proposed(2, "major", safety=True, dept="市场部"),
    proposed(20, clerk="cs1"), proposed(5, "serious", dept="销售部", clerk="xh_head")
    db.session.commit()
    assert count_queries(manager, "/manager/") <= few


def test_the_clerk_sees_what_waits_for_them_above_the_intake_form(login_as):
    executing = make_complaint(db.session, "executing")
    follow_ups = [make_complaint(db.session, "follow_up"), make_complaint(db.session, "follow_up")]
    make_complaint(db.session, "follow_up", clerk="receiver2")           # someone else's
    db.session.commit()
    page = login_as("receiver").get("/receiver/").get_data(as_text=True)
    bar = page.index('class="waiting-bar"')
    assert bar < page.index('name="customer_name"')                       # before the form
    answer = re.search(r'id="waiting-executing" href="([^"]+)">待您答复 <strong>(\d+)</strong>', page)
    call = re.search(r'id="waiting-follow_up" href="([^"]+)">待回访 <strong>(\d+)</strong>', page)
    assert answer.group(2) == "1" and call.group(2) == "2"
    assert "mine=1" in answer.group(1) and "stage=executing" in answer.group(1)
    assert "stage=follow_up" in call.group(1)
    listing = login_as("receiver").get(call.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert all(c.number in listing for c in follow_ups) and executing.number not in listing


def test_the_clerk_with_nothing_waiting_sees_zeros(login_as):
    page = login_as("receiver").get("/receiver/").get_data(as_text=True)
    assert ">待您答复 <strong>0</strong>" in page and ">待回访 <strong>0</strong>" in page


def test_quality_dispatches_overdue_then_major_then_oldest(login_as, demo):
    now = utcnow()
    late = register(db.session, at=now - 30 * H)                         # the dispatch clock: 24 h
    older, newer = register(db.session, at=now - 5 * H), register(db.session, at=now - 2 * H)
    major = register(db.session, at=now - H, severity="major", safety=True)
    db.session.commit()
    assert queues.to_dispatch(db.session, now) == [late, major, older, newer]
    page = login_as("quality").get("/quality/").get_data(as_text=True)
    section = page[page.index('id="to-dispatch"'):]
    assert [c.number for c in sorted((late, major, older, newer), key=lambda c: section.index(c.number))] == \
        [late.number, major.number, older.number, newer.number]
    assert "分派已超时的在前，其次重大投诉，再按登记先后。" in section
    late_major = register(db.session, at=now - 26 * H, severity="major", safety=True)   # overdue less long
    db.session.commit()
    assert queues.to_dispatch(db.session, now)[:3] == [late_major, late, major]   # among the overdue, major first


def attributable(severity="general", approved_hours_ago=1, **fields):
    now = utcnow()
    return make_complaint(db.session, "executing", at=now - (approved_hours_ago + 3) * H, severity=severity,
                          when={"propose": now - (approved_hours_ago + 1) * H, "approve": now - approved_hours_ago * H},
                          **fields)


def test_quality_counts_what_waits_for_attribution_and_a_new_major_one_shows_first(login_as, demo):
    old = [attributable(approved_hours_ago=100 - i) for i in range(10)]
    serious = attributable("serious", approved_hours_ago=50)
    major = attributable("major", approved_hours_ago=1, safety=True)       # the newest of all
    db.session.commit()
    quality = login_as("quality")
    page = quality.get("/quality/").get_data(as_text=True)
    section = page[page.index('id="to-attribute"'):]
    assert 'class="count-badge">12<' in section
    shown = [c for c in [major, serious, *old] if c.number in section]
    assert shown[:3] == [major, serious, old[0]] and len(shown) == 10
    assert section.index(major.number) < section.index(serious.number) < section.index(old[0].number)
    assert old[-1].number not in section                                  # the 10 on the home …
    assert 'href="/quality/attribute"' in section
    everything = quality.get("/quality/attribute").get_data(as_text=True)   # … and all of them
    assert all(c.number in everything for c in [major, serious, *old])
    assert everything.index(major.number) < everything.index(serious.number) < everything.index(old[0].number) \
        < everything.index(old[-1].number)
    assert login_as("manager").get("/quality/attribute").status_code == 403


def test_the_department_queue_starts_with_the_oldest(login_as, demo):
    now = utcnow()
    newer = make_complaint(db.session, "investigating", at=now - H)
    older = make_complaint(db.session, "investigating", at=now - 50 * H)
    db.session.commit()
    page = login_as("prod_head").get("/handler/").get_data(as_text=True)
    assert page.index(older.number) < page.index(newer.number)


# --- notices ----------------------------------------------------------------------------------

def test_notices_are_one_row_per_complaint_and_reading_it_reads_them_all(login_as, demo):
    c = make_complaint(db.session, "executing", investigator="handler2")   # the clerk: several progress notices
    other = make_complaint(db.session, "investigating")
    db.session.commit()
    clerk = user(db.session, "receiver")
    mine = db.session.scalars(select(Notification).where(Notification.user_id == clerk.id,
                                                         Notification.complaint_id == c.id)).all()
    assert len(mine) >= 2
    web = login_as("receiver")
    page = web.get("/complaints/notices").get_data(as_text=True)
    assert page.count(c.number) == 1 and page.count(other.number) == 1
    group = page[page.index(c.number):page.index("</li>\n  ", page.index(c.number))]
    assert f"另有 {len(mine) - 1} 条" in group and f"新 {len(mine)}" in page
    assert "<details" in group
    assert db.session.scalar(select(Notification.id).where(Notification.user_id == clerk.id,
                                                           Notification.read_at.is_(None))) is None
    assert 'class="bell-n"' not in web.get("/receiver/").get_data(as_text=True)
    again = web.get("/complaints/notices").get_data(as_text=True)
    assert "新" not in again[again.index('class="rows notice-groups"'):]


def test_a_rejection_reads_as_a_rejection_with_its_reason(login_as, demo):
    c = make_complaint(db.session, "pending_approval", severity="serious", investigator="handler2")
    act(db.session, "manager", c, "reject", comment="金额偏高，请先与顾客沟通")
    db.session.commit()
    for who in ("handler2", "receiver"):        # the investigator and the first responder
        page = login_as(who).get("/complaints/notices").get_data(as_text=True)
        assert "方案被驳回：金额偏高，请先与顾客沟通" in page, who
        newest = page[page.index('class="rows notice-groups"'):]
        assert "进展：调查处理中" not in newest[:newest.index(c.number)]


def test_the_notices_page_asks_the_same_number_of_questions_for_one_complaint_or_four(login_as, demo):
    def rejected():
        c = make_complaint(db.session, "pending_approval", severity="serious", investigator="handler2")
        act(db.session, "manager", c, "reject", comment="再议")
        db.session.commit()
    rejected()
    web = login_as("handler2")
    few = count_queries(web, "/complaints/notices")
    for _ in range(3):
        rejected()
    assert count_queries(web, "/complaints/notices") <= few


def test_a_paused_approval_clock_is_not_counted_as_overdue(demo):
    c = proposed(30)
    act(db.session, "handler2", c, "pause", at=utcnow(), reason="等样品")
    db.session.commit()
    clock = db.session.scalar(select(SlaClock).where(SlaClock.complaint_id == c.id, SlaClock.kind == "approval"))
    assert clock.paused_at is not None
    countdown = queues.countdowns(db.session, [c.id], ClockKind.APPROVAL, utcnow())[c.id]
    assert countdown.level == "paused"
    assert queues.to_approve(db.session, user(db.session, "manager"), utcnow()) == [c]


def test_the_card_keeps_its_countdown_when_the_reject_form_opens_and_closes(login_as, approvals):
    manager, c = login_as("manager"), approvals["late16"]
    for url in (f"/complaints/{c.id}/card?reject=1", f"/complaints/{c.id}/card"):
        card = manager.get(url, htmx=True).get_data(as_text=True)
        assert "已超时 16 小时" in card, url
