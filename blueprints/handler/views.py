from flask_login import current_user

from blueprints._render import render
from blueprints.handler import bp
from domain import clocks, queues, workflow
from domain.sla import ClockKind
from models import db, utcnow


@bp.route("/")
def home():
    now = utcnow()
    rows = queues.department(db.session, current_user)
    cards = queues.to_approve(db.session, current_user, now, limit=10)
    return render("handler/home.html", rows=rows, cards=cards, w=workflow,
                  n_cards=queues.count_to_approve(db.session, current_user) if cards else 0, cap=queues.HEAD_COUNT_CAP,
                  countdowns=queues.countdowns(db.session, [c.id for c in cards], ClockKind.APPROVAL, now),
                  badges=clocks.badges(db.session, [c.id for c in rows], now))
