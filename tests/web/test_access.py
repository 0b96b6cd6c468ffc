"""Who may open what: endpoint × role → status, plus the anonymous and HTMX answers."""
import pytest
from sqlalchemy import func, select

from domain import audit
from models import db
from models.audit import AuditEvent

PAGES = ["/receiver/", "/handler/", "/quality/", "/manager/", "/admin/", "/admin/units",
         "/admin/users", "/admin/users/new", "/admin/audit"]
ALLOWED = {
    "receiver": {"/receiver/"},
    "receiver2": {"/receiver/"},
    "handler": {"/handler/"},
    "handler2": {"/handler/"},
    "quality": {"/quality/"},
    "manager": {"/manager/"},
    "admin": {"/admin/", "/admin/units", "/admin/users", "/admin/users/new", "/admin/audit"},
    "cs_head": {"/receiver/", "/handler/"},
}


@pytest.mark.parametrize("username", ALLOWED)
def test_role_matrix(login_as, username):
    web = login_as(username)
    for page in PAGES:
        expected = 200 if page in ALLOWED[username] else 403
        assert web.get(page).status_code == expected, (username, page)


def test_forbidden_page_is_friendly_and_audited(login_as):
    web = login_as("receiver")
    resp = web.get("/admin/users")
    assert resp.status_code == 403 and "没有权限" in resp.get_data(as_text=True)
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.kind == audit.PERMISSION_DENIED))
    assert event.target == "path:/admin/users" and event.actor.username == "receiver"


@pytest.mark.parametrize("page", PAGES)
def test_anonymous_goes_to_login(web, page):
    resp = web.get(page)
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/login?next=")


def test_anonymous_htmx_gets_401_with_redirect(web):
    resp = web.get("/admin/users", htmx=True)
    assert resp.status_code == 401 and resp.headers["HX-Redirect"].startswith("/login")


def test_htmx_403_answers_with_a_toast_not_a_page(login_as):
    web = login_as("receiver")
    resp = web.get("/admin/users", htmx=True)
    assert resp.status_code == 403 and resp.headers["HX-Reswap"] == "none"
    assert "\\u" in resp.headers["HX-Trigger"]  # Chinese is ASCII-escaped in the header


def test_unknown_object_is_a_friendly_404(login_as):
    web = login_as("admin")
    for url in ("/admin/users/99999", "/admin/units/99999", "/nope"):
        resp = web.get(url)
        assert resp.status_code == 404 and "找不到页面" in resp.get_data(as_text=True)


def test_user_without_roles_is_told_so(login_as):
    from models.user import User
    u = db.session.scalar(select(User).where(User.username == "rd"))
    u.role_rows.clear()
    db.session.commit()
    web = login_as("rd")
    assert "尚未分配角色" in web.get("/", follow_redirects=True).get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.kind == audit.LOGIN)) == 1
