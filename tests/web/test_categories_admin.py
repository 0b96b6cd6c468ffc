from sqlalchemy import select

from models import db
from models.audit import AuditEvent
from models.complaint import Category


def cat(name):
    return db.session.scalar(select(Category).where(Category.name == name))


def test_admin_adds_renames_and_switches_off_categories(login_as):
    web = login_as("admin")
    assert "产品质量" in web.get("/admin/categories").get_data(as_text=True)
    parent = cat("产品质量")
    resp = web.post("/admin/categories/add", {"add-name": "包装标签错误", "add-parent_id": str(parent.id)}, htmx=True)
    assert resp.status_code == 204
    added = cat("包装标签错误")
    assert added.parent_id == parent.id and added.active
    # Same name at the same level: a message, nothing added; a third level is refused.
    resp = web.post("/admin/categories/add", {"add-name": "异物", "add-parent_id": str(parent.id)}, htmx=True)
    assert resp.status_code == 422 and "同一级已有名为“异物”的类别" in resp.get_data(as_text=True)
    resp = web.post("/admin/categories/add", {"add-name": "细分", "add-parent_id": str(added.id)}, htmx=True)
    assert resp.status_code == 422 and "类别只有两级" in resp.get_data(as_text=True)
    assert web.post(f"/admin/categories/{added.id}/rename", {"name": "标签错误"}, htmx=True).status_code == 204
    assert web.post(f"/admin/categories/{parent.id}/deactivate", htmx=True).status_code == 204
    db.session.expire_all()
    assert not cat("产品质量").active and not cat("异物").active and not cat("标签错误").active
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.kind == "category_changed")) is not None


def test_switched_off_categories_leave_the_intake_form(login_as, app):
    from tests.conftest import Web
    web = login_as("admin")
    web.post(f"/admin/categories/{cat('交货').id}/deactivate", htmx=True)
    clerk = Web(app.test_client())
    clerk.login("receiver")
    page = clerk.get("/receiver/").get_data(as_text=True)
    assert "延迟交货" not in page and "异物" in page


def test_only_admins_edit_categories(login_as):
    web = login_as("quality")
    assert web.get("/admin/categories").status_code == 403
    assert web.post(f"/admin/categories/{cat('异物').id}/deactivate").status_code == 403


def test_an_unknown_parent_is_refused(login_as):
    web = login_as("admin")
    for parent in ("999", "abc", "-1", "²"):
        resp = web.post("/admin/categories/add", {"add-name": "新类别", "add-parent_id": parent}, htmx=True)
        assert resp.status_code == 422, parent
    assert cat("新类别") is None
