"""Issue 15, words and layout on a phone (390×844) and a tablet (1024×768): every control is a
finger's size and no page is wider than the screen, the admin's tabs scroll to the current one, the register's results start on the
first screen, wide tables show that they scroll, the print view keeps a phone number on one line,
penalty totals use the page's width, 处理流程 shows its marker, and the safety-word hint appears
while the clerk types."""
import re

import pytest
from playwright.sync_api import expect

from domain import penalties
from models import db
from tests.browser.conftest import SIZES
from tests.browser.test_login_browser import log_in
from tests.builders import NOW, act, make_complaint, unit, user

pytestmark = pytest.mark.browser
MIN = 44

# Every visible control smaller than 44×44, unless its clickable area is: a box or file picker
# dressed as a chip or button counts by its label; a field's caption (label[for]) is excluded when
# the field it focuses is itself large enough; a link inside a sentence (a hint, a lead, a notice
# made of words) is excluded — such a link is never the only way to its page.
SMALL = """() => {
  const MIN = %d, out = [];
  const box = el => el.getBoundingClientRect();
  const big = r => r.width >= MIN - 0.5 && r.height >= MIN - 0.5;
  const shown = el => { const r = box(el), st = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && st.visibility !== "hidden" && !el.closest("[hidden]"); };
  for (const el of document.querySelectorAll("a[href], button, input:not([type=hidden]), select, textarea, summary, label[for]")) {
    if (!shown(el) || big(box(el))) continue;
    const label = el.closest("label") || (el.id && document.querySelector(`label[for="${el.id}"]`));
    if (el.tagName === "INPUT" && label && big(box(label))) continue;
    if (el.tagName === "LABEL") { const field = document.getElementById(el.htmlFor); if (field && big(box(field))) continue; }
    if (el.tagName === "A" && el.closest(".hint, .lead, .notice, .content-text")) {
      const p = el.parentElement; if (p.textContent.trim().length > el.textContent.trim().length + 4) continue; }
    const r = box(el);
    out.push(`${el.tagName.toLowerCase()}${el.className ? "." + el.className.split(" ").join(".") : ""} "${(el.textContent || el.name || "").trim().slice(0, 20)}" ${Math.round(r.width)}×${Math.round(r.height)}`);
  }
  // and nothing makes the page itself scroll sideways (wide tables scroll in their own box)
  if (document.documentElement.scrollWidth > window.innerWidth + 1) out.push(`the page is ${document.documentElement.scrollWidth} px wide`);
  return out;
}""" % MIN


def world():
    """Complaints at the stages the screens show, one closed and attributed with an approved penalty."""
    s = db.session
    made = {stage: make_complaint(s, stage) for stage in ("new", "investigating", "pending_approval", "closed")}
    made["repeat"] = make_complaint(s, "new", extra={"repeat_of_id": made["closed"].id})
    closed = made["closed"]
    act(s, "quality", closed, "attribute", kind="department", unit_id=unit(s, "生产部").id, reason="生产部整体")
    p = penalties.act(s, user(s, "quality"), closed, "propose", version=None, now=NOW)
    penalties.act(s, user(s, "manager"), closed, "approve", version=p.version, now=NOW)
    s.commit()
    return {k: c.id for k, c in made.items()}


def person(browser, live_server, username, size):
    context = browser.new_context(viewport=SIZES[size], is_mobile=size == "phone", has_touch=True, locale="zh-CN")
    page = context.new_page()
    log_in(page, live_server, username)
    return context, page


def small_controls(page, url):
    page.goto(url)
    page.wait_for_load_state("networkidle")
    page.evaluate("() => document.querySelectorAll('details').forEach(d => d.open = true)")
    return page.evaluate(SMALL)


PERIOD = "from=2026-11-01&to=2026-11-30"


def pages_of(ids):
    record = [f"/complaints/{i}" for i in ids.values()]
    return {
        "receiver": ["/receiver/", f"/receiver/done/{ids['new']}", "/complaints/?mine=1", "/notices"],
        "handler2": ["/handler/", f"/complaints/{ids['investigating']}",
                     f"/complaints/{ids['investigating']}/act/propose", f"/complaints/{ids['investigating']}/act/add_action"],
        "quality": ["/quality/", "/complaints/", *record, f"/complaints/{ids['closed']}/print",
                    f"/complaints/{ids['new']}/act/dispatch", f"/complaints/ledger?{PERIOD}",
                    f"/complaints/penalties?{PERIOD}", "/complaints/overdue", "/complaints/store-audit",
                    "/complaints/half-year"],
        "manager": ["/manager/", f"/complaints/{ids['pending_approval']}"],
        "admin": ["/admin/", "/admin/units", "/admin/units/1", "/admin/users", "/admin/users/1", "/admin/users/new",
                  "/admin/categories", "/admin/calendar", "/admin/reminders", "/admin/penalties", "/admin/settings",
                  "/admin/audit", "/admin/replies"],
    }


@pytest.mark.parametrize("size", SIZES)
def test_every_control_is_at_least_44_px_and_no_page_is_too_wide(browser, live_server, size, database_url):
    if not database_url.startswith("sqlite"):
        pytest.skip("layout does not depend on the database: walked once, on SQLite (30 s a size)")
    ids = world()
    problems = []
    for username, paths in pages_of(ids).items():
        context, page = person(browser, live_server, username, size)
        try:
            for path in paths:
                problems += [f"{username} {path}: {p}" for p in small_controls(page, live_server + path)]
        finally:
            context.close()
    assert not problems, "\n".join(problems)


def test_admin_tabs_scroll_to_the_current_one_on_a_phone(browser, live_server):
    context, page = person(browser, live_server, "admin", "phone")
    try:
        for path, label in (("/admin/penalties", "罚扣标准"), ("/admin/audit", "审计日志"), ("/admin/", "概览")):
            page.goto(live_server + path)
            nav = page.locator("nav.subnav")
            assert nav.evaluate("n => n.scrollWidth > n.clientWidth")          # they do not fit: they scroll
            current = nav.locator("[aria-current=page]")
            expect(current).to_have_text(label)
            inside = current.evaluate("""a => { const r = a.getBoundingClientRect(), n = a.parentElement.getBoundingClientRect();
                                                 return r.left >= n.left - 1 && r.right <= n.right + 1; }""")
            assert inside, f"{path}: the current tab is scrolled out of sight"
            # the row says it scrolls: shadows at its edges
            assert "radial-gradient" in nav.evaluate("n => getComputedStyle(n).backgroundImage")
    finally:
        context.close()


@pytest.mark.parametrize("size", SIZES)
def test_the_registers_results_start_on_the_first_screen(browser, live_server, size):
    world()
    context, page = person(browser, live_server, "quality", size)
    try:
        page.goto(live_server + "/complaints/")
        fold = page.locator("details.filters-fold")
        expect(fold).not_to_have_attribute("open", "")
        first = page.locator(".complaint-row").first
        assert first.bounding_box()["y"] + 60 < SIZES[size]["height"], "the first result is below the first screen"
        expect(page.locator("#filter-count")).to_be_hidden()            # no filter in use
        fold.locator("summary").click()
        page.select_option("select[name=stage]", "new")
        expect(page.locator("#filter-count")).to_have_text(re.compile(r"^1"))
        expect(page.locator(".complaint-row").first).to_contain_text("待分派")
    finally:
        context.close()


def test_wide_tables_show_that_they_scroll_on_a_phone(browser, live_server):
    world()
    context, page = person(browser, live_server, "quality", "phone")
    try:
        page.goto(f"{live_server}/complaints/ledger?{PERIOD}")
        wrap = page.locator(".table-scroll").first
        assert wrap.evaluate("w => w.scrollWidth > w.clientWidth")
        assert "radial-gradient" in wrap.evaluate("w => getComputedStyle(w).backgroundImage")
    finally:
        context.close()


@pytest.mark.parametrize("size", SIZES)
def test_the_print_view_keeps_a_phone_number_on_one_line(browser, live_server, size):
    ids = world()
    context, page = person(browser, live_server, "quality", size)
    try:
        page.goto(f"{live_server}/complaints/{ids['closed']}/print")
        lines = page.evaluate("""() => {
          const cell = [...document.querySelectorAll("td")].find(td => /^1\\d{10}$/.test(td.textContent.trim()));
          const range = document.createRange(); range.selectNodeContents(cell);
          return new Set([...range.getClientRects()].map(r => Math.round(r.top))).size; }""")
        assert lines == 1
        back = page.get_by_role("link", name=re.compile("返回记录")).bounding_box()
        assert back["height"] >= MIN and back["width"] >= MIN
    finally:
        context.close()


def test_penalty_totals_use_the_pages_width(browser, live_server):
    world()
    context, page = person(browser, live_server, "quality", "tablet")
    try:
        page.goto(f"{live_server}/complaints/penalties?{PERIOD}")
        table = page.locator("table.ledger-table").bounding_box()
        card = page.locator("section.card.list").first.bounding_box()
        assert table["width"] >= card["width"] * 0.9, (table, card)
    finally:
        context.close()


@pytest.mark.parametrize("size", SIZES)
def test_the_flow_shows_its_expand_marker(browser, live_server, size):
    ids = world()
    context, page = person(browser, live_server, "quality", size)
    try:
        page.goto(f"{live_server}/complaints/{ids['new']}")
        summary = page.locator("details.flow > summary")
        marker = "s => getComputedStyle(s, '::before').content"
        assert summary.evaluate(marker) == '"▸"'
        summary.click()
        assert summary.evaluate(marker) == '"▾"'
        expect(page.locator(".flow-list")).to_be_visible()
    finally:
        context.close()


@pytest.mark.parametrize("size", SIZES)
def test_safety_words_prompt_the_clerk_while_typing(browser, live_server, size):
    context, page = person(browser, live_server, "receiver", size)
    try:
        hint = page.locator("#safety-hint")
        expect(hint).to_be_hidden()
        page.fill("textarea[name=content]", "饼干里有碎玻璃，孩子的嘴被划破了")
        expect(hint).to_be_visible()
        expect(hint.locator(".safety-found")).to_have_text("划破、玻璃")
        page.locator("label.chip-flag:has(input[name=safety])").click()           # ticked: the hint goes
        expect(hint).to_be_hidden()
        page.locator("label.chip-flag:has(input[name=safety])").click()
        expect(hint).to_be_visible()
        page.fill("textarea[name=content]", "包装盒压坏了一个角")
        expect(hint).to_be_hidden()
    finally:
        context.close()
