"""The monthly complaint meeting 客诉专题会 (issue 17, SPEC §3.5) from agenda to signed minutes: the
proposed agenda agrees with the monthly report's frequent categories and holds the month's major and
high-urgency complaints; quality edits it and invites; conclusions and new actions are recorded;
issuing locks the minutes; each attendee signs once; the unsigned are reminded once a day; a
correction is a signed addendum; an action decided there is followed like any other — its owner is
told, reminded before it is due and when it is late (quality too), reports it done, and quality
verifies it (ineffective: back with a new due date). Every step is an event; scope as everywhere."""
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from domain import meetings, monthly
from domain.errors import InvalidInput, NotAllowed, Stale
from domain.fields import Fields
from models.complaint import CorrectiveAction, Notification
from models.meeting import MeetingEvent
from tests.builders import make_complaint, unit, user
from tests.domain.test_channels import smtp_on
from tests.domain.test_monthly import NOW, november

UTC = timezone.utc
DAY = timedelta(days=1)


def step(s, who, meeting, name, now=NOW, **values):
    fields = meetings.STEPS[name].fields(**values)
    return meetings.act(s, user(s, who), meeting, name, fields, version=None if name == "sign" else meeting.version,
                        now=now)


def on_action(s, who, a, name, now=NOW, **values):
    return meetings.act_on_action(s, user(s, who), a, name, meetings.ACTION_STEPS[name].fields(**values), now=now)


def notices(s, kind, who=None):
    query = select(func.count()).select_from(Notification).where(Notification.kind == kind)
    if who:
        query = query.where(Notification.user_id == user(s, who).id)
    return s.scalar(query)


def kinds(s, meeting):
    return [e.kind for e in s.scalars(select(MeetingEvent).where(MeetingEvent.meeting_id == meeting.id)
                                      .order_by(MeetingEvent.id))]


@pytest.fixture
def made(session, company):
    return november(session)


def test_the_agenda_is_the_reports_frequent_categories_and_the_urgent_and_major_complaints(session, made):
    report = monthly.figures(session, None, "2026-11", now=NOW)
    frequent = {row[1] for row in report["matrix"] if row[-1]}
    assert frequent, "the data set has frequent categories"
    items = meetings.propose(session, "2026-11")
    assert {i["title"] for i in items if i["source"] == "frequent"} == frequent
    counts = {row[1]: row[-2] for row in report["matrix"]}
    assert all(i["count"] == counts[i["title"]] for i in items if i["source"] == "frequent")
    urgent = {c.id for k, c in made.items() if k in (1, 2, 4, 5, 6, 7, 8, 11)
              and (c.urgency == "high" or c.severity == "major")}
    assert urgent, "the data set has high-urgency complaints"
    assert {i["complaint_id"] for i in items if i["source"] in ("urgent", "major")} == urgent
    # The admin's N: with N = 1 only the most frequent (and whatever ties with it).
    from models.setting import put
    put(session, monthly.TOP_N_SETTING, 1, by_id=None, now=NOW)
    top = [i for i in meetings.propose(session, "2026-11") if i["source"] == "frequent"]
    assert len(top) >= 1 and len({i["count"] for i in top}) == 1 and top[0]["count"] == max(counts.values())


def test_a_meeting_from_agenda_to_signed_minutes(session, made):
    s = session
    with pytest.raises(NotAllowed):
        meetings.open_meeting(s, user(s, "handler"), "2026-11", now=NOW)
    meeting, created = meetings.open_meeting(s, user(s, "quality"), "2026-11", now=NOW)
    again, created_again = meetings.open_meeting(s, user(s, "quality"), "2026-11", now=NOW)
    assert created and not created_again and again.id == meeting.id      # one meeting per month
    assert meeting.items and meeting.status == "draft"
    proposed = len(meeting.items)

    # Quality edits the agenda, sets the date and the attendees (who are told once).
    step(s, "quality", meeting, "details", title="十一月客诉专题会", held_on=date(2026, 12, 3), place="三楼会议室",
         attendees=(user(s, "quality").id, user(s, "manager").id, user(s, "handler2").id, user(s, "prod_head").id))
    assert notices(s, "meeting:invited") == 3                             # not quality, who invited them
    step(s, "quality", meeting, "details", title="十一月客诉专题会", held_on=date(2026, 12, 3), place="三楼会议室",
         attendees=(user(s, "quality").id, user(s, "manager").id, user(s, "handler2").id, user(s, "prod_head").id))
    assert notices(s, "meeting:invited") == 3                             # saved again: nobody told twice
    extra = step(s, "quality", meeting, "add_item", title="门店试吃台卫生", number="")
    with pytest.raises(InvalidInput) as err:
        step(s, "quality", meeting, "add_item", title="", number="TS-209912-0001")
    assert err.value.field == "number"
    assert len(meeting.items) == proposed + 1
    step(s, "quality", meeting, "remove_item", item_id=extra.id)
    assert len(meeting.items) == proposed
    with pytest.raises(Stale):
        meetings.act(s, user(s, "quality"), meeting, "conclude", meetings.STEPS["conclude"].fields(
            item_id=meeting.items[0].id, conclusion="x"), version=meeting.version - 1, now=NOW)

    # In the meeting: a conclusion per item, a new action on the first.
    first = meeting.items[0]
    with pytest.raises(InvalidInput) as err:
        step(s, "quality", meeting, "issue")
    assert "结论" in err.value.message                                     # every item needs its conclusion
    for item in meeting.items:
        step(s, "quality", meeting, "conclude", item_id=item.id, conclusion=f"{item.title}：原因已明确")
    with pytest.raises(InvalidInput) as err:
        step(s, "quality", meeting, "add_action", item_id=first.id, text="加装金属探测", due=date(2026, 12, 20))
    assert err.value.field == "owner_unit_id"                             # an owner is needed
    with pytest.raises(InvalidInput) as err:
        step(s, "quality", meeting, "add_action", item_id=first.id, text="加装金属探测",
             owner_unit_id=unit(s, "生产部").id, due=date(2026, 11, 1))
    assert err.value.field == "due"                                       # not in the past
    a = step(s, "quality", meeting, "add_action", item_id=first.id, kind="preventive", text="生产线加装金属探测",
             owner_unit_id=unit(s, "生产部").id, due=date(2026, 12, 10))
    assert a.complaint_id is None and a.meeting_item_id == first.id
    assert notices(s, "meeting:action", "prod_head") == 1                 # the owner unit's head is told

    # Issued: locked; attendees asked to sign; only they may, once each.
    step(s, "quality", meeting, "issue", now=NOW + timedelta(hours=2))
    assert meeting.status == "issued" and notices(s, "meeting:sign") == 3
    with pytest.raises(InvalidInput):
        step(s, "quality", meeting, "conclude", item_id=first.id, conclusion="改一下")
    with pytest.raises(NotAllowed):
        step(s, "handler", meeting, "sign", part=0)                       # not an attendee
    for who in ("manager", "handler2", "quality"):
        assert step(s, who, meeting, "sign", part=0) is True
    assert step(s, "manager", meeting, "sign", part=0) is False           # a double tap signs once
    assert meeting.status == "issued" and meetings.unsigned(meeting) == [user(s, "prod_head").id]

    # The unsigned are reminded once a day from the next day on.
    meetings.remind(s, NOW + timedelta(hours=3))
    assert notices(s, "meeting:unsigned") == 0                           # not on the day it went out
    tomorrow = NOW + DAY
    meetings.remind(s, tomorrow)
    meetings.remind(s, tomorrow + timedelta(minutes=1))
    assert notices(s, "meeting:unsigned", "prod_head") == 1
    assert notices(s, "meeting:unsigned", "manager") == 0
    meetings.remind(s, tomorrow + DAY)
    assert notices(s, "meeting:unsigned", "prod_head") == 2
    step(s, "prod_head", meeting, "sign", part=0, now=tomorrow + DAY)
    assert meeting.status == "signed" and meeting.signed_at is not None

    # A correction: an addendum, signed by each in turn; the minutes themselves stay as they were.
    with pytest.raises(NotAllowed):
        step(s, "manager", meeting, "addendum", text="更正")              # quality writes it
    number = step(s, "quality", meeting, "addendum", text="第1项措施负责人改为生产部", now=tomorrow + DAY)
    assert number == 1 and len(meetings.unsigned(meeting, 1)) == 4       # everyone signs it, its writer too
    for who in ("quality", "manager", "handler2", "prod_head"):
        step(s, who, meeting, "sign", part=1, now=tomorrow + DAY)
    assert meetings.unsigned(meeting, 1) == []
    assert first.conclusion.endswith("原因已明确")

    # Every step is on the timeline.
    events = kinds(s, meeting)
    for kind in ("opened", "details", "item_added", "item_removed", "concluded", "action_added", "issued", "signed",
                 "all_signed", "addendum"):
        assert kind in events, kind
    assert events.count("signed") == 4 + 4


@pytest.fixture
def action(session, made):
    s = session
    meeting, _ = meetings.open_meeting(s, user(s, "quality"), "2026-11", now=NOW)
    step(s, "quality", meeting, "details", title="专题会", held_on=date(2026, 12, 3), place="",
         attendees=(user(s, "manager").id, user(s, "handler2").id))
    return step(s, "quality", meeting, "add_action", item_id=meeting.items[0].id, text="修订投料检查规程",
                owner_user_id=user(s, "handler2").id, due=date(2026, 12, 10))


def at(day, hour=11):
    return datetime(2026, 12, day, hour - 8, 0, tzinfo=UTC)     # company time (Shanghai)


def test_an_action_is_reminded_becomes_overdue_and_is_verified(session, action):
    s, a = session, action
    assert meetings.remind(s, at(8)) == 0                                 # not due yet
    meetings.remind(s, at(9))
    meetings.remind(s, at(9, 15))
    assert notices(s, "meeting:action_due", "handler2") == 1              # the day before, once
    meetings.remind(s, at(11))
    meetings.remind(s, at(12))
    assert notices(s, "meeting:action_late", "handler2") == 1             # late: the owner, once
    assert notices(s, "meeting:action_late", "quality") == 1              # and quality
    assert meetings.is_late(a, date(2026, 12, 11))

    with pytest.raises(NotAllowed):
        on_action(s, "handler", a, "done", note="做完了")                 # not the owner
    with pytest.raises(InvalidInput):
        on_action(s, "quality", a, "verify", verdict="effective", reason="")   # not reported done yet
    with pytest.raises(InvalidInput) as err:
        on_action(s, "handler2", a, "done", note="  ")
    assert err.value.field == "note"
    on_action(s, "handler2", a, "done", note="规程已修订并培训", now=at(12))
    assert notices(s, "meeting:action_done", "quality") == 1
    assert [x.id for x in meetings.to_verify(s)] == [a.id]

    # Ineffective: back to the owner with a new due date, and its reminders start over.
    with pytest.raises(InvalidInput) as err:
        on_action(s, "quality", a, "verify", verdict="ineffective", reason="抽查仍有问题", now=at(13))
    assert err.value.field == "due"
    on_action(s, "quality", a, "verify", verdict="ineffective", reason="抽查仍有问题", due=date(2026, 12, 20), now=at(13))
    assert a.verdict is None and a.done_at is None and a.due == date(2026, 12, 20)
    assert notices(s, "meeting:action_back", "handler2") == 1
    assert [x.id for x in meetings.my_actions(s, user(s, "handler2"))] == [a.id]
    meetings.remind(s, at(21))
    assert notices(s, "meeting:action_late", "handler2") == 2            # late again, for the new date

    on_action(s, "handler2", a, "done", note="增加抽检频次", now=at(21))
    on_action(s, "quality", a, "verify", verdict="effective", reason="", now=at(22))
    assert a.verdict == "effective" and a.done and meetings.to_verify(s) == []
    assert meetings.my_actions(s, user(s, "handler2")) == []
    with pytest.raises(InvalidInput):
        on_action(s, "quality", a, "verify", verdict="waived", reason="x", now=at(22))
    meetings.remind(s, at(30))
    assert notices(s, "meeting:action_late", "handler2") == 2            # finished: no more reminders
    kinds_ = [e.kind for e in s.scalars(select(MeetingEvent).where(MeetingEvent.action_id == a.id).order_by(MeetingEvent.id))]
    assert kinds_ == ["action_added", "action_done", "action_verified", "action_reopened", "action_done",
                      "action_verified"]


def test_an_action_due_on_a_monday_is_reminded_on_the_friday_before(session, action):
    s, a = session, action
    a.due = date(2026, 12, 14)                                           # Monday
    meetings.remind(s, at(10))                                           # Thursday: not yet
    assert notices(s, "meeting:action_due") == 0
    meetings.remind(s, at(11))                                           # Friday, the last working day before
    assert notices(s, "meeting:action_due", "handler2") == 1
    meetings.remind(s, at(12))
    meetings.remind(s, at(13))                                           # the weekend: nothing more
    assert notices(s, "meeting:action_due", "handler2") == 1 and notices(s, "meeting:action_late") == 0


def test_who_sees_a_meeting_and_its_actions(session, action):
    s, a = session, action
    meeting = a.meeting_item.meeting
    for who in ("quality", "manager", "handler2"):                        # readers, attendees
        assert meetings.meeting_or_none(s, user(s, who), meeting.id) is not None, who
    for who in ("handler", "receiver", "prod_head"):
        assert meetings.meeting_or_none(s, user(s, who), meeting.id) is None, who
    # The action: its owner, the attendees, quality and the manager — and the owner's head.
    assert meetings.action_or_none(s, user(s, "handler2"), a.id) is not None
    assert meetings.action_or_none(s, user(s, "receiver"), a.id) is None
    assert meetings.action_or_none(s, user(s, "handler"), a.id) is None
    # A complaint's own action is not the meeting's: not found here, refused by the meeting's steps.
    c = make_complaint(s, "verifying", at=NOW)
    own = c.actions[0]
    assert meetings.action_or_none(s, user(s, "quality"), own.id) is None
    with pytest.raises(NotAllowed):
        on_action(s, "quality", own, "verify", verdict="effective", reason="")


def test_steps_take_their_own_fields(session, action):
    with pytest.raises(TypeError):
        meetings.act(session, user(session, "quality"), action.meeting_item.meeting, "issue",
                     meetings.STEPS["conclude"].fields(), version=None, now=NOW)
    assert isinstance(meetings.STEPS["issue"].fields(), Fields)
    assert session.scalar(select(func.count()).select_from(CorrectiveAction)
                          .where(CorrectiveAction.meeting_item_id.is_not(None))) == 1


def test_the_minutes_to_sign_and_a_late_action_go_by_e_mail_once(session, action, smtp_sink):
    from domain import delivery
    from models.sla import Outbox
    s = session
    smtp_on(s, smtp_sink.port, NOW)
    user(s, "manager").email = "wang@example.com"
    user(s, "handler2").email = "liu@example.com"
    meeting = action.meeting_item.meeting
    for item in meeting.items:
        step(s, "quality", meeting, "conclude", item_id=item.id, conclusion="已讨论")
    step(s, "quality", meeting, "issue")
    meetings.remind(s, at(11))
    meetings.remind(s, at(11, 12))
    s.commit()
    rows = s.scalars(select(Outbox).where(Outbox.kind.like("meeting:%"))).all()
    # the manager: sign; handler2: sign and the late action (quality has no address); reminders to sign: one day each
    assert sorted(r.kind for r in rows).count("meeting:sign") == 2
    assert sorted(r.kind for r in rows).count("meeting:action_late") == 1
    result = delivery.deliver(s, [r.id for r in rows], at(11, 13))
    assert result["sent"] == len(rows), (result, [(r.status, r.last_error) for r in rows])
    mails = {(to[0], m["Subject"]): m for to, m in smtp_sink.messages}
    sign = mails[("wang@example.com", "【客诉专题会】请签字确认纪要：专题会")]
    assert f"/meetings/{meeting.id}" in sign.get_body(("plain",)).get_content()
    late = mails[("liu@example.com", "【专题会措施】已逾期：修订投料检查规程")]
    text = late.get_body(("plain",)).get_content()
    assert "完成期限：2026-12-10" in text and f"/meetings/actions/{action.id}" in text
