"""The customer's pages in Chromium on a phone (390×844, touch), with JavaScript off — plain forms
and redirects must do everything — and on: complain with a photo, look the complaint up, add
information, rate it and close it. Screenshots go to /tmp/shots16/ to be looked at."""
import io
import re
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import expect
from sqlalchemy import select

from domain.portal import links
from models import db, utcnow
from models.complaint import Complaint
from tests.browser.conftest import SIZES
from tests.builders import make_complaint

pytestmark = pytest.mark.browser
SHOTS = Path("/tmp/shots16")
SECRET = "test-secret"
# What a thumb taps: the form's fields, choices and buttons (the honeypot and the Enter key's
# off-screen button are not for people).
TAPPABLE = ("main input:not([type=hidden]):not([type=checkbox]):not([type=radio]):not(#website), main select, "
            "main textarea, main button:not(.offscreen), main label.chip, main .field-check label, main label.score, "
            "main a, header a")


def photo() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (1600, 1200), (180, 140, 90)).save(buf, "JPEG")
    return buf.getvalue()


@pytest.fixture(params=[False, True], ids=["js-off", "js-on"])
def phone(request, browser, live_server):
    context = browser.new_context(viewport=SIZES["phone"], is_mobile=True, has_touch=True, locale="zh-CN",
                                  java_script_enabled=request.param)
    page = context.new_page()
    page.console_errors = []
    page.on("console", lambda m: page.console_errors.append(m.text)
            if m.type == "error" and "status of 422" not in m.text else None)
    page.on("pageerror", lambda e: page.console_errors.append(str(e)))
    page.js = request.param
    yield page
    context.close()


@pytest.fixture
def phone_js_off(browser, live_server):
    context = browser.new_context(viewport=SIZES["phone"], is_mobile=True, has_touch=True, locale="zh-CN",
                                  java_script_enabled=False)
    page = context.new_page()
    page.console_errors = []
    page.on("console", lambda m: page.console_errors.append(m.text)
            if m.type == "error" and "status of 422" not in m.text else None)
    yield page
    context.close()


def shoot(page, name):
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def check_layout(page):
    """Every tap target at least 44 px high (and the chips and buttons wide enough), and nothing wider
    than the phone: no sideways scrolling, nothing cut off."""
    width = SIZES["phone"]["width"]
    small = []
    for el in page.locator(TAPPABLE).all():
        box = el.bounding_box()
        if box is None:
            continue
        if box["height"] < 44 or box["width"] < 44:
            small.append((el.get_attribute("name") or el.inner_text()[:30], box["width"], box["height"]))
        assert box["x"] >= 0 and box["x"] + box["width"] <= width + 0.5, (box, el.inner_text()[:40])
    assert not small, small
    whole = page.locator("body").bounding_box()
    assert whole["width"] <= width


def test_a_customer_complains_from_a_phone(phone, live_server):
    page = phone
    page.goto(live_server + "/complain")
    expect(page.locator("h1")).to_have_text("我要投诉")
    check_layout(page)
    shoot(page, f"complain-{'js' if page.js else 'nojs'}")
    page.fill("input[name=customer_name]", "李先生")
    page.fill("input[name=customer_phone]", "13900001234")
    page.fill("textarea[name=content]", "11 月 20 日在浦东店买的鲜牛奶，打开发现已经变质。")
    page.locator("label.chip", has_text="退款").tap()
    page.select_option("select[name=store_id]", label="上海浦东店")
    page.set_input_files("input[name=photos]", files=[{"name": "牛奶.jpg", "mimeType": "image/jpeg",
                                                       "buffer": photo()}])
    # Sent without the consent first: the form comes back with the message and keeps the photo.
    page.get_by_role("button", name="提交投诉", exact=True).last.tap()
    expect(page.locator(".form-errors")).to_contain_text("还有几处需要补充或修改")
    expect(page.locator("#privacy_consent-error")).to_have_text("请阅读并同意个人信息保护说明后再提交。")
    expect(page.locator("ul.kept li span")).to_have_text("牛奶.jpg")
    expect(page.locator("textarea[name=content]")).to_have_value("11 月 20 日在浦东店买的鲜牛奶，打开发现已经变质。")
    check_layout(page)
    shoot(page, f"complain-errors-{'js' if page.js else 'nojs'}")
    page.locator(".field-check label", has_text="我已阅读并同意").tap()
    page.get_by_role("button", name="提交投诉", exact=True).last.tap()
    expect(page.locator(".done")).to_contain_text("提交成功")
    c = db.session.scalar(select(Complaint))
    expect(page.locator(".done .number")).to_have_text(c.number)
    assert page.url.endswith(links.follow_path(SECRET, c))
    assert c.channel == "web" and [a.name for a in c.attachments] == ["牛奶.jpg"] and not c.contact_consent
    check_layout(page)
    shoot(page, f"submitted-{'js' if page.js else 'nojs'}")
    assert page.console_errors == []


def test_lookup_and_adding_information_without_javascript(phone_js_off, live_server):
    page = phone_js_off
    c = make_complaint(db.session, "investigating", investigator="handler2", at=utcnow())
    db.session.commit()
    page.goto(live_server + f"/track/{c.number}")             # the slip's QR code
    expect(page.locator("input[name=number]")).to_have_value(c.number)
    page.fill("input[name=proof]", "1234")
    page.get_by_role("button", name="查询").tap()
    expect(page.locator(".form-errors")).to_have_text("编号或验证信息不对，请核对后再试。")
    check_layout(page)
    shoot(page, "lookup-refused")
    page.fill("input[name=number]", c.number.lower())
    page.fill("input[name=proof]", "5678")
    page.get_by_role("button", name="查询").tap()
    expect(page.locator(".stage")).to_have_text("正在调查处理")
    check_layout(page)
    shoot(page, "progress")
    page.fill("textarea[name=text]", "购物小票上的日期是 11 月 20 日。")
    page.set_input_files("input[name=photos]", files=[{"name": "小票.jpg", "mimeType": "image/jpeg",
                                                       "buffer": photo()}])
    page.get_by_role("button", name="提交补充材料", exact=True).last.tap()
    expect(page.locator(".ok")).to_contain_text("您补充的内容已收到")
    shoot(page, "progress-added")
    db.session.expire_all()
    assert c.events[-1].kind == "customer_adds" and c.events[-1].actor_id is None
    assert page.console_errors == []


def test_rating_and_closing_through_the_link_without_javascript(phone_js_off, live_server):
    page = phone_js_off
    c = make_complaint(db.session, "follow_up", contact_consent=True)
    token = links.issue(db.session, c, utcnow(), 7)
    db.session.commit()
    page.goto(live_server + f"/survey/{token}")
    expect(page.locator("h1")).to_have_text("请为我们的处理评分")
    check_layout(page)
    shoot(page, "survey")
    page.locator("label.score", has_text="很满意").tap()
    page.locator(".field-check label", has_text="问题已解决，同意结案").tap()
    page.get_by_role("button", name="提交评价").tap()
    expect(page.locator("h1")).to_have_text("已结案，感谢您的评价")
    shoot(page, "survey-done")
    db.session.expire_all()
    assert c.stage == "closed" and c.events[-1].kind == "customer_closed" and c.events[-1].actor_id is None
    assert page.console_errors == []
    page.goto(live_server + f"/survey/{token}")                 # the link again: used
    expect(page.locator("h1")).to_have_text("这个评价链接已经用过了。")
    shoot(page, "survey-used")
    assert re.search(r"TS-\d{6}-\d{4}", page.locator("a.btn").get_attribute("href"))
    assert [m for m in page.console_errors if "status of 410" not in m] == []    # 410 is the page's answer


def test_an_expired_link_leads_to_rating_from_the_progress_page_without_javascript(phone_js_off, live_server):
    """No SMS or mail server here, so no new link can be sent: the expired link's page leads to the
    progress page, which offers the rating itself; the customer rates and closes it."""
    from datetime import timedelta
    page = phone_js_off
    c = make_complaint(db.session, "follow_up", contact_consent=True)
    token = links.issue(db.session, c, utcnow() - timedelta(days=8), 7)
    db.session.commit()
    page.goto(live_server + f"/survey/{token}")
    expect(page.locator("h1")).to_have_text("这个评价链接已过期。")
    expect(page.get_by_role("button", name="发送新的评价链接")).to_have_count(0)
    check_layout(page)
    shoot(page, "survey-expired")
    page.get_by_role("link", name="查看处理进度").tap()
    page.get_by_role("button", name="现在评价").tap()
    check_layout(page)
    shoot(page, "survey-from-progress")
    page.locator("label.score", has_text="满意").first.tap()
    page.locator(".field-check label", has_text="问题已解决，同意结案").tap()
    page.get_by_role("button", name="提交评价").tap()
    expect(page.locator("h1")).to_contain_text("已结案")
    db.session.refresh(c)
    assert c.stage == "closed" and c.close_reason == "customer"
    assert [m for m in page.console_errors if "status of 410" not in m] == []
