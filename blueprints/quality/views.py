from blueprints._render import render
from blueprints.quality import bp
from domain import clocks, queues
from models import db, utcnow

ATTRIBUTE_ALL = 100   # the "all of them" page: the most urgent hundred (the count says how many more)


@bp.route("/")
def home():
    now = utcnow()
    counts = queues.stage_counts(db.session)
    dispatch = queues.to_dispatch(db.session, now)
    verify, decide = queues.to_verify(db.session), queues.to_decide(db.session)
    attribute = queues.to_attribute(db.session, limit=10)
    badges = clocks.badges(db.session, [c.id for c in dispatch + verify + decide], now)
    return render("quality/home.html", dispatch=dispatch, verify=verify, decide=decide, badges=badges,
                  attribute=attribute, n_attribute=queues.count_to_attribute(db.session), cap=queues.COUNT_CAP,
                  n_new=counts.get("new", 0), n_verify=counts.get("verifying", 0))


@bp.route("/attribute")
def attribute():
    """Every complaint waiting for quality to confirm who answers for it, most urgent first."""
    rows = queues.to_attribute(db.session, limit=ATTRIBUTE_ALL)
    return render("quality/attribute.html", rows=rows, n=queues.count_to_attribute(db.session),
                  cap=queues.COUNT_CAP)
