"""The manager approves a penalty with one tap on a phone (issue 7)."""
import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from domain import penalties
from models import db, utcnow
from models.complaint import Penalty
from tests.browser.test_login_browser import log_in
from tests.builders import act, unit, user
from tests.domain.test_attribution import approved

pytestmark = pytest.mark.browser


def test_the_manager_approves_a_penalty_with_one_tap(browser, live_server):
    from tests.browser.conftest import SIZES
    context = browser.new_context(viewport=SIZES["phone"], is_mobile=True, has_touch=True, locale="zh-CN")
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    team = unit(db.session, "嘉兴食品厂/加工一班")
    c = approved(db.session, extra={"complained_unit_id": team.id})
    act(db.session, "quality", c, "attribute", kind="team", unit_id=team.id)
    penalties.act(db.session, user(db.session, "quality"), c, "propose", version=None, now=utcnow())
    db.session.commit()
    log_in(page, live_server, "manager")
    card = page.locator(f"#penalty-{c.id}")
    expect(card).to_contain_text("班组 · 加工一班")
    card.get_by_role("button", name="批准").tap()
    expect(page.locator(f"#penalty-{c.id}")).to_contain_text("已批准")
    db.session.expire_all()
    assert db.session.scalar(select(Penalty.status).where(Penalty.complaint_id == c.id)) == "approved"
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "horizontal scroll"
    assert errors == []
    context.close()
