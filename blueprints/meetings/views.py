"""Pages of the monthly meeting: the list (and quality's "open this month's meeting"), a meeting
(agenda, conclusions, actions, signatures, timeline), its A4 minutes, and an action's page. Every
change goes through domain.meetings.act / act_on_action (blueprints._perform.perform)."""
from __future__ import annotations

from flask import abort, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from blueprints._access import home_url
from blueprints._perform import perform
from blueprints._render import render, see_other
from blueprints.meetings import bp
from domain import meetings
from domain.errors import N_
from domain.monthly import months
from domain.roles import Role
from domain.settings import company_tz
from domain.text import small_int
from models import db, utcnow
from models.meeting import MeetingEvent
from models.user import User

SAVED = {"details": N_("会议信息已保存。"), "add_item": N_("议题已添加。"), "remove_item": N_("议题已删除。"),
         "conclude": N_("结论已保存。"), "add_action": N_("措施已添加，已通知负责人。"), "remove_action": N_("措施已删除。"),
         "issue": N_("纪要已发出，已请参会人签字。"), "sign": N_("已签字确认。"),
         "addendum": N_("补充纪要已添加，已请参会人签字。"), "done": N_("已报告完成，品管会验证效果。"),
         "verify": N_("验证结果已保存。")}


def _today():
    return utcnow().astimezone(company_tz()).date()


def _meeting_or_404(meeting_id):
    m = meetings.meeting_or_none(db.session, current_user, meeting_id)
    if m is None:
        abort(404)
    return m


def _action_or_404(action_id):
    a = meetings.action_or_none(db.session, current_user, action_id)
    if a is None:
        abort(404)
    return a


@bp.route("/")
def index():
    return _index()


def _index(status=200, open_error=None):
    today = _today()
    quality = current_user.has_role(Role.QUALITY)
    return render("meetings/index.html", status=status, rows=meetings.meetings_for(db.session, current_user),
                  mine=meetings.my_actions(db.session, current_user),
                  verify=meetings.to_verify(db.session) if quality else [],
                  open_all=meetings.all_open(db.session) if current_user.has_role(Role.QUALITY, Role.MANAGER) else [],
                  months=[months.name(m) for m in months.recent(today, 13)],
                  default_month=months.name(months.last_month(today)), today=today, quality=quality, m=meetings,
                  open_error=open_error)


@bp.route("/open", methods=["POST"])
def open_month():
    month = request.form.get("month")

    def respond(result):
        if result.ok:
            meeting, created = result.value
            return see_other(url_for("meetings.page", meeting_id=meeting.id),
                             _("专题会已发起：议程按本月高频类别和紧急、重大投诉拟好，请修改并填写日期和参会人。") if created
                             else _("这个月的专题会已经发起过，已为您打开。"))
        return _index(result.status, result.message)
    return perform(lambda: meetings.open_meeting(db.session, current_user, month or "", now=utcnow()), respond)


def _people():
    """Active people to invite or name as an action's owner: (id, name, unit), by unit."""
    from models.org import OrgUnit
    return db.session.execute(select(User.id, User.display_name, OrgUnit.name).join(OrgUnit, OrgUnit.id == User.org_unit_id)
                              .where(User.active.is_(True)).order_by(User.org_unit_id, User.display_name)).all()


def _register_link(meeting):
    """The register with the meeting's month and a frequent category: the complaints behind its count."""
    first = months.parse(meeting.month)

    def link(category_id):
        return url_for("complaints.index", **{"from": first.isoformat(), "to": months.last_day(first).isoformat(),
                                              "type": "complaint", "category": category_id})
    return link


def _context(meeting, **extra):
    from domain.orgtree import work_unit_choices
    from domain.workflow import ACTION_KINDS, VERDICTS
    editing = meeting.status == "draft" and current_user.has_role(Role.QUALITY)
    events = db.session.scalars(select(MeetingEvent).where(MeetingEvent.meeting_id == meeting.id)
                                .order_by(MeetingEvent.id)).all()
    names = dict(db.session.execute(select(User.id, User.display_name).where(
        User.id.in_({a.user_id for a in meeting.attendees} | {e.actor_id for e in events if e.actor_id}))).all())
    return dict(meeting=meeting, editing=editing, events=events, names=names, m=meetings, today=_today(),
                register_link=_register_link(meeting),
                attending=current_user.id in meetings.attendee_ids(meeting),
                people=_people() if editing else [], units=work_unit_choices(db.session) if editing else [],
                kinds=ACTION_KINDS, verdicts=VERDICTS, **{"errors": {}, "failed": None, "form": {}, "message": None, "failed_item": None, **extra})


@bp.route("/<id:meeting_id>")
def page(meeting_id):
    return render("meetings/page.html", **_context(_meeting_or_404(meeting_id)))


@bp.route("/<id:meeting_id>/minutes")
def minutes(meeting_id):
    """The minutes as an A4 page to print (a draft is marked 草稿)."""
    return render("meetings/minutes.html", now=utcnow(), **_context(_meeting_or_404(meeting_id)))


@bp.route("/<id:meeting_id>/<any(details, add_item, remove_item, conclude, add_action, remove_action, issue, sign, addendum):step>",
          methods=["POST"])
def take_step(meeting_id, step):
    meeting = _meeting_or_404(meeting_id)
    s = meetings.STEPS[step]
    fields = s.fields.from_form(request.form, meeting)
    version = None if step == "sign" else (small_int(request.form.get("version")) or -1)

    def respond(result):
        if result.ok and request.form.get("back") == "home":      # signed from one's home page
            return see_other(home_url(current_user), _(SAVED[step]))
        if result.ok:
            anchor = {"conclude": "#item-%s" % request.form.get("item_id", ""), "add_action": "#item-%s" % request.form.get("item_id", ""),
                      "sign": "#sign", "addendum": "#addenda"}.get(step, "")
            return see_other(url_for("meetings.page", meeting_id=meeting.id) + anchor, _(SAVED[step]))
        db.session.expire_all()
        again = meetings.meeting_or_none(db.session, current_user, meeting_id)
        if again is None:
            abort(404)
        return render("meetings/page.html", status=result.status,
                      **_context(again, errors=result.errors, failed=step, message=result.message, form=request.form,
                                 failed_item=small_int(request.form.get("item_id"))))
    return perform(lambda: meetings.act(db.session, current_user, meeting, step, fields, version=version, now=utcnow()),
                   respond)


@bp.route("/actions/<id:action_id>")
def action(action_id):
    return render("meetings/action.html", **_action_context(_action_or_404(action_id)))


def _action_context(a, **extra):
    from domain.workflow import ACTION_KINDS, VERDICTS
    events = db.session.scalars(select(MeetingEvent).where(MeetingEvent.action_id == a.id).order_by(MeetingEvent.id)).all()
    names = dict(db.session.execute(select(User.id, User.display_name).where(
        User.id.in_({e.actor_id for e in events if e.actor_id}))).all())
    return dict(a=a, item=a.meeting_item, meeting=a.meeting_item.meeting, events=events, names=names, m=meetings,
                today=_today(), owner=meetings.owns(db.session, current_user, a),
                quality=current_user.has_role(Role.QUALITY), kinds=ACTION_KINDS, verdicts=VERDICTS,
                **{"errors": {}, "form": {}, "message": None, "failed": None, **extra})


@bp.route("/actions/<id:action_id>/<any(done, verify):step>", methods=["POST"])
def action_step(action_id, step):
    a = _action_or_404(action_id)
    fields = meetings.ACTION_STEPS[step].fields.from_form(request.form, a)

    def respond(result):
        if result.ok:
            return see_other(url_for("meetings.action", action_id=a.id), _(SAVED[step]))
        db.session.expire_all()
        again = _action_or_404(action_id)
        return render("meetings/action.html", status=result.status,
                      **_action_context(again, errors=result.errors, message=result.message, form=request.form,
                                        failed=step))
    return perform(lambda: meetings.act_on_action(db.session, current_user, a, step, fields, now=utcnow()), respond)
