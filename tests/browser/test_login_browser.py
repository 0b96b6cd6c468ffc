import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

HOMES = {
    "admin": ("/admin/", "系统管理"),
    "manager": ("/manager/", "待审批"),
    "quality": ("/quality/", "品管审核"),
    "handler": ("/handler/", "部门待办"),
    "handler2": ("/handler/", "部门待办"),
    "receiver": ("/receiver/", "登记投诉"),
    "receiver2": ("/receiver/", "登记投诉"),
}


def log_in(page, base, username, password="demo12345"):
    page.goto(base + "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.get_by_role("button", name="登录").tap()


def settled(page):
    """Wait until htmx has finished with what it last swapped in: it marks new content `htmx-added` and
    wires its hx- attributes only when that settles (20 ms later), so a change made before then goes
    unheard — a person is never that quick, a test is."""
    expect(page.locator(".htmx-added, .htmx-settling, .htmx-swapping")).to_have_count(0)


@pytest.mark.parametrize("username", HOMES)
def test_each_role_logs_in_sees_home_and_logs_out(page, live_server, username):
    path, heading = HOMES[username]
    log_in(page, live_server, username)
    expect(page).to_have_url(live_server + path)
    expect(page.locator("h1")).to_contain_text(heading)
    # Big enough to hit with a thumb.
    box = page.get_by_role("button", name="退出").bounding_box()
    assert box["height"] >= 40
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "horizontal scroll"
    page.get_by_role("button", name="退出").tap()
    expect(page).to_have_url(live_server + "/login")
    expect(page.locator(".toast")).to_contain_text("您已退出登录")
    assert page.console_errors == []  # CSP violations and script errors show up here


def test_wrong_password_message_and_touch_targets(page, live_server):
    log_in(page, live_server, "receiver", "wrong-pass1")
    expect(page.locator(".form-errors")).to_contain_text("用户名或密码错误")
    for selector in ("input[name=username]", "input[name=password]", "button[type=submit]"):
        assert page.locator(selector).first.bounding_box()["height"] >= 44, selector
    assert page.console_errors == []


def test_htmx_active_search_and_csrf_protected_post(page, live_server):
    log_in(page, live_server, "admin")
    page.goto(live_server + "/admin/users")
    page.fill("input[name=q]", "张伟")
    expect(page.locator("#user-rows")).to_contain_text("张伟")
    expect(page.locator("#user-rows")).not_to_contain_text("陈晓")
    expect(page).to_have_url(re.compile(r"q=%E5%BC%A0%E4%BC%9F|q=张伟"))
    # An HTMX POST (CSRF token from <body hx-headers>) answered 422 swaps the form with the message.
    page.goto(live_server + "/admin/units")
    page.fill("#add-name", "上海徐汇店")
    page.select_option("#add-kind", "store")
    page.select_option("#add-parent_id", label="　上海分公司（分公司）")
    page.get_by_role("button", name="添加").click()
    expect(page.locator("#unit-add .field-error")).to_contain_text("已有名为")
    page.fill("#add-name", "上海长宁店")
    page.get_by_role("button", name="添加").click()
    expect(page.locator("h1")).to_contain_text("上海长宁店")
    assert page.console_errors == [], page.console_errors
