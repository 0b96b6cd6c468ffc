"""The customer's side in the domain (SPEC §7): the online form's registration, the lookup, the
survey link (one time, expiring) that closes the complaint with the customer as the closing actor,
adding information, and the messages queued only with consent."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from domain import delivery, intake
from domain.errors import InvalidInputs, NotAllowed
from domain.messages import Wording
from domain.portal import links, online, steps
from domain.portal.view import customer_view
from domain.workflow import act as workflow_act
from domain.workflow.customer import Customer
from models.complaint import ComplaintEvent, Notification
from models.sla import Outbox
from tests.builders import NOW, TZ, act, make_complaint, unit, user
from tests.domain.test_channels import smtp_on

SECRET = "test-secret"
WORDING = Wording("https://kesu.example.com", secret=SECRET)


def online_form(**values) -> online.OnlineComplaint:
    data = dict(customer_name="李先生", customer_phone="13900001234", customer_email="li@example.com",
                content="买的牛奶过期了", demand="refund", privacy_consent=True, contact_consent=True)
    data.update(values)
    return online.OnlineComplaint(**data)


def test_an_online_complaint_is_registered_by_the_customer_for_the_online_receiver(session, company):
    store = unit(session, "上海浦东店")
    result = online.register_online(session, online_form(store_id=store.id, order_no="A1"), now=NOW, tz=TZ,
                                     token="t" * 32)
    c = result.complaint
    assert result.created and c.channel == "web" and c.stage == "new" and c.contact_consent
    assert c.complained_unit_id == store.id and c.order_no == "A1"
    receiver = online.receiving(session)
    assert c.first_responder_id == receiver.id
    first = c.events[0]
    assert first.actor_id is None and first.changes["by"] == "customer"
    assert session.scalar(select(Notification).where(Notification.complaint_id == c.id,
                                                     Notification.user_id == receiver.id)).kind == "web_registered"
    again = online.register_online(session, online_form(), now=NOW, tz=TZ, token="t" * 32)
    assert not again.created and again.complaint.id == c.id


def test_the_online_form_needs_consent_and_a_real_store(session, company):
    with pytest.raises(InvalidInputs) as err:
        online.register_online(session, online_form(privacy_consent=False, store_id=unit(session, "生产部").id,
                                                    content=""), now=NOW, tz=TZ, token="u" * 32)
    fields = {p.field for p in err.value.problems}
    assert {"privacy_consent", "store_id", "content"} <= fields


def test_safety_words_make_an_online_complaint_major(session, company):
    c = online.register_online(session, online_form(content="孩子喝了以后腹泻住院"), now=NOW, tz=TZ,
                               token="v" * 32).complaint
    assert c.severity == "major"


def test_lookup_needs_the_number_and_the_last_four_digits_or_the_e_mail(session, company):
    c = online.register_online(session, online_form(), now=NOW, tz=TZ, token="w" * 32).complaint
    assert steps.lookup(session, c.number, "1234") is c
    assert steps.lookup(session, c.number.lower().replace("-", "－"), "１２３４") is c
    assert steps.lookup(session, c.number, "LI@example.com") is c
    assert steps.lookup(session, c.number, "4321") is None
    assert steps.lookup(session, c.number, "") is None
    assert steps.lookup(session, "TS-209901-0001", "1234") is None
    assert steps.lookup(session, c.number, "li@example.co") is None


def test_messages_need_consent_and_a_channel(session, company, smtp_sink):
    c = online.register_online(session, online_form(), now=NOW, tz=TZ, token="x" * 32).complaint
    assert session.scalars(select(Outbox).where(Outbox.complaint_id == c.id)).all() == []   # no mail server yet
    smtp_on(session, smtp_sink.port)
    c2 = online.register_online(session, online_form(contact_consent=False), now=NOW, tz=TZ, token="y" * 32).complaint
    assert session.scalars(select(Outbox).where(Outbox.complaint_id == c2.id)).all() == []
    c3 = online.register_online(session, online_form(), now=NOW, tz=TZ, token="z" * 32).complaint
    rows = session.scalars(select(Outbox).where(Outbox.complaint_id == c3.id)).all()
    assert [(r.channel, r.kind) for r in rows] == [("email", "customer:ack")]
    session.commit()
    delivery.deliver(session, [r.id for r in rows], NOW, WORDING)
    (to, mail), = smtp_sink.messages
    assert to == ["li@example.com"] and c3.number in mail["Subject"]
    body = mail.get_body(("plain",)).get_content()
    assert links.follow_path(SECRET, c3) in body


def follow_up_with_link(session, smtp_sink, **fields):
    smtp_on(session, smtp_sink.port)
    c = make_complaint(session, "follow_up", customer_email="wang@example.com", contact_consent=True, **fields)
    row = session.scalar(select(Outbox).where(Outbox.complaint_id == c.id, Outbox.kind == "customer:survey"))
    session.commit()
    delivery.deliver(session, [row.id], NOW, WORDING)
    mail = [m for _to, m in smtp_sink.messages if "评分" in m["Subject"]][-1]
    body = mail.get_body(("plain",)).get_content()
    token = body.split("/survey/")[1].split()[0].rstrip("）)")
    return c, token, body


def test_the_customer_closes_through_the_link_once(session, company, smtp_sink):
    c, token, body = follow_up_with_link(session, smtp_sink)
    assert "退款 68 元并致歉" in body                      # the approved answer travels with the survey
    steps.rate(session, token, score=5, comment="谢谢", confirm=True, now=NOW + timedelta(hours=1))
    assert c.stage == "closed" and c.close_reason == "customer" and c.satisfaction == 5
    last = c.events[-1]
    assert last.kind == "customer_closed" and last.actor_id is None and last.to_stage == "closed"
    with pytest.raises(steps.LinkRefused) as err:
        steps.rate(session, token, score=5, comment="", confirm=True, now=NOW + timedelta(hours=2))
    assert err.value.state == "used"


def test_a_low_score_or_no_confirmation_leaves_it_to_quality(session, company, smtp_sink):
    c, token, _body = follow_up_with_link(session, smtp_sink)
    steps.rate(session, token, score=4, comment="还行", confirm=False, now=NOW)
    assert c.stage == "follow_up" and c.needs_decision
    act(session, "quality", c, "close", note="顾客未确认，品管结案")
    assert c.stage == "closed"


def test_expired_forged_and_unknown_links_are_refused(session, company, smtp_sink):
    c, token, _body = follow_up_with_link(session, smtp_sink)
    with pytest.raises(steps.LinkRefused) as err:
        steps.rate(session, token, score=5, comment="", confirm=True, now=NOW + timedelta(days=8))
    assert err.value.state == "expired" and err.value.complaint is c
    for forged in (token[:-1] + ("A" if token[-1] != "A" else "B"), "x" * 16, "../../etc", ""):
        with pytest.raises(steps.LinkRefused) as err:
            steps.rate(session, forged, score=5, comment="", confirm=True, now=NOW)
        assert err.value.state == "unknown"
    assert c.stage == "follow_up"
    state, _c = steps.resend(session, token, NOW + timedelta(days=8))
    assert state == "sent"
    assert steps.resend(session, token, NOW + timedelta(days=8, minutes=1))[0] == "recent"


def test_the_customer_adds_information_and_a_paused_clock_runs_again(session, company):
    c = make_complaint(session, "investigating", investigator="handler2", contact_consent=True)
    act(session, "handler2", c, "pause", reason="等顾客提供购物小票")
    assert c.paused_at is not None
    steps.add_information(session, c, text="小票照片稍后补上，购买日期 11 月 20 日", upload_token=None,
                          now=NOW + timedelta(hours=3))
    assert c.paused_at is None
    event = c.events[-1]
    assert event.kind == "customer_adds" and event.actor_id is None and "11 月 20 日" in event.comment
    told = set(session.scalars(select(Notification.user_id).where(Notification.complaint_id == c.id,
                                                                  Notification.kind == "customer_added")))
    assert user(session, "handler2").id in told


def test_the_customer_acts_on_their_complaint_only(session, company):
    mine = make_complaint(session, "investigating")
    other = make_complaint(session, "investigating")
    with pytest.raises(NotAllowed):
        workflow_act(session, Customer(mine.id), other, "customer_adds",
                     steps.command("customer_adds", text="hi"), version=other.version, now=NOW)
    with pytest.raises(NotAllowed):      # and only the customer's steps
        workflow_act(session, Customer(mine.id), mine, "withdraw", None, version=mine.version, now=NOW)


def test_what_the_customer_sees_has_no_staff_and_no_unapproved_amount(session, company):
    c = make_complaint(session, "pending_approval")
    view = customer_view(session, c)
    assert view.answer is None and view.open
    values = " ".join(str(v) for v in view.__dict__.values())
    assert "68" not in values.replace(c.number, "") and "发网" not in values


def test_numbers_and_phones_are_taken_as_people_type_them(session, company):
    c = online.register_online(session, online_form(customer_phone="１３９ ０００１ ２３４５"), now=NOW, tz=TZ,
                               token="n" * 32).complaint
    assert c.customer_phone == "13900012345"
    digits = c.number.split("-")
    for typed in (c.number.lower(), " ".join(digits), "".join(digits).lower(), "-".join(digits[1:]),
                  c.number.replace("-", "—")):
        assert steps.lookup(session, typed, "2345") is c, typed


def test_no_messages_while_the_public_pages_are_off(session, company, smtp_sink):
    from domain.portal import config
    smtp_on(session, smtp_sink.port)
    now_off = config.portal_config(session)
    config.set_portal_config(session, user(session, "admin"), enabled=False, company_name="", intro="",
                             privacy=now_off.privacy, link_days=7, receiver_id=None, now=NOW)
    c = make_complaint(session, "follow_up", customer_email="off@example.com", contact_consent=True)
    assert session.scalars(select(Outbox).where(Outbox.complaint_id == c.id)).all() == []


def test_the_same_addition_sent_twice_is_added_once(session, company):
    c = make_complaint(session, "investigating", investigator="handler2")
    for _ in range(2):
        steps.add_information(session, c, text="购买日期 11 月 20 日", upload_token="f" * 32, now=NOW)
    assert [e.kind for e in c.events].count("customer_adds") == 1
    steps.add_information(session, c, text="另一件事", upload_token="e" * 32, now=NOW)
    assert [e.kind for e in c.events].count("customer_adds") == 2


def test_the_progress_link_holder_may_rate_without_any_message(session, company):
    waiting = make_complaint(session, "follow_up")          # no consent, no channel: nothing was sent
    assert customer_view(session, waiting).can_rate and not customer_view(session, waiting).survey_sent
    token = steps.survey_now(session, waiting, NOW)
    steps.rate(session, token, score=4, comment="", confirm=True, now=NOW)
    assert waiting.stage == "closed" and waiting.close_reason == "customer"
    assert steps.survey_now(session, waiting, NOW) is None
    assert steps.survey_now(session, make_complaint(session, "investigating"), NOW) is None


def test_a_date_gone_by_is_said_so(session, company):
    c = make_complaint(session, "new")
    view = customer_view(session, c, NOW + timedelta(days=30))
    assert view.expect_at is not None and view.expect_passed
    assert not customer_view(session, c, NOW).expect_passed
