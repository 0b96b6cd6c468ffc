"""The bell and the inbox (grouped per complaint and marked read by domain/inbox.py)."""
from flask import url_for
from flask_login import current_user

from blueprints._access import home_url
from blueprints._render import fragment, render
from blueprints.notices import bp
from domain import inbox
from models import db, utcnow


@bp.route("/bell")
def bell():
    """The bell alone (polled by HTMX every minute)."""
    return fragment("notices/_bell.html")


@bp.route("")
def index():
    """The newest notices grouped per complaint; opening the page marks the groups shown as read."""
    groups = inbox.groups(db.session, current_user.id)
    notices = [n for g in groups for n in (g.newest, *g.others)]
    inbox.with_complaints(db.session, notices)
    page = render("notices/index.html", groups=groups, reasons=inbox.rejection_reasons(db.session, notices),
                  notice_url=notice_url)
    if any(g.unread for g in groups):
        inbox.mark_read(db.session, current_user.id, groups, utcnow())
        db.session.commit()
    return page


def notice_url(n) -> str:
    """Where a notice leads: its complaint (the penalty section for a penalty's), else the page
    its kind is about — a report, the ledger, a meeting or one of its actions (by the notice's key)."""
    from domain import meetings
    if n.complaint_id:
        return url_for("complaints.record", complaint_id=n.complaint_id) + ("#penalty" if n.kind.startswith("penalty:") else "")
    if n.kind == "ledger:weekly":
        return url_for("reports.ledger_page", by="person")
    if n.kind == "report:halfyear":
        return url_for("reports.half_year_list")
    if n.kind == "report:monthly":
        return url_for("reports.monthly_page", month=(n.dedupe_key or "").split(":")[1:2][0] if n.dedupe_key else None)
    target = meetings.target(n.dedupe_key) if n.kind.startswith("meeting:") else None
    if target is not None:
        kind, ident = target
        return url_for("meetings.page", meeting_id=ident) if kind == "meeting" else url_for("meetings.action", action_id=ident)
    return home_url(current_user)
