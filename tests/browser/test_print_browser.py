"""The printed 《客户投诉记录及处理表》 of a complaint closed the long way (a rejection, an action, an
answer, a verification, a survey) fills one A4 sheet, as Chromium prints it."""
import re

from tests.browser.test_login_browser import log_in
from tests.web.test_print_web import closed_complaint


def test_a_filled_closed_complaint_prints_on_one_a4_sheet(browser, live_server):
    c = closed_complaint()
    context = browser.new_context(locale="zh-CN", has_touch=True)
    try:
        page = context.new_page()
        log_in(page, live_server, "quality")
        page.goto(f"{live_server}/complaints/{c.id}/print")
        assert "赔偿 188 元并当面致歉" in page.content()            # the filled form, not a blank one
        pdf = page.pdf(format="A4", prefer_css_page_size=True)
        assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) == 1
    finally:
        context.close()
