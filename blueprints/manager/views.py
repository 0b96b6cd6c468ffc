from flask_login import current_user

from blueprints._render import render
from blueprints.manager import bp
from domain import clocks, queues, reminders, workflow
from domain.sla import ClockKind
from domain.stages import STAGE_LABELS, Stage
from models import db, utcnow


CARDS = 15  # a phone screenful or three; the rest are one tap away in the register


@bp.route("/")
def home():
    now = utcnow()
    cards = queues.to_approve(db.session, current_user, now, limit=CARDS)
    decide = queues.to_decide(db.session, limit=10)
    counts = queues.stage_counts(db.session)
    open_stages = [(s, STAGE_LABELS[s], counts.get(s.value, 0)) for s in Stage if s is not Stage.CLOSED
                   and counts.get(s.value, 0)]
    return render("manager/home.html", cards=cards, total=counts.get(Stage.PENDING_APPROVAL, 0),
                  countdowns=queues.countdowns(db.session, [c.id for c in cards], ClockKind.APPROVAL, now),
                  open_total=sum(n for _s, _l, n in open_stages), open_stages=open_stages, w=workflow,
                  decide=decide, badges=clocks.badges(db.session, [c.id for c in decide], now),
                  overdue=reminders.overdue_by_clock(db.session, now), cap=reminders.OVERDUE_CAP,
                  penalties=queues.penalties_to_approve(db.session, limit=CARDS))
