"""Issue 15 in the browser, on a phone (390×844) and a tablet (1024×768): three approval cards on
the manager's first screen with their countdowns, the clerk's waiting counts above the intake form,
and the notices grouped per complaint with a rejection in words."""
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from models import db, utcnow
from tests.browser.test_login_browser import log_in
from tests.builders import act, make_complaint

pytestmark = pytest.mark.browser
H = timedelta(hours=1)
LONG = "顾客说买回家的月饼打开后发现里面有一根很长的头发，孩子已经吃了半个，家里老人非常生气，要求门店给个说法并全额退款，还要求上门道歉。"
PROPOSAL = "向顾客致歉，全额退款并赠送同款礼盒一份；门店店长上门道歉，生产部对当班员工进行发网佩戴培训并通报。"


def proposal(hours_ago, severity="general", **fields):
    now = utcnow()
    return make_complaint(db.session, "pending_approval", at=now - (hours_ago + 2) * H, severity=severity,
                          content=LONG, customer_name="欧阳娜娜女士", when={"propose": now - hours_ago * H},
                          proposal={"text": PROPOSAL, "kind": "compensation", "amount": "1888"}, **fields)


def test_three_approval_cards_fit_the_first_phone_screen_most_urgent_first(page, live_server):
    late = proposal(30)
    others = [proposal(2, "major", safety=True), proposal(10, "serious"), proposal(5)]
    db.session.commit()
    log_in(page, live_server, "manager")
    cards = page.locator("article.approval")
    expect(cards).to_have_count(4)
    expect(cards.first).to_have_attribute("id", f"approval-{late.id}")
    expect(cards.first.locator(".countdown")).to_have_text("已超时 6 小时")
    expect(cards.nth(1)).to_have_attribute("id", f"approval-{others[0].id}")     # then the major one
    expect(cards.nth(1).locator(".countdown")).to_contain_text("还剩")
    height = page.viewport_size["height"]
    if page.viewport_size["width"] < 500:
        bottoms = [cards.nth(i).bounding_box() for i in range(3)]
        assert all(box["y"] + box["height"] <= height for box in bottoms), (bottoms, height)
    # One tap still decides.
    cards.nth(2).get_by_role("button", name="批准").tap()
    expect(page.locator(f"#approval-{others[1].id}")).to_contain_text("已批准")
    expect(page.locator("#approve-count")).to_have_text("3")
    assert page.console_errors == []


def test_the_clerk_sees_what_waits_before_the_form(page, live_server):
    waiting = make_complaint(db.session, "follow_up")
    db.session.commit()
    log_in(page, live_server, "receiver")
    bar = page.locator("#waiting-follow_up")
    expect(bar).to_contain_text("待回访 1")
    expect(page.locator("#waiting-executing")).to_contain_text("待您答复 0")
    height = page.viewport_size["height"]
    for element in (bar, page.locator("input[name=customer_name]")):   # the form still starts on screen
        box = element.bounding_box()
        assert box["y"] + box["height"] <= height, box
        assert box["height"] >= 44 or element != bar
    bar.tap()
    expect(page.locator("main")).to_contain_text(waiting.number)
    assert page.console_errors == []


def test_notices_come_one_row_per_complaint_and_a_rejection_says_why(page, live_server):
    c = make_complaint(db.session, "pending_approval", severity="serious", investigator="handler2")
    act(db.session, "manager", c, "reject", comment="金额偏高，请先与顾客沟通")
    db.session.commit()
    log_in(page, live_server, "handler2")
    page.goto(live_server + "/complaints/notices")
    rows = page.locator(".notice-group")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("方案被驳回：金额偏高，请先与顾客沟通")
    expect(rows.first).to_contain_text(c.number)
    older = rows.first.locator(".notice-older")
    expect(older).to_be_hidden()
    summary = rows.first.locator(".notice-more > summary")
    assert summary.bounding_box()["height"] >= 44
    summary.tap()
    expect(older).to_be_visible()
    expect(older).to_contain_text("分派给您的部门")
    assert page.console_errors == []
