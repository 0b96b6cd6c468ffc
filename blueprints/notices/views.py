"""The bell and the inbox (grouped per complaint and marked read by domain/inbox.py)."""
from flask_login import current_user

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
    page = render("notices/index.html", groups=groups, reasons=inbox.rejection_reasons(db.session, notices))
    if any(g.unread for g in groups):
        inbox.mark_read(db.session, current_user.id, groups, utcnow())
        db.session.commit()
    return page
