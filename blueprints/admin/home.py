"""The administrator's start page: what there is, and what needs doing (the calendar)."""
from sqlalchemy import func, select

from blueprints._render import company_tz, render
from blueprints.admin import bp
from models import db, utcnow
from models.org import OrgUnit
from models.user import User


@bp.route("/")
def home():
    from domain import calendar
    counts = {
        "units": db.session.scalar(select(func.count()).select_from(OrgUnit).where(OrgUnit.active.is_(True))),
        "users": db.session.scalar(select(func.count()).select_from(User).where(User.active.is_(True))),
        "locked": db.session.scalar(select(func.count()).select_from(User)
                                    .where(User.locked_until > utcnow())),
    }
    today = utcnow().astimezone(company_tz()).date()
    return render("admin/home.html", counts=counts, missing_years=calendar.uncovered_years(db.session, today))
