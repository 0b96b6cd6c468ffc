"""The whole loop through the UI with four people at once: a receiver on a tablet, quality and a
handler at desktops, the manager on a phone — including a rejection round."""
import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from models import db
from models.complaint import Complaint
from tests.browser.conftest import SIZES
from tests.browser.test_login_browser import log_in

pytestmark = pytest.mark.browser
DESKTOP = {"width": 1280, "height": 900}


def person(browser, username, live_server, size, mobile=False):
    context = browser.new_context(viewport=size, is_mobile=mobile, has_touch=True, locale="zh-CN")
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.on("console", lambda m: page.errors.append(m.text)
            if m.type == "error" and not re.search(r"status of (409|422)", m.text) else None)
    log_in(page, live_server, username)
    return context, page


def chip(page, name, value):
    page.locator(f"label.chip:has(input[name={name}][value='{value}'])").click()


def open_record(page, live_server, ident, action_label):
    page.goto(f"{live_server}/complaints/{ident}")
    page.locator("#action-panel").get_by_text(action_label, exact=True).click()
    expect(page.locator("#action-panel h2")).to_have_text(action_label)


def submit(page, label):
    page.locator("#action-panel").get_by_role("button", name=label).click()
    expect(page.locator(".toast")).to_contain_text("已完成")


def test_the_whole_loop_by_four_people(browser, live_server):
    people = {}
    try:
        for name, size, mobile in (("receiver", SIZES["tablet"], False), ("quality", DESKTOP, False),
                                   ("handler2", DESKTOP, False), ("manager", SIZES["phone"], True)):
            people[name] = person(browser, name, live_server, size, mobile)
        clerk, quality, handler, manager = (people[n][1] for n in ("receiver", "quality", "handler2", "manager"))

        # 1. The clerk registers a serious complaint (the manager will have to approve).
        clerk.fill("input[name=customer_name]", "王女士")
        clerk.fill("input[name=customer_phone]", "13812345678")
        clerk.fill("textarea[name=content]", "蛋糕里吃出塑料片，孩子嘴被划破。")
        clerk.get_by_text("异物", exact=True).tap()
        clerk.locator("label.chip", has_text="严重").tap()
        clerk.get_by_role("button", name="登记并生成投诉编号").tap()
        number = clerk.locator("#complaint-number").inner_text()
        ident = db.session.scalar(select(Complaint.id).where(Complaint.number == number))

        # 2. Quality dispatches it from the queue.
        quality.goto(live_server + "/quality/")
        quality.get_by_text(number).click()
        quality.locator("#action-panel").get_by_text("核实并分派", exact=True).click()
        quality.select_option("select[name=unit_id]", label="生产部")
        submit(quality, "核实并分派")

        # 3. The handler finds it in the department queue, adds an action and proposes.
        handler.goto(live_server + "/handler/")
        handler.get_by_text(number).click()
        handler.locator("#action-panel").get_by_text("添加纠正/预防措施", exact=True).click()
        handler.fill("textarea[name=text]", "包装线加装金属/异物检测")
        handler.fill("input[name=due]", (date.today() + timedelta(days=14)).isoformat())
        submit(handler, "添加纠正/预防措施")

        def propose(amount):
            open_record(handler, live_server, ident, "提交处理方案")
            handler.fill("textarea[name=findings]", "同批次抽检发现包装膜碎片")
            handler.fill("textarea[name=root_cause]", "封口机刀片磨损")
            chip(handler, "cause_category", "machine")
            chip(handler, "kind", "compensation")
            handler.fill("input[name=amount]", amount)
            handler.fill("textarea[name=text]", f"赔偿 {amount} 元并致歉")
            submit(handler, "提交处理方案")
        propose("200")

        # 4. The manager, on a phone, rejects once with a comment …
        manager.goto(live_server + "/manager/")
        card = manager.locator(f"#approval-{ident}")
        expect(card).to_contain_text("¥200.00")
        card.get_by_role("button", name="驳回").tap()
        card.locator("textarea[name=comment]").fill("请先上门看望孩子，再谈赔偿")
        card.get_by_role("button", name="确认驳回").tap()
        expect(manager.locator(f"#approval-{ident}")).to_contain_text("已驳回")

        # … the handler proposes again, and the manager approves with one tap.
        propose("500")
        manager.goto(live_server + "/manager/")
        before = int(manager.locator("#approve-count").inner_text())
        approve = manager.locator(f"#approval-{ident}").get_by_role("button", name="批准")
        assert approve.bounding_box()["height"] >= 48
        approve.tap()
        expect(manager.locator(f"#approval-{ident}")).to_contain_text("已批准")
        expect(manager.locator("#approve-count")).to_have_text(str(before - 1))   # out-of-band update

        # 5. The clerk (first responder) tells the customer; she accepts.
        open_record(clerk, live_server, ident, "执行并答复顾客")
        chip(clerk, "method", "visit")
        chip(clerk, "accepted", "yes")
        submit(clerk, "执行并答复顾客")

        # 6. Quality verifies the action.
        open_record(quality, live_server, ident, "验证措施效果")
        quality.locator("label.chip", has_text="有效").first.click()
        submit(quality, "验证措施效果")

        # 7. The follow-up call closes it.
        open_record(clerk, live_server, ident, "回访满意度")
        chip(clerk, "score", "5")
        submit(clerk, "回访满意度")
        expect(clerk.locator(".tag-stage-closed").first).to_have_text("已结案")

        db.session.expire_all()
        c = db.session.get(Complaint, ident)
        assert c.stage == "closed" and c.approved_by.username == "manager" and c.proposal_amount == 500
        assert [e.kind for e in c.events].count("reject") == 1
        for _context, page in people.values():
            assert page.errors == [], page.errors
    finally:
        for context, _page in people.values():
            context.close()
