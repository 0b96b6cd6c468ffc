"""Who may open the reports (blueprints/reports): user × page → status. The ledger and the overdue
list are for everyone who handles complaints (scoped in their queries: a store head sees their
store); the store audit and penalty totals are quality's and the manager's; the half-year summary
is also read by the units it is announced to (市场部: `market`)."""
import pytest
from sqlalchemy import select

from domain import audit
from models import db
from models.audit import AuditEvent

EVERYONE = {"receiver", "handler", "market", "quality", "manager"}
PAGES = {
    "/complaints/ledger": EVERYONE,
    "/complaints/ledger.xlsx": EVERYONE,
    "/complaints/overdue": EVERYONE,
    "/complaints/notices": EVERYONE,
    "/complaints/store-audit": {"quality", "manager"},
    "/complaints/penalties": {"quality", "manager"},
    "/complaints/half-year": {"market", "quality", "manager"},
}


@pytest.mark.parametrize("username", sorted(EVERYONE | {"admin"}))
def test_report_matrix(login_as, username):
    web = login_as(username)
    for page, allowed in PAGES.items():
        assert web.get(page).status_code == (200 if username in allowed else 403), (username, page)


def test_a_route_guard_answers_like_the_blueprint_guard(web, login_as):
    assert web.get("/complaints/store-audit").headers["Location"].startswith("/login?next=")
    assert web.get("/complaints/penalties", htmx=True).status_code == 401
    clerk = login_as("receiver")
    assert clerk.post("/complaints/1/concealment", {"verdict": "dismissed", "note": "x"}).status_code == 403
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.kind == audit.PERMISSION_DENIED)).all()[-1]
    assert event.target == "path:/complaints/1/concealment" and event.actor.username == "receiver"
