"""An Excel export in a real browser (issue 17): 导出 Excel on the register, the progress section
replaced by the download link when the worker is done — by HTMX's poll, and without JavaScript by
the page refreshing itself — and the file saved under its Chinese name."""
import pytest
from playwright.sync_api import expect

from models import db, utcnow
from tests.browser.test_login_browser import log_in
from tests.builders import register
from tests.web.test_halfyear_web import run_jobs

pytestmark = pytest.mark.browser


def export_and_download(page, app, base):
    log_in(page, base, "quality")
    page.goto(base + "/complaints/?severity=major")
    with page.expect_navigation():
        page.get_by_role("button", name="导出 Excel（全部符合条件的）").click()
    expect(page.locator("#export-progress")).to_contain_text("排队中")
    run_jobs(app)                                          # the worker, while the page waits
    link = page.get_by_role("link", name="下载")
    expect(link).to_be_visible(timeout=10_000)
    with page.expect_download() as download:
        link.click()
    return download.value


def test_the_page_shows_the_download_link_when_the_worker_is_done(page, app, live_server):
    register(db.session, severity="major", at=utcnow())
    db.session.commit()
    download = export_and_download(page, app, live_server)
    assert download.suggested_filename.startswith("投诉台账-") and download.suggested_filename.endswith(".xlsx")
    assert page.console_errors == []


def test_without_javascript_the_page_refreshes_itself_until_the_file_is_ready(browser, app, live_server):
    register(db.session, severity="major", at=utcnow())
    db.session.commit()
    context = browser.new_context(java_script_enabled=False, locale="zh-CN", accept_downloads=True, has_touch=True)
    try:
        download = export_and_download(context.new_page(), app, live_server)
        assert download.suggested_filename.startswith("投诉台账-")
    finally:
        context.close()
