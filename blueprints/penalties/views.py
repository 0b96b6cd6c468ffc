from flask import abort, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from blueprints._access import complaint_or_404
from blueprints._errors import error_page
from blueprints._perform import perform
from blueprints._render import fragment, render, see_other
from blueprints.penalties import bp
from domain import penalties
from domain.roles import Role
from domain.text import small_int
from models import db, utcnow


def _penalty_or_404(complaint_id):
    p = penalties.penalty_of(db.session, complaint_or_404(complaint_id))
    if p is None:
        abort(404)
    return p


def section(complaint) -> dict:
    """The record page's penalty section: the penalty, or what the rules would propose."""
    from models.complaint import Attribution
    p = penalties.penalty_of(db.session, complaint)
    proposal = None
    if p is None and complaint.attributed and current_user.has_role(Role.QUALITY, Role.MANAGER):
        a = db.session.scalar(select(Attribution).where(Attribution.complaint_id == complaint.id))
        proposal = penalties.propose(db.session, complaint, a, utcnow()) if a else None
    can_appeal = p is not None and p.status in ("approved", "published") and p.appeal is None \
        and penalties.concerns(db.session, current_user, p)
    return {"penalty": p, "penalty_proposal": proposal, "surcharge_labels": penalties.SURCHARGE_LABELS,
            "appeal_decisions": penalties.APPEAL_DECISIONS, "can_appeal": can_appeal}


def _step(complaint, name):
    s = penalties.STEPS[name]
    fields = s.fields.from_form(request.form, complaint)
    version = small_int(request.form.get("version"))
    if name != "propose" and version is None:
        version = -1
    return lambda: penalties.act(db.session, current_user, complaint, name, fields, version=version, now=utcnow())


@bp.route("", methods=["POST"], defaults={"step": "propose"})
@bp.route("/appeal", methods=["POST"], defaults={"step": "appeal"})
@bp.route("/appeal/<any(upheld, reduced, withdrawn):step>", methods=["POST"])
def take_step(complaint_id, step):
    """A step from the record page's penalty section; back to the record with a message."""
    complaint = complaint_or_404(complaint_id)

    def respond(result):
        if result.ok:
            return see_other(url_for("complaints.record", complaint_id=complaint_id) + "#penalty", _("已保存。"))
        return error_page(result.status, _("没有保存"), result.message)
    return perform(_step(complaint, step), respond)


@bp.route("/notice")
def notice(complaint_id):
    """The general manager's office notice of a published penalty, for printing (seed 001 六.3)."""
    from models.complaint import Attribution
    from models.user import User
    complaint = complaint_or_404(complaint_id)
    p = penalties.penalty_of(db.session, complaint)
    published = penalties.publication(db.session, p) if p is not None else None
    if published is None:
        abort(404)
    attribution = db.session.scalar(select(Attribution).where(Attribution.complaint_id == complaint.id))
    return render("penalties/notice.html", complaint=complaint, p=p, published=published,
                  attribution=attribution, approver=db.session.get(User, published.by_id),
                  surcharge_labels=penalties.SURCHARGE_LABELS, appeal_decisions=penalties.APPEAL_DECISIONS,
                  now=utcnow())


def _card(p, status=200, **extra):
    return fragment("penalties/_card.html", status=status, p=p, **extra)


@bp.route("/card")
def card(complaint_id):
    return _card(_penalty_or_404(complaint_id), rejecting=request.args.get("reject") == "1")


@bp.route("/<any(approve, reject):step>", methods=["POST"])
def card_decision(complaint_id, step):
    """The manager's one tap on a penalty card (HTMX: the card is replaced by its outcome)."""
    p = _penalty_or_404(complaint_id)

    def respond(result):
        if result.ok:
            done = {"approved": _("已批准"), "published": _("已批准，并由总经理办公室公布"),
                    "rejected": _("已驳回")}[result.value.status]
            return _card(result.value, done=done)
        fresh = _penalty_or_404(complaint_id)
        if result.taken_by_someone_else:
            return _card(fresh, 409, done=_("已由别人处理。"))
        return _card(fresh, result.status, message=result.message, rejecting=step == "reject",
                     comment=request.form.get("comment"))
    return perform(_step(p.complaint, step), respond)
