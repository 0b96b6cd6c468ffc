from blueprints._render import render
from blueprints.quality import bp
from domain import clocks, queues
from models import db, utcnow


@bp.route("/")
def home():
    counts = queues.stage_counts(db.session)
    dispatch, verify, decide = queues.to_dispatch(db.session), queues.to_verify(db.session), queues.to_decide(db.session)
    badges = clocks.badges(db.session, [c.id for c in dispatch + verify + decide], utcnow())
    return render("quality/home.html", dispatch=dispatch, verify=verify, decide=decide, badges=badges,
                  attribute=queues.to_attribute(db.session, limit=10),
                  n_new=counts.get("new", 0), n_verify=counts.get("verifying", 0))
