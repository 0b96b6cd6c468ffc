"""Issue 16: the walk-in customer's slip as Chromium shows and prints it — on the clerk's phone
(390×844) the QR code is whole and the number is not cut; printed, the 80 mm receipt is one 80 mm
page (and still not cut at 80 mm), the A4 slip one A4 sheet; the print button works without an
inline script; every control is a finger's size."""
import os
import re
import tempfile

import pytest
from playwright.sync_api import expect

from models import db
from tests.browser.conftest import SIZES
from tests.browser.test_layout_browser import SMALL
from tests.browser.test_login_browser import log_in
from tests.builders import make_complaint

pytestmark = pytest.mark.browser
SHOTS = os.environ.get("KESU_SCREENSHOTS") or tempfile.gettempdir()
MM = 96 / 25.4                      # CSS px per millimetre
POINTS_80MM = 80 / 25.4 * 72        # the PDF's page width in points


def pages_in(pdf: bytes) -> list:
    """The MediaBox (width, height in points) of every page of a PDF Chromium wrote."""
    count = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    boxes = [tuple(float(v) for v in box.split()[2:4]) for box in re.findall(rb"/MediaBox\s*\[([^\]]*)\]", pdf)]
    return boxes[:count] if len(boxes) >= count else [boxes[0]] * count


def whole_and_inside(locator, width):
    """The element's box is inside [0, width] and its text is not cut (nothing scrolls inside it)."""
    box = locator.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= width + 0.5, box
    assert locator.evaluate("e => e.scrollWidth <= e.clientWidth"), "the text is wider than its box"
    return box


def test_the_80mm_slip_on_a_phone_and_printed(browser, live_server):
    c = make_complaint(db.session, "new")
    db.session.commit()
    context = browser.new_context(viewport=SIZES["phone"], is_mobile=True, has_touch=True, locale="zh-CN")
    errors = []
    try:
        page = context.new_page()
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        log_in(page, live_server, "receiver")
        page.goto(f"{live_server}/complaints/{c.id}/slip?size=80")
        page.wait_for_load_state("networkidle")
        expect(page.locator("#slip-number")).to_have_text(c.number)
        # the QR code: drawn, square, at least 40 mm across, all of it on the screen
        qr = page.locator("#slip-qr svg")
        expect(qr).to_be_visible()
        box = whole_and_inside(qr, SIZES["phone"]["width"])
        assert box["width"] >= 40 * MM and abs(box["width"] - box["height"]) < 1
        assert box["y"] + box["height"] <= page.evaluate("document.documentElement.scrollHeight")
        assert qr.locator("path").evaluate("p => p.getTotalLength() > 100")     # modules, not an empty box
        # the number: one line, whole
        number = page.locator("#slip-number")
        whole_and_inside(number, SIZES["phone"]["width"])
        assert number.evaluate("e => e.getClientRects().length") == 1
        # the print button is shown by slip.js (no inline script: CSP) and opens the print dialog
        button = page.get_by_role("button", name="打印")
        expect(button).to_be_visible()
        page.evaluate("() => { window.printed = 0; window.print = () => { window.printed += 1; }; }")
        button.tap()
        assert page.evaluate("window.printed") == 1
        assert page.evaluate(SMALL) == []                                  # 44 px controls, not too wide
        shot = os.path.join(SHOTS, f"kesu-slip-80-phone-{c.id}.png")
        page.screenshot(path=shot, full_page=True)

        # printed: one page 80 mm wide, the number whole at the receipt's width
        pdf = page.pdf(width="80mm", height="170mm", prefer_css_page_size=True, print_background=True)
        pages = pages_in(pdf)
        assert len(pages) == 1 and abs(pages[0][0] - POINTS_80MM) < 1, pages
        page.emulate_media(media="print")
        page.set_viewport_size({"width": round(80 * MM), "height": round(170 * MM)})
        expect(page.locator(".toolbar")).to_be_hidden()
        whole_and_inside(number, 80 * MM)
        whole_and_inside(qr, 80 * MM)
        assert page.evaluate("document.documentElement.scrollHeight") <= 170 * MM + 1, "longer than the page"
        page.screenshot(path=os.path.join(SHOTS, f"kesu-slip-80-print-{c.id}.png"), full_page=True)
        assert not errors, errors
    finally:
        context.close()


def test_the_a4_slip_prints_on_one_sheet(browser, live_server):
    c = make_complaint(db.session, "new")
    db.session.commit()
    context = browser.new_context(locale="zh-CN", has_touch=True)
    try:
        page = context.new_page()
        log_in(page, live_server, "quality")
        page.goto(f"{live_server}/complaints/{c.id}/slip?size=a4")
        expect(page.locator("#slip-number")).to_have_text(c.number)
        expect(page.locator("#slip-qr svg")).to_be_visible()
        pdf = page.pdf(format="A4", prefer_css_page_size=True)
        pages = pages_in(pdf)
        assert len(pages) == 1 and abs(pages[0][0] - 595.3) < 2, pages
        page.screenshot(path=os.path.join(SHOTS, f"kesu-slip-a4-{c.id}.png"), full_page=True)
    finally:
        context.close()
