from blueprints._web import render
from blueprints.quality import bp
from domain import queues
from models import db


@bp.route("/")
def home():
    counts = queues.stage_counts(db.session)
    return render("quality/home.html", dispatch=queues.to_dispatch(db.session), verify=queues.to_verify(db.session),
                  decide=queues.to_decide(db.session), n_new=counts.get("new", 0), n_verify=counts.get("verifying", 0))
