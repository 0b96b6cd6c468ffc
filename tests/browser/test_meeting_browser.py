"""Signing the monthly meeting's minutes on a phone (issue 17): the manager finds the minutes on their
home page and signs with one tap (a finger-sized button, no horizontal scroll); the meeting page then
shows the signature, and quality's A4 minutes name it. Also at the tablet size, the attendee's page."""
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from domain import meetings
from models import db, utcnow
from tests.browser.test_login_browser import log_in
from tests.builders import user
from tests.domain.test_monthly import november

pytestmark = pytest.mark.browser


def issued_meeting():
    s, now = db.session, utcnow()
    november(s)
    q = user(s, "quality")
    m, _new = meetings.open_meeting(s, q, "2026-11", now=now)

    def do(name, **values):
        return meetings.act(s, q, m, name, meetings.STEPS[name].fields(**values), version=m.version, now=now)
    do("details", title="十一月客诉专题会", held_on=date(2026, 12, 3), place="三楼会议室",
       attendees=(user(s, "manager").id, user(s, "handler2").id))
    for item in m.items:
        do("conclude", item_id=item.id, conclusion="原因已查明，按措施整改")
    do("add_action", item_id=m.items[0].id, text="生产线加装金属探测仪", owner_user_id=user(s, "handler2").id,
       due=now.date() + timedelta(days=10))
    do("issue")
    s.commit()
    return m


def test_the_manager_signs_the_minutes_with_one_tap(page, live_server):
    m = issued_meeting()
    log_in(page, live_server, "manager")
    card = page.locator("#meeting-todo")
    expect(card).to_contain_text("十一月客诉专题会")
    button = card.get_by_role("button", name="签字确认")
    box = button.bounding_box()
    assert box["height"] >= 40 and box["width"] >= 60
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "horizontal scroll"
    button.tap()
    expect(page.locator(".toast")).to_contain_text("已签字确认")
    expect(page.locator("#meeting-todo")).to_have_count(0)          # nothing left to sign
    page.goto(f"{live_server}/meetings/{m.id}")
    expect(page.locator("#sign")).to_contain_text("您已签字确认会议纪要")
    expect(page.locator("#details")).to_contain_text("已签字")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "horizontal scroll"
    assert page.console_errors == []
    page.goto(f"{live_server}/meetings/{m.id}/minutes")             # the A4 page (no app frame, no favicon)
    expect(page.locator("body")).to_contain_text("已签字确认")
