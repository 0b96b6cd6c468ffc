"""A clerk registers a walk-in complaint with a photo and tells the customer its number, at
tablet (1024×768) and phone (390×844) sizes; the registry finds it."""
import io
import re
import time

import pytest
from PIL import Image
from playwright.sync_api import expect
from sqlalchemy import select

from models import db
from models.complaint import Complaint
from tests.browser.test_login_browser import log_in

pytestmark = pytest.mark.browser


def photo_bytes() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (1600, 1200), (180, 140, 90)).save(buf, "JPEG")
    return buf.getvalue()


def test_register_a_walk_in_complaint_with_a_photo(page, live_server):
    log_in(page, live_server, "receiver")
    expect(page.locator("h1")).to_contain_text("登记投诉")
    started = time.monotonic()
    page.fill("input[name=customer_name]", "王女士")
    page.fill("input[name=customer_phone]", "13812345678")
    page.fill("textarea[name=content]", "昨天买的五仁月饼，打开后发现里面有一根头发。")
    page.get_by_text("异物", exact=True).tap()
    page.locator("label.chip", has_text="退款").tap()
    # The camera button: the photo shows as a preview before anything is sent.
    page.set_input_files("input[name=photos][capture]", files=[
        {"name": "IMG_0001.jpg", "mimeType": "image/jpeg", "buffer": photo_bytes()}])
    expect(page.locator("#previews .preview img")).to_have_count(1)
    # A second photo with the camera again (a fresh input took the first one's place).
    page.set_input_files("input[name=photos][capture] >> nth=0", files=[
        {"name": "IMG_0002.jpg", "mimeType": "image/jpeg", "buffer": photo_bytes()}])
    expect(page.locator("#previews .preview img")).to_have_count(2)
    page.get_by_role("button", name="登记并生成投诉编号").tap()
    number = page.locator("#complaint-number")
    expect(number).to_have_text(re.compile(r"TS-\d{6}-0001"))
    elapsed = time.monotonic() - started
    assert elapsed < 60  # scripted; a person takes longer, but the path has no waits or detours
    complaint = db.session.scalar(select(Complaint))
    assert complaint.customer_name == "王女士" and len(complaint.attachments) == 2
    assert complaint.category.name == "异物" and complaint.demand == "refund"
    # The big button is the next complaint; the record shows the photo through the scoped route.
    assert page.get_by_role("link", name="登记下一条").bounding_box()["height"] >= 48
    page.get_by_role("link", name="查看记录").tap()
    expect(page.locator(".gallery img")).to_have_count(2)
    page.locator(".gallery").scroll_into_view_if_needed()  # thumbnails load lazily
    # (Polled from here: wait_for_function evaluates strings in the page, which our CSP forbids.)
    loaded = "Array.from(document.querySelectorAll('.gallery img')).every(i => i.complete && i.naturalWidth > 0)"
    for _ in range(100):
        if page.evaluate(loaded):
            break
        page.wait_for_timeout(100)
    assert page.evaluate(loaded), "thumbnails did not load"
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "horizontal scroll"


def test_errors_are_shown_in_place_and_the_input_stays(page, live_server):
    log_in(page, live_server, "receiver")
    page.fill("input[name=customer_name]", "李先生")
    page.fill("textarea[name=content]", "店员态度很差")
    page.get_by_role("button", name="登记并生成投诉编号").tap()
    expect(page.locator("#intake .form-errors")).to_be_visible()
    expect(page.locator("#intake")).to_contain_text("请至少留下顾客的电话或电子邮箱")
    expect(page.locator("#intake")).to_contain_text("请选择投诉类别")
    expect(page.locator("input[name=customer_name]")).to_have_value("李先生")
    expect(page.locator("textarea[name=content]")).to_have_value("店员态度很差")
    # Fix both and send: one complaint.
    page.fill("input[name=customer_phone]", "13900001111")
    page.get_by_text("服务态度", exact=True).tap()
    page.get_by_role("button", name="登记并生成投诉编号").tap()
    expect(page.locator("#complaint-number")).to_have_text(re.compile(r"TS-\d{6}-0001"))
    assert db.session.scalar(select(Complaint)).customer_phone == "13900001111"


def test_major_note_more_details_and_registry_search(page, live_server):
    log_in(page, live_server, "receiver")
    page.locator("label.chip-flag", has_text="食品安全").tap()
    expect(page.locator("#severity-note")).to_contain_text("将定为重大投诉")
    page.get_by_role("button", name=re.compile("更多信息")).tap()
    expect(page.locator("input[name=batch_no]")).to_be_visible()
    page.fill("input[name=batch_no]", "20261120-2")
    page.fill("input[name=customer_name]", "赵先生")
    page.fill("input[name=customer_phone]", "13700002222")
    page.fill("textarea[name=content]", "全家吃了蛋糕后腹泻")
    page.get_by_text("变质/过期", exact=True).tap()
    page.get_by_role("button", name="登记并生成投诉编号").tap()
    expect(page.locator(".done")).to_contain_text("重大投诉")
    number = page.locator("#complaint-number").inner_text()
    page.goto(live_server + "/complaints/")
    page.fill("input[name=q]", "赵")
    expect(page.locator("#complaint-rows")).to_contain_text(number)
    complaint = db.session.scalar(select(Complaint))
    assert complaint.severity == "major" and complaint.batch_no == "20261120-2"
