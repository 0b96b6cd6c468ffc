from flask_login import current_user

from blueprints._web import render
from blueprints.handler import bp
from domain import queues, workflow
from models import db


@bp.route("/")
def home():
    return render("handler/home.html", rows=queues.department(db.session, current_user),
                  cards=queues.to_approve(db.session, current_user, limit=10), w=workflow)
