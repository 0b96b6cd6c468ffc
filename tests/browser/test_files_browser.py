"""Files after intake and reply templates in a real browser, on a phone and on a tablet: the
handler adds a test report to a complaint from the record page (multipart over HTMX, the preview
before sending, a zero-byte file said, the file then under 照片和附件 with its stage), and picks a
reply template that fills the proposal's text to the customer."""
import io

import pytest
from PIL import Image
from playwright.sync_api import expect

from domain import replies
from models import db
from tests.browser.test_login_browser import log_in, settled
from tests.builders import NOW, category_id, make_complaint, user

pytestmark = pytest.mark.browser
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def jpeg():
    buf = io.BytesIO()
    Image.new("RGB", (320, 240), (40, 120, 200)).save(buf, "JPEG")
    return buf.getvalue()


def fits(page):
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "horizontal scroll"


def test_the_handler_adds_evidence_from_the_record_page(page, live_server):
    c = make_complaint(db.session, "investigating", investigator="handler2")
    db.session.commit()
    log_in(page, live_server, "handler2")
    page.goto(f"{live_server}/complaints/{c.id}")
    page.locator("#files").get_by_text("添加附件", exact=True).tap()
    panel = page.locator("#action-panel")
    expect(panel.locator("h2")).to_have_text("添加附件")
    expect(panel).to_be_in_viewport()                          # brought into view from the files section
    for button in (panel.locator("label.btn", has_text="拍照"), panel.locator("label.btn", has_text="选择文件")):
        box = button.bounding_box()
        assert box["height"] >= 44 and box["width"] >= 44
    fits(page)

    # A zero-byte photo is said, not dropped silently.
    panel.locator("input[name=files][multiple]").set_input_files(
        files=[{"name": "IMG_0007.jpg", "mimeType": "image/jpeg", "buffer": b""}])
    panel.get_by_role("button", name="添加附件").tap()
    expect(panel.locator(".field-error")).to_contain_text("文件是空的（0 字节），请重新拍照或选择文件。")

    panel.locator("input[name=files][multiple]").set_input_files(files=[
        {"name": "检测报告.pdf", "mimeType": "application/pdf", "buffer": PDF},
        {"name": "现场.jpg", "mimeType": "image/jpeg", "buffer": jpeg()}])
    expect(panel.locator(".previews .preview")).to_have_count(1)   # the pick is previewed before sending
    panel.locator("textarea[name=note]").fill("第三方检测报告")
    panel.get_by_role("button", name="添加附件").tap()
    expect(page.locator(".toast")).to_contain_text("已完成")
    files = page.locator("#files")
    expect(files).to_contain_text("调查处理中 · 刘洋")
    expect(files.locator("a.file-link")).to_contain_text("检测报告.pdf")
    expect(files.locator("img")).to_have_count(1)
    expect(page.locator(".timeline")).to_contain_text("检测报告.pdf、现场.jpg")
    fits(page)
    assert page.console_errors == []


def test_the_handler_picks_a_reply_template(page, live_server):
    replies.add(db.session, user(db.session, "admin"), title="致歉退款",
                body="{顾客姓名}您好，关于投诉 {投诉编号}，我们将退款{金额}元。", category_id=category_id(db.session),
                now=NOW)
    c = make_complaint(db.session, "investigating", investigator="handler2")
    db.session.commit()
    log_in(page, live_server, "handler2")
    page.goto(f"{live_server}/complaints/{c.id}")
    page.locator("#action-panel").get_by_text("提交处理方案", exact=True).tap()
    panel = page.locator("#action-panel")
    expect(panel.locator("select[name=reply_template]")).to_be_visible()
    settled(page)
    panel.locator("input[name=amount]").fill("68")
    panel.locator("select[name=reply_template]").select_option(label="致歉退款（异物）")
    expect(panel.locator("textarea[name=text]")).to_have_value(f"王女士您好，关于投诉 {c.number}，我们将退款68.00元。")
    panel.locator("textarea[name=text]").fill("王女士您好，我们将退款68元并致歉。")   # and edits it
    expect(panel.locator("textarea[name=text]")).to_have_value("王女士您好，我们将退款68元并致歉。")
    fits(page)
    assert page.console_errors == []
