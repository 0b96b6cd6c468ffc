from flask_login import current_user

from blueprints._render import render
from blueprints.handler import bp
from domain import clocks, queues, workflow
from models import db, utcnow


@bp.route("/")
def home():
    rows = queues.department(db.session, current_user)
    return render("handler/home.html", rows=rows, cards=queues.to_approve(db.session, current_user, limit=10),
                  w=workflow, badges=clocks.badges(db.session, [c.id for c in rows], utcnow()))
