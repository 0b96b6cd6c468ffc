"""The manager reads last month's report on a phone (390×844, touch) and taps a bar to reach the
register filtered to the complaints behind it (issue 17): the charts are drawn without JavaScript,
fit the screen (the 12-month columns scroll in their own box, newest in view), every control is a
finger's size, and the register's count equals the bar's number."""
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from models import db
from tests.browser.conftest import SIZES
from tests.browser.test_layout_browser import SMALL as LAYOUT_SMALL
from tests.browser.test_login_browser import log_in
from tests.domain.test_monthly import november

pytestmark = pytest.mark.browser
SHOTS = Path("/tmp/kesu-monthly-shots")
# issue 15's check of every control's size, able to name an SVG link (its className is not a string)
SMALL = LAYOUT_SMALL.replace('el.className ? "." + el.className.split(" ").join(".") : ""',
                             '(el.getAttribute("class") ? "." + el.getAttribute("class").split(" ").join(".") : "")'
                             ' + (el.getAttribute("aria-label") || "")')
assert SMALL != LAYOUT_SMALL


@pytest.fixture
def phone(browser, live_server):
    context = browser.new_context(viewport=SIZES["phone"], is_mobile=True, has_touch=True, locale="zh-CN")
    page = context.new_page()
    page.console_errors = []
    page.on("console", lambda m: page.console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: page.console_errors.append(str(e)))
    yield page
    context.close()


def test_the_manager_reads_the_report_on_a_phone_and_taps_a_bar(phone, live_server):
    november(db.session)
    SHOTS.mkdir(exist_ok=True)
    page = phone
    log_in(page, live_server, "manager")
    page.goto(live_server + "/complaints/monthly?month=2026-11")
    expect(page.locator("h1")).to_contain_text("客诉月度报告 · 2026-11")
    page.screenshot(path=str(SHOTS / "phone-top.png"))
    # the charts are there, inside the screen's width; the page itself never scrolls sideways
    assert page.locator("svg.chart").count() >= 14
    widths = page.evaluate("() => [...document.querySelectorAll('svg.chart')].map(s => s.getBoundingClientRect().right)")
    scroller = page.locator(".chart-scroll").first
    assert all(w <= 390 for w in widths[:1])
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    # the 12 months scroll in their own box, which opens on the newest months
    box = scroller.bounding_box()
    assert box["width"] <= 390
    assert scroller.evaluate("el => el.scrollWidth > el.clientWidth")
    newest = page.locator(".chart-trend a").last.bounding_box()
    assert newest["x"] + newest["width"] <= 390 + 1
    # every control (chart links included) is at least 44 × 44
    page.evaluate("() => document.querySelectorAll('details').forEach(d => d.open = true)")
    small = page.evaluate(SMALL)
    assert small == [], "\n".join(small)
    page.evaluate("() => document.querySelectorAll('details').forEach(d => d.open = false)")
    page.locator("#matrix").scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "phone-matrix.png"))
    for section in ("causes", "trend", "clocks", "stages"):
        page.locator(f"#{section}").scroll_into_view_if_needed()
        page.screenshot(path=str(SHOTS / f"phone-{section}.png"))
    page.screenshot(path=str(SHOTS / "phone-full.png"), full_page=True)
    # tap the bar of 异物 in the categories' Pareto: 4 complaints
    bar = page.locator('#categories svg.chart-pareto a[aria-label^="异物"]')
    label = bar.get_attribute("aria-label")
    n = int(re.search(r"：(\d+)", label).group(1))
    assert n == 4
    bar.scroll_into_view_if_needed()
    with page.expect_navigation():
        bar.locator("rect.bar").tap()
    expect(page).to_have_url(re.compile(r"/complaints/\?.*category=\d+"))
    expect(page.locator(".list-count")).to_have_text(f"共 {n} 条")
    expect(page.locator(".complaint-row")).to_have_count(n)
    expect(page.locator(".drill-chips")).to_contain_text("类型：投诉")
    page.screenshot(path=str(SHOTS / "phone-register.png"))
    # back, and a cell of the matrix: 产品质量 × 紧急
    page.go_back()
    cell = page.locator('#matrix svg a[aria-label^="产品质量 · 紧急"]')
    cell.scroll_into_view_if_needed()
    with page.expect_navigation():
        cell.tap()
    expect(page.locator(".list-count")).to_have_text("共 2 条")
    expect(page.locator(".drill-chips")).to_contain_text("紧急程度：紧急")
    assert page.console_errors == []


def test_the_month_picker_works_without_javascript(browser, live_server):
    november(db.session)
    context = browser.new_context(viewport=SIZES["phone"], is_mobile=True, has_touch=True, locale="zh-CN",
                                  java_script_enabled=False)
    page = context.new_page()
    try:
        log_in(page, live_server, "quality")
        page.goto(live_server + "/complaints/monthly?month=2026-11")
        page.select_option("#month-pick", "2026-10")
        with page.expect_navigation():
            page.get_by_role("button", name="查看").tap()
        expect(page.locator("h1")).to_contain_text("2026-10")
        with page.expect_navigation():
            page.get_by_role("link", name="下个月 2026-11").tap()
        expect(page.locator("h1")).to_contain_text("2026-11")
        expect(page.locator("#overview .kpi-n").first).to_have_text("9")
    finally:
        context.close()


def test_the_report_on_a_tablet(browser, live_server):
    november(db.session)
    SHOTS.mkdir(exist_ok=True)
    context = browser.new_context(viewport=SIZES["tablet"], has_touch=True, locale="zh-CN")
    page = context.new_page()
    try:
        log_in(page, live_server, "quality")
        page.goto(live_server + "/complaints/monthly?month=2026-11")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        scroller = page.locator(".chart-scroll").first
        assert not scroller.evaluate("el => el.scrollWidth > el.clientWidth")     # room for all 12 months
        page.evaluate("() => document.querySelectorAll('details').forEach(d => d.open = true)")
        small = page.evaluate(SMALL)
        assert small == [], "\n".join(small)
        page.evaluate("() => document.querySelectorAll('details').forEach(d => d.open = false)")
        page.screenshot(path=str(SHOTS / "tablet-full.png"), full_page=True)
    finally:
        context.close()
