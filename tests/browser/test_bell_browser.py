"""The bell refreshes itself (HTMX) when a reminder arrives: no reload needed."""
import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from models import db, utcnow
from tests.browser.test_login_browser import log_in
from tests.web.test_reminders_web import make_overdue

pytestmark = pytest.mark.browser


def test_a_reminder_appears_on_the_bell_without_a_reload(page, live_server):
    from domain import intake
    from models.complaint import Category
    from models.user import User
    from zoneinfo import ZoneInfo
    clerk = db.session.scalar(select(User).where(User.username == "receiver"))
    data = intake.IntakeData(customer_name="王女士", customer_phone="13812345678", content="月饼里有头发",
                             category_id=db.session.scalar(select(Category.id).where(Category.name == "异物")),
                             severity="general")
    c = intake.register(db.session, clerk, data, now=utcnow(), tz=ZoneInfo("Asia/Shanghai")).complaint
    db.session.commit()
    log_in(page, live_server, "quality")
    expect(page.locator("#bell")).to_be_visible()
    expect(page.locator("#bell .bell-n")).to_have_count(0)
    make_overdue(c)                       # the minute sweep runs meanwhile
    # The tab comes back into view (as when a phone is unlocked): the bell asks again.
    page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
    expect(page.locator("#bell .bell-n")).to_have_text("2")
    page.locator("#bell").click()
    # Both reminders are about one complaint: one row (issue 15), the other folded under it.
    expect(page.locator(".notice-group").filter(has_text=c.number)).to_contain_text("分派已到期")
    assert page.console_errors == []
