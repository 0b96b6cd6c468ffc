"""The meeting's reminders, run by the minute sweep (jobs/reminders.py) — a few small queries:

- an open action due on the next working day (the company calendar: a Monday's is reminded on the
  Friday before): its owners, once per due date;
- an action late (due date passed, not reported done): its owners and quality, once per due date
  (an ineffective verdict sets a new due date, and the reminders start over);
- an attendee who has not signed the minutes (or an addendum) by the day after it went out: once
  per company day until they sign.

The notices' keys (domain.meetings.tell) make each go out once however many sweeps overlap.
And what their e-mail copies say."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from domain.errors import N_
from domain.meetings.steps import unsigned
from domain.meetings.tell import owners, tell
from domain.roles import Role
from models.complaint import CorrectiveAction, Notification
from models.meeting import Meeting, MeetingItem


LOOK_AHEAD = 10        # days: the longest run of days off (the National Day week) and one more


def remind(session, now: datetime) -> int:
    from domain.notify import users_with
    from domain.settings import company_tz
    from domain import calendar
    today = now.astimezone(company_tz()).date()
    written = 0
    # Reminded on the last working day before the due date (a Monday's on Friday): look a week ahead.
    due_soon = session.scalars(select(CorrectiveAction).where(
        CorrectiveAction.meeting_item_id.is_not(None), CorrectiveAction.verdict.is_(None),
        CorrectiveAction.done_at.is_(None), CorrectiveAction.due <= today + timedelta(days=LOOK_AHEAD))).all()
    cal = calendar.load(session, company_tz()) if due_soon else None
    quality = None
    for a in due_soon:
        if a.due >= today:
            if today < cal.previous_workday(a.due):
                continue
            written += tell(session, owners(session, a), "meeting:action_due", f"cap:{a.id}:soon:{a.due.isoformat()}", now)
        else:
            quality = users_with(session, Role.QUALITY) if quality is None else quality
            written += tell(session, owners(session, a) + quality, "meeting:action_late",
                            f"cap:{a.id}:late:{a.due.isoformat()}", now)
    for meeting in session.scalars(select(Meeting).where(Meeting.status.in_(("issued", "signed")))):
        parts = [(0, meeting.issued_at)] + [(d.number, d.created_at) for d in meeting.addenda]
        for part, since in parts:
            if since is None or since.astimezone(company_tz()).date() >= today:
                continue
            late = unsigned(meeting, part)
            if late:
                written += tell(session, late, "meeting:unsigned", f"mtg:{meeting.id}:p{part}:{today.isoformat()}", now)
    return written


SUBJECTS = {
    "meeting:invited": N_("【客诉专题会】邀请您参加：%(t)s"), "meeting:sign": N_("【客诉专题会】请签字确认纪要：%(t)s"),
    "meeting:unsigned": N_("【客诉专题会】纪要还等您签字：%(t)s"), "meeting:action": N_("【专题会措施】交给您的措施：%(x)s"),
    "meeting:action_due": N_("【专题会措施】下一个工作日到期：%(x)s"), "meeting:action_late": N_("【专题会措施】已逾期：%(x)s"),
    "meeting:action_done": N_("【专题会措施】已完成，请验证：%(x)s"),
    "meeting:action_back": N_("【专题会措施】验证无效，请重新整改：%(x)s"),
}


def target(key: str | None) -> tuple[str, int] | None:
    """("meeting", id) or ("action", id) from a notice's key."""
    head, _sep, rest = (key or "").partition(":")
    ident = rest.split(":", 1)[0]
    if head in ("mtg", "cap") and ident.isdigit():
        return ("meeting" if head == "mtg" else "action", int(ident))
    return None


def email(session, row, _):
    """Subject, lines and page of a meeting notice's e-mail copy."""
    key = session.scalar(select(Notification.dedupe_key).where(Notification.id == row.notification_id))
    what = target(key)
    if what is None or row.kind not in SUBJECTS:
        return None, [], ""
    if what[0] == "meeting":
        meeting = session.get(Meeting, what[1])
        if meeting is None:
            return None, [], ""
        lines = [_("会议日期：%(d)s", d=meeting.held_on.isoformat() if meeting.held_on else "—")]
        return _(SUBJECTS[row.kind], t=meeting.title), lines, f"/meetings/{meeting.id}"
    a = session.get(CorrectiveAction, what[1])
    if a is None or a.meeting_item_id is None:
        return None, [], ""
    item = session.get(MeetingItem, a.meeting_item_id)
    lines = [_("措施：%(t)s", t=a.text[:200]), _("完成期限：%(d)s", d=a.due.isoformat() if a.due else "—"),
             _("来自：%(m)s", m=item.meeting.title if item else "—")]
    return _(SUBJECTS[row.kind], x=a.text[:30]), lines, f"/meetings/actions/{a.id}"
