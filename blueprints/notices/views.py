from flask_login import current_user
from sqlalchemy import select

from blueprints._render import fragment, render
from blueprints.notices import bp
from models import db, utcnow


@bp.route("/bell")
def bell():
    """The bell alone (polled by HTMX every minute)."""
    return fragment("notices/_bell.html")


@bp.route("")
def index():
    """The latest 50 notices; opening the page marks them read."""
    from models.complaint import Notification
    rows = db.session.scalars(select(Notification).where(Notification.user_id == current_user.id)
                              .order_by(Notification.id.desc()).limit(50)).all()
    unread = [n for n in rows if n.read_at is None]
    page = render("notices/index.html", rows=rows, unread={n.id for n in unread})
    if unread:
        now = utcnow()
        for n in unread:
            n.read_at = now
        db.session.commit()
    return page
