import logging

import pytest
from sqlalchemy import func, select

from domain import audit
from models import db, utcnow
from models.audit import AuditEvent
from models.user import User
from tests.conftest import CSRF_RE, Web

HOMES = {
    "admin": "/admin/", "manager": "/manager/", "vp": "/manager/", "quality": "/quality/",
    "handler": "/handler/", "handler2": "/handler/", "receiver": "/receiver/", "receiver2": "/receiver/",
    "cs_head": "/handler/", "sh_head": "/handler/",
}


def events(kind):
    return db.session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.kind == kind))


@pytest.mark.parametrize("username,home", HOMES.items())
def test_each_demo_login_lands_on_its_role_home(demo, web, username, home):
    resp = web.login(username)
    assert resp.status_code == 303 and resp.headers["Location"] == home
    page = web.get(home)
    assert page.status_code == 200
    assert 'name="csrf_token"' in page.get_data(as_text=True)
    assert events(audit.LOGIN) == 1


def test_wrong_password_says_so_in_chinese_and_keeps_count(demo, web):
    resp = web.login("manager", "wrong-password1")
    assert resp.status_code == 422
    body = resp.get_data(as_text=True)
    assert "用户名或密码错误（连续输错 5 次将锁定 15 分钟）" in body and "联系系统管理员" in body
    assert 'value="wrong-password1"' not in body  # the password is never echoed back
    assert db.session.scalar(select(User.failed_logins).where(User.username == "manager")) == 1


def refusal(web, username, password):
    """The login page's answer, with what differs from one request to the next blanked out
    (the CSRF token, the username as typed)."""
    resp = web.login(username, password)
    body = resp.get_data(as_text=True)
    for token in set(CSRF_RE.findall(body)):
        body = body.replace(token, "")
    return resp.status_code, body.replace(f'value="{username}"', 'value=""')


def test_the_login_page_does_not_tell_which_usernames_exist(demo, web):
    """Issue 13: unknown user, wrong password, locked and deactivated accounts: one answer."""
    db.session.scalar(select(User).where(User.username == "cs2")).active = False
    db.session.commit()
    first = refusal(web, "ghost", "whatever12")
    assert first[0] == 422 and "用户名或密码错误" in first[1] and 'class="form-errors"' in first[1]
    assert refusal(web, "manager", "wrong-password1") == first
    assert refusal(web, "cs2", "demo12345") == first                 # deactivated, right password
    for _ in range(5):
        assert refusal(web, "quality", "bad-password1") == first     # the fifth locks
    assert events(audit.LOCKOUT) == 1
    assert refusal(web, "quality", "demo12345") == first             # locked, right password
    assert refusal(web, "quality", "bad-password1") == first
    assert refusal(web, "ghost", "whatever12") == first
    reasons = [e.detail["reason"] for e in db.session.scalars(
        select(AuditEvent).where(AuditEvent.kind == audit.LOGIN_FAILED).order_by(AuditEvent.id))]
    assert reasons == ["unknown_user", "bad_password", "inactive"] + ["bad_password"] * 5 + \
        ["locked", "locked", "unknown_user"]                          # the audit trail still tells


def test_lockout_after_five_failures_then_even_right_password_refused(demo, web):
    for _ in range(5):
        web.login("quality", "bad-password1")
    resp = web.login("quality", "demo12345")
    assert resp.status_code == 422 and "用户名或密码错误" in resp.get_data(as_text=True)
    assert events(audit.LOCKOUT) == 1
    assert db.session.scalar(select(User.locked_until).where(User.username == "quality")) is not None


def test_english_user_sees_english_messages(demo, web):
    db.session.scalar(select(User).where(User.username == "vp")).locale = "en"
    db.session.commit()
    web.client.set_cookie("lang", "en")
    resp = web.login("vp", "wrong-password1")
    assert "Wrong username or password" in resp.get_data(as_text=True)
    web.login("vp")
    page = web.get("/manager/").get_data(as_text=True)
    assert 'lang="en"' in page and "Approval" in page


def test_missing_csrf_token_is_refused_and_changes_nothing(demo, web):
    resp = web.post("/login", {"username": "manager", "password": "demo12345"}, csrf=False)
    assert resp.status_code == 400
    assert "页面已过期" in resp.get_data(as_text=True)
    assert events(audit.LOGIN) == 0
    with web.client.session_transaction() as s:
        assert "_user_id" not in s


def test_overlong_username_gets_a_message(demo, web):
    resp = web.login("x" * 10_000, "demo12345")
    assert resp.status_code == 422 and "最多 40 位" in resp.get_data(as_text=True)


def test_session_cookie_flags_and_remember_me(demo, web):
    resp = web.login("receiver", remember="y")
    cookies = resp.headers.getlist("Set-Cookie")
    session_cookie = next(c for c in cookies if c.startswith("session="))
    remember = next(c for c in cookies if c.startswith("remember_token="))
    for c in (session_cookie, remember):
        assert "HttpOnly" in c and "SameSite=Lax" in c
        assert "Secure" not in c


def test_secure_cookies_when_tls(make_app, company):
    app = make_app(TLS=True)
    with app.app_context():
        web = Web(app.test_client())
        resp = web.login("receiver")
        assert all("Secure" in c for c in resp.headers.getlist("Set-Cookie"))
        assert "Strict-Transport-Security" in web.get("/receiver/").headers


def test_logout_needs_post_and_ends_the_session(demo, web):
    web.login("manager")
    assert web.get("/logout").status_code == 405
    assert web.logout().status_code == 303
    assert web.get("/manager/").status_code == 302


# --- logout ends the login on the server (issue 13) -------------------------------------

def cookie(web, name):
    kept = web.client.get_cookie(name)
    return kept.value if kept else None


def browser_with(app, **cookies):
    """Another browser holding only copies of the given cookies (kept from a shared tablet)."""
    other = Web(app.test_client())
    for name, value in cookies.items():
        other.client.set_cookie(name, value)
    return other


def refused(resp):
    return resp.status_code == 302 and resp.headers["Location"].startswith("/login")


def test_after_logout_copies_of_the_session_and_remember_cookies_open_nothing(demo, web, app):
    assert web.login("receiver", remember="y").status_code == 303
    session, remember = cookie(web, "session"), cookie(web, "remember_token")
    assert session and remember
    # Before logout each copy alone opens pages, so what follows tests the logout.
    assert browser_with(app, session=session).get("/receiver/").status_code == 200
    assert browser_with(app, remember_token=remember).get("/receiver/").status_code == 200
    assert web.logout().status_code == 303
    assert cookie(web, "remember_token") is None  # the browser's own copy is cleared too
    assert refused(web.get("/receiver/"))
    for copies in ({"session": session}, {"remember_token": remember},
                   {"session": session, "remember_token": remember}):
        assert refused(browser_with(app, **copies).get("/receiver/")), copies


def test_logout_on_one_device_leaves_the_users_other_devices_logged_in(demo, app):
    phone, pc = Web(app.test_client()), Web(app.test_client())
    for device in (phone, pc):
        assert device.login("cs_head", remember="y").status_code == 303
    pc_remember = cookie(pc, "remember_token")
    assert phone.logout().status_code == 303
    assert refused(phone.get("/handler/"))
    assert pc.get("/handler/").status_code == 200
    assert browser_with(app, remember_token=pc_remember).get("/handler/").status_code == 200


def test_password_reset_by_admin_still_ends_every_login_of_the_user(demo, app, web):
    phone, pc = Web(app.test_client()), Web(app.test_client())
    for device in (phone, pc):
        assert device.login("cs_head", remember="y").status_code == 303
    remembers = [cookie(d, "remember_token") for d in (phone, pc)]
    web.login("admin")
    uid = db.session.scalar(select(User.id).where(User.username == "cs_head"))
    assert web.post(f"/admin/users/{uid}/reset-password",
                    {"reset-new_password": "Temp2026pass"}).status_code == 303
    for device in (phone, pc):
        assert refused(device.get("/handler/"))
    for remember in remembers:
        assert refused(browser_with(app, remember_token=remember).get("/handler/"))


def test_password_change_keeps_this_login_and_ends_the_others(demo, app):
    phone, pc = Web(app.test_client()), Web(app.test_client())
    for device in (phone, pc):
        assert device.login("receiver").status_code == 303
    resp = phone.post("/account/password", {"old_password": "demo12345", "new_password": "MyOwn2026pw",
                                            "confirm": "MyOwn2026pw"})
    assert resp.status_code == 303
    assert phone.get("/receiver/").status_code == 200
    assert refused(pc.get("/receiver/"))
    session = cookie(phone, "session")
    assert phone.logout().status_code == 303
    assert refused(browser_with(app, session=session).get("/receiver/"))


def test_cookies_of_the_old_form_no_longer_open_pages(demo, web, app):
    from flask_login.utils import encode_cookie
    u = db.session.scalar(select(User).where(User.username == "receiver"))
    old_id = f"{u.id}.{u.session_version}"  # before issue 13: no login token
    with web.client.session_transaction() as s:
        s["_user_id"] = old_id
    assert refused(web.get("/receiver/"))
    assert refused(browser_with(app, remember_token=encode_cookie(old_id)).get("/receiver/"))


def test_next_goes_back_but_never_off_site(demo, web):
    page = web.get("/login?next=/admin/users").get_data(as_text=True)
    assert 'value="/admin/users"' in page
    resp = web.login("admin", next="/admin/users")
    assert resp.headers["Location"] == "/admin/users"
    web.logout()
    for evil in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        resp = web.login("admin", next=evil)
        assert resp.headers["Location"] == "/admin/", evil
        web.logout()


def test_temporary_password_must_be_changed_first(demo, web):
    from domain import accounts
    admin = db.session.scalar(select(User).where(User.username == "admin"))
    clerk = db.session.scalar(select(User).where(User.username == "ja_clerk"))
    accounts.reset_password(db.session, admin, clerk, "Temp2026pass", now=utcnow())
    db.session.commit()
    resp = web.login("ja_clerk", "Temp2026pass")
    assert resp.headers["Location"] == "/account/password"
    assert web.get("/receiver/").headers["Location"] == "/account/password"
    bad = web.post("/account/password", {"old_password": "Temp2026pass", "new_password": "abc",
                                          "confirm": "abc"})
    assert bad.status_code == 422 and "至少 8 位" in bad.get_data(as_text=True)
    ok = web.post("/account/password", {"old_password": "Temp2026pass", "new_password": "MyOwn2026pw",
                                         "confirm": "MyOwn2026pw"})
    assert ok.status_code == 303
    assert web.get("/receiver/").status_code == 200  # still logged in, gate lifted
    web.logout()
    assert web.login("ja_clerk", "MyOwn2026pw").status_code == 303


def test_login_rate_limit_per_address(make_app):
    app = make_app(LOGIN_RATE_LIMIT="3 per minute")
    with app.app_context():
        web = Web(app.test_client())
        codes = [web.login("nobody", "whatever12").status_code for _ in range(4)]
        assert codes == [422, 422, 422, 429]
        assert "操作太频繁" in web.login("nobody", "whatever12").get_data(as_text=True)
        # Another address is not affected.
        other = app.test_client()
        resp = other.get("/login", environ_base={"REMOTE_ADDR": "10.9.9.9"})
        assert resp.status_code == 200
        assert events(audit.RATE_LIMITED) >= 1


def test_login_works_when_redis_is_down_and_says_so_in_the_log(make_app, company, caplog):
    dead = "redis://127.0.0.1:1/0"
    app = make_app(RATELIMIT_STORAGE_URI=dead, REDIS_URL=dead)
    with app.app_context():
        web = Web(app.test_client())
        with caplog.at_level(logging.WARNING):
            resp = web.login("receiver")
        assert resp.status_code == 303
        assert any("falling back" in r.getMessage().lower() or "storage" in r.getMessage().lower()
                   for r in caplog.records), [r.getMessage() for r in caplog.records]


def test_user_without_roles_is_told_so(login_as):
    u = db.session.scalar(select(User).where(User.username == "rd"))
    u.role_rows.clear()
    db.session.commit()
    web = login_as("rd")
    assert "尚未分配角色" in web.get("/", follow_redirects=True).get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.kind == audit.LOGIN)) == 1
