"""The survey and the customer's closure through a one-time link (SPEC §7, 谁投诉谁关闭): a score
1–5, a comment, "solved, close it". A used or expired link says so and, while the complaint still
waits for a rating, lets the customer ask for a new one — sent to the contact on record."""
from flask import abort, current_app, redirect, request, url_for
from flask_babel import gettext as _

from blueprints._render import apply_domain_error
from blueprints.public import bp
from blueprints.public.forms import SCORE_LABELS, SurveyForm
from blueprints.public.pages import limit, message, page
from domain.errors import DomainError
from domain.portal import links, outbound, steps
from domain.portal.view import customer_view
from domain.stages import Stage
from domain.text import small_int
from extensions import limiter
from models import db, utcnow


def _follow(complaint) -> str:
    return links.follow_path(current_app.config["SECRET_KEY"], complaint)


def _waiting(complaint) -> bool:
    """Still waiting for the customer's rating: a new link would be of use."""
    return (complaint is not None and complaint.stage == Stage.FOLLOW_UP and complaint.satisfaction is None
            and complaint.type == "complaint")


def _refused(token, err: steps.LinkRefused):
    if err.state == "unknown":
        return message(404, _("链接无效"), _(err.message))
    c = err.complaint
    return page("public/link_refused.html", 410, state=err.state, text=_(err.message), token=token,
                can_renew=_waiting(c) and bool(outbound.channels_for(db.session, c, "survey")),
                follow=_follow(c) if c is not None else None)


def _rated_through(token) -> bool:
    """This link was used for a rating (a second tap of the same form finds it used)."""
    link = links.find(db.session, token)
    return link is not None and link.used_at is not None and link.complaint.satisfaction is not None


@bp.route("/survey/<token>", methods=["GET", "POST"])
@limiter.limit(limit("PUBLIC_SURVEY_RATE_LIMIT"), methods=["POST"])
def survey(token):
    try:
        _link, complaint = steps.survey_link(db.session, token, utcnow())
    except steps.LinkRefused as err:
        if request.method == "POST" and err.state == "used" and _rated_through(token):
            return redirect(url_for("public.survey_done", token=token), code=303)   # a double tap: done
        return _refused(token, err)
    form, status = SurveyForm(), 200
    if request.method == "POST":
        try:
            steps.rate(db.session, token, score=small_int(form.score.data), comment=form.comment.data,
                       confirm=bool(form.confirm.data), now=utcnow())
        except steps.LinkRefused as err:
            db.session.rollback()
            return _refused(token, err)
        except DomainError as err:
            db.session.rollback()
            apply_domain_error(form, err)
            status = 422
        else:
            db.session.commit()
            return redirect(url_for("public.survey_done", token=token), code=303)
    return page("public/survey.html", status, form=form, view=customer_view(db.session, complaint, utcnow()),
                score_labels=SCORE_LABELS)


@bp.route("/survey/<token>/thanks")
def survey_done(token):
    link = links.find(db.session, token)
    if link is None:
        abort(404)
    c = link.complaint
    if link.used_at is None or c.satisfaction is None:      # not answered through this link (yet)
        return redirect(url_for("public.survey", token=token), code=303)
    closed = c.stage == Stage.CLOSED
    return page("public/survey_done.html", closed=closed, number=c.number, follow=_follow(c))


@bp.route("/survey/<token>/new", methods=["POST"])
@limiter.limit(limit("PUBLIC_RESEND_RATE_LIMIT"))
def survey_new(token):
    state, c = steps.resend(db.session, token, utcnow())
    if state == "unknown":
        abort(404)
    where = steps.masked_contact(c, outbound.channels_for(db.session, c, "survey")) if state == "sent" else []
    db.session.commit()
    return page("public/resent.html", state=state, where=where, follow=_follow(c))
