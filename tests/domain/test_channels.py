"""E-mail and group robots (SPEC §4.4) against a real SMTP sink (aiosmtpd) and a real local HTTP
server: what they received, retries with backoff, permanent failures listed for the admin."""
import base64
import hashlib
import hmac
import time
import urllib.parse
from datetime import timedelta

import pytest
from sqlalchemy import select

from domain import channels, delivery, reminders
from domain.errors import InvalidInput
from models import utcnow
from models.complaint import Complaint
from models.org import OrgUnit
from models.sla import Outbox
from tests.builders import NOW, register, user

H = timedelta(hours=1)
DUE = NOW + 24 * H      # a new complaint's dispatch clock (generic preset) is due


def smtp_on(session, port, now=NOW):
    """E-mail on, to the local SMTP sink (or any port) — the tests' one way to configure it."""
    channels.set_smtp_config(session, user(session, "admin"), host="127.0.0.1", port=str(port), security="none",
                             username="", password="", sender="kesu@example.com", sender_name="客诉系统", now=now)


def test_due_reminders_are_e_mailed_once_with_no_customer_data(session, company, smtp_sink):
    smtp_on(session, smtp_sink.port)
    user(session, "quality").email = "li.jing@example.com"
    user(session, "receiver").email = "chen.xiao@example.com"     # quality2 has no address: in-app only
    c = register(session, customer_name="王秀英", customer_phone="13812345678")
    session.commit()
    result = reminders.sweep(session, DUE)
    session.commit()
    rows = session.scalars(select(Outbox).where(Outbox.kind == "sla:due:dispatch")).all()
    assert {r.user_id for r in rows} == {user(session, "quality").id, user(session, "receiver").id}
    assert result.outbox >= 2
    outcome = delivery.deliver(session, delivery.due_ids(session, DUE), DUE)
    assert outcome["sent"] == result.outbox and outcome["retry"] == outcome["failed"] == 0
    dispatch_mails = [(to, m) for to, m in smtp_sink.messages if "分派" in m["Subject"]]
    assert sorted(to[0] for to, _ in dispatch_mails) == ["chen.xiao@example.com", "li.jing@example.com"]
    to, mail = dispatch_mails[0]
    assert mail["Subject"] == f"【客诉提醒】{c.number} 分派已到期"
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    assert c.number in text and f"/complaints/{c.id}" in text and "截止 2026-11-24 11:00" in text
    for body in (text, html, mail["Subject"]):
        assert "王秀英" not in body and "13812345678" not in body
    # Delivered means done: another pass sends nothing.
    sent = len(smtp_sink.messages)
    assert delivery.deliver(session, [r.id for r in rows], DUE + H) == {"sent": 0, "retry": 0, "failed": 0}
    assert len(smtp_sink.messages) == sent
    assert all(r.status == "sent" and r.sent_at == DUE for r in rows)


def test_no_smtp_server_no_e_mail_rows(session, company):
    user(session, "quality").email = "li.jing@example.com"
    register(session)
    session.commit()
    reminders.sweep(session, DUE)
    assert session.scalar(select(Outbox.id).limit(1)) is None


def test_an_unreachable_mail_server_is_retried_with_backoff(session, company):
    from tests.conftest import free_port
    smtp_on(session, free_port())       # nothing listens there
    user(session, "quality").email = "li.jing@example.com"
    register(session)
    session.commit()
    reminders.sweep(session, DUE)
    session.commit()
    row = session.scalar(select(Outbox).where(Outbox.kind == "sla:due:dispatch"))
    assert delivery.deliver(session, [row.id], DUE)["retry"] == 1
    assert row.status == "pending" and row.attempts == 1 and row.next_attempt_at == DUE + timedelta(minutes=1)
    assert "ConnectionRefusedError" in row.last_error
    assert delivery.deliver(session, [row.id], DUE + timedelta(seconds=30))["retry"] == 0   # not due yet
    delivery.deliver(session, [row.id], DUE + timedelta(minutes=1))
    assert row.attempts == 2 and row.next_attempt_at == DUE + timedelta(minutes=3)


def robot_on(session, unit_name, kind, url, secret=None):
    unit = session.scalar(select(OrgUnit).where(OrgUnit.name == unit_name))
    channels.set_robot(session, user(session, "admin"), unit, kind, url, secret, now=NOW)
    return unit


@pytest.mark.parametrize("kind", ["wecom", "dingtalk", "feishu"])
def test_a_robot_answering_500_then_200_gets_the_message_once(session, company, webhook_server, kind):
    webhook_server.answers = [(500, {"error": "busy"}), (200, {"errcode": 0, "code": 0, "errmsg": "ok"})]
    secret = None if kind == "wecom" else "SEC-test-secret"
    path = {"wecom": "/cgi-bin/webhook/send?key=abc", "dingtalk": "/robot/send?access_token=tok",
            "feishu": "/open-apis/bot/v2/hook/xyz"}[kind]
    robot_on(session, "上海徐汇店", kind, webhook_server.url + path, secret)   # the receiving store's group
    c = register(session, customer_phone="13812345678")
    session.commit()
    reminders.sweep(session, DUE)
    session.commit()
    rows = session.scalars(select(Outbox).where(Outbox.channel == kind)).all()
    # one message per clock and level for the group (not one per person)
    assert sorted(r.kind for r in rows) == ["sla:due:dispatch", "sla:due:first_contact"]
    row = next(r for r in rows if r.kind == "sla:due:dispatch")
    assert delivery.deliver(session, [row.id], DUE) == {"sent": 0, "retry": 1, "failed": 0}
    assert row.last_error == "HTTP 500 Internal Server Error" and row.status == "pending"
    assert delivery.deliver(session, [row.id], DUE + timedelta(minutes=1)) == {"sent": 1, "retry": 0, "failed": 0}
    assert delivery.deliver(session, [row.id], DUE + H) == {"sent": 0, "retry": 0, "failed": 0}
    got = webhook_server.requests
    assert len(got) == 2      # the failed attempt and the delivery; nothing after
    if kind == "wecom":
        assert got[0]["body"] == got[1]["body"]
    body, url = got[-1]["body"], urllib.parse.urlsplit(got[-1]["path"])
    query = urllib.parse.parse_qs(url.query)
    if kind == "wecom":
        assert url.path == "/cgi-bin/webhook/send" and query["key"] == ["abc"]
        assert body["msgtype"] == "markdown" and c.number in body["markdown"]["content"]
        text = body["markdown"]["content"]
    elif kind == "dingtalk":
        assert query["access_token"] == ["tok"]
        ts = query["timestamp"][0]
        expected = base64.b64encode(hmac.new(secret.encode(), f"{ts}\n{secret}".encode(), hashlib.sha256).digest())
        assert query["sign"][0].encode() == expected     # parse_qs undid the URL encoding
        assert body["msgtype"] == "markdown" and "分派已到期" in body["markdown"]["title"]
        text = body["markdown"]["text"]
    else:
        ts = body["timestamp"]
        expected = base64.b64encode(hmac.new(f"{ts}\n{secret}".encode(), b"", hashlib.sha256).digest()).decode()
        assert body["sign"] == expected and body["msg_type"] == "text"
        text = body["content"]["text"]
    assert c.number in text and "13812345678" not in text and "王女士" not in text
    assert got[-1]["headers"]["Content-Type"].startswith("application/json")


def test_a_robot_that_refuses_in_its_answer_body_is_an_error(session, company, webhook_server):
    webhook_server.answers = [(200, {"errcode": 310000, "errmsg": "sign not match"})]
    robot_on(session, "上海徐汇店", "dingtalk", webhook_server.url + "/robot/send?access_token=t", "wrong")
    register(session)
    session.commit()
    reminders.sweep(session, DUE)
    session.commit()
    row = session.scalar(select(Outbox).where(Outbox.kind == "sla:due:dispatch"))
    delivery.deliver(session, [row.id], DUE)
    assert "310000" in row.last_error and "sign not match" in row.last_error


def test_after_the_last_attempt_a_message_is_failed_until_the_admin_retries(session, company, webhook_server):
    webhook_server.answers = [(502, {})]
    robot_on(session, "上海徐汇店", "wecom", webhook_server.url + "/send?key=k")
    register(session)
    session.commit()
    reminders.sweep(session, DUE)
    session.commit()
    row = session.scalar(select(Outbox).where(Outbox.kind == "sla:due:dispatch"))
    at = DUE
    for _ in range(delivery.MAX_ATTEMPTS):
        delivery.deliver(session, [row.id], at)
        at = row.next_attempt_at if row.status == "pending" else at
    assert row.status == "failed" and row.attempts == delivery.MAX_ATTEMPTS and "502" in row.last_error
    assert len(webhook_server.requests) == delivery.MAX_ATTEMPTS
    assert delivery.deliver(session, [row.id], at + 10 * H)["sent"] == 0      # failed stays failed
    webhook_server.answers = [(200, {"errcode": 0})]
    assert delivery.retry(session, user(session, "admin"), row.id, now=utcnow())
    session.commit()
    assert delivery.deliver(session, [row.id], utcnow())["sent"] == 1


def test_robot_and_smtp_settings_are_checked(session, company):
    unit = session.scalar(select(OrgUnit).where(OrgUnit.name == "生产部"))
    admin = user(session, "admin")
    with pytest.raises(InvalidInput):
        channels.set_robot(session, admin, unit, "wecom", "javascript:alert(1)", None, now=NOW)
    with pytest.raises(InvalidInput):
        channels.set_robot(session, admin, unit, "telegram", "https://x.example/hook", None, now=NOW)
    with pytest.raises(InvalidInput) as err:
        channels.set_smtp_config(session, admin, host="smtp.example.com", port="99999", security="tls?",
                                 username="", password="", sender="nobody", sender_name="", now=NOW)
    assert {p.field for p in err.value.problems} == {"port", "security", "sender"}
    channels.set_smtp_config(session, admin, host="smtp.example.com", port="465", security="ssl",
                             username="u", password="secret-1", sender="a@example.com", sender_name="", now=NOW)
    # an empty password keeps the stored one (the form never shows it)
    channels.set_smtp_config(session, admin, host="smtp.example.com", port="465", security="ssl",
                             username="u", password="", sender="a@example.com", sender_name="", now=NOW)
    assert channels.smtp_config(session).password == "secret-1"
    from models.audit import AuditEvent
    assert all("secret-1" not in str(e.detail) for e in session.scalars(select(AuditEvent)))


# --- delivery of a backlog (issue 13): channels take turns, oldest first, one connection per batch ---

ROBOT_UNITS = {"wecom": "上海徐汇店", "dingtalk": "生产部", "feishu": "品管部"}


def backlog(session, at, emails=0, prefix="b", **robots):
    """Messages due at `at` copying a notice about one complaint: the e-mails first, then each robot
    kind's (ids in that order, like a sweep's inserts). Returns their ids."""
    from sqlalchemy import insert
    c = session.scalar(select(Complaint).limit(1))
    quality = user(session, "quality")
    quality.email = quality.email or "li.jing@example.com"
    rows = [dict(channel="email", dedupe_key=f"{prefix}:e{i}", kind="notice", user_id=quality.id, complaint_id=c.id)
            for i in range(emails)]
    for kind, n in robots.items():
        unit_id = session.scalar(select(OrgUnit.id).where(OrgUnit.name == ROBOT_UNITS[kind]))
        rows += [dict(channel=kind, dedupe_key=f"{prefix}:{kind}{i}", kind="notice", unit_id=unit_id,
                      complaint_id=c.id) for i in range(n)]
    for row in rows:
        row.update(status="pending", attempts=0, next_attempt_at=at, created_at=at)
    session.execute(insert(Outbox), rows)
    session.commit()
    return list(session.scalars(select(Outbox.id).where(Outbox.dedupe_key.like(f"{prefix}:%")).order_by(Outbox.id)))


@pytest.fixture
def outbox_ready(session, company, smtp_sink, webhook_server):
    """SMTP to the sink, a robot of each kind to the local HTTP server, one complaint, an empty outbox."""
    from sqlalchemy import delete
    smtp_on(session, smtp_sink.port)
    for kind, unit_name in ROBOT_UNITS.items():
        robot_on(session, unit_name, kind, f"{webhook_server.url}/{kind}", None if kind == "wecom" else "SEC-test")
    register(session)
    session.execute(delete(Outbox))
    session.commit()


class _Timed(list):
    """The robots' server's request list, each request stamped with its arrival time `at`."""

    def append(self, request):
        request["at"] = time.monotonic()
        super().append(request)


@pytest.fixture
def arrivals(smtp_sink, webhook_server):
    """When each e-mail arrived and over which connection (`smtp_sink.arrivals`: (time, client
    address)), and when each robot message did (`at` in `webhook_server.requests`)."""
    smtp_sink.arrivals = []
    receive = smtp_sink.handle_DATA

    async def handle_DATA(server, session, envelope):     # aiosmtpd looks the hook up per connection
        smtp_sink.arrivals.append((time.monotonic(), session.peer))
        return await receive(server, session, envelope)

    smtp_sink.handle_DATA = handle_DATA
    webhook_server.requests = _Timed()
    return smtp_sink, webhook_server


def outbox_id(mail):
    return int(mail["Message-ID"].split("kesu-outbox-")[1].split("@")[0])


def test_robots_take_turns_with_a_wall_of_e_mails_due_at_the_same_moment(session, outbox_ready, arrivals,
                                                                        smtp_sink, webhook_server):
    backlog(session, utcnow() - timedelta(minutes=1), emails=300, wecom=20, dingtalk=20, feishu=20)
    assert delivery.drain(session, utcnow) == {"sent": 360, "retry": 0, "failed": 0, "done": True, "down": []}
    mails = sorted(at for at, _peer in smtp_sink.arrivals)
    robots = sorted(r["at"] for r in webhook_server.requests)
    assert len(mails) == 300 and len(robots) == 60
    # each robot kind's first message waited for one batch of e-mails, not for all 300; all robots were out
    # before the last e-mail
    for kind in ROBOT_UNITS:
        first = min(r["at"] for r in webhook_server.requests if urllib.parse.urlsplit(r["path"]).path == f"/{kind}")
        assert sum(at < first for at in mails) == delivery.BATCH
    assert robots[-1] < mails[-1]
    # within e-mail, oldest first; one SMTP connection per batch of 50, not one per e-mail
    assert [outbox_id(m) for _to, m in smtp_sink.messages] == sorted(outbox_id(m) for _to, m in smtp_sink.messages)
    assert len({peer for _at, peer in smtp_sink.arrivals}) == 300 // delivery.BATCH


def test_a_message_whose_claim_ran_out_goes_before_newer_ones(session, outbox_ready, smtp_sink):
    first = backlog(session, NOW, emails=3, prefix="old")
    # a delivery job claims them and is killed before sending: they stay claimed for CLAIM_SECONDS
    assert delivery.claim_next(session, "email", NOW, limit=3) == first
    newer = backlog(session, NOW + timedelta(minutes=1), emails=4, prefix="new")
    assert delivery.drain(session, lambda: NOW + timedelta(minutes=2))["sent"] == 4     # only the newer ones
    later = backlog(session, NOW + timedelta(minutes=3), emails=4, prefix="later")
    expired = NOW + timedelta(seconds=delivery.CLAIM_SECONDS + 1)
    assert delivery.drain(session, lambda: expired, batch=2)["sent"] == 7
    sent = [outbox_id(m) for _to, m in smtp_sink.messages]
    assert sent == newer + first + later      # the released ones first, in their order
    session.expire_all()
    assert [session.get(Outbox, i).attempts for i in first] == [2, 2, 2]


def test_messages_given_back_untried_keep_their_place_and_their_attempts(session, outbox_ready):
    ids = backlog(session, NOW, emails=6)
    taken = delivery.claim_next(session, "email", NOW, limit=4)
    assert taken == ids[:4]
    delivery.release(session, taken[1:], NOW)      # a drain out of time gives back the rest of its batch
    session.expire_all()
    assert [session.get(Outbox, i).attempts for i in ids] == [1, 0, 0, 0, 0, 0]
    assert delivery.claim_next(session, "email", NOW, limit=2) == ids[1:3]


def test_workers_claiming_side_by_side_each_get_a_message_once(session, outbox_ready):
    from concurrent.futures import ThreadPoolExecutor

    from sqlalchemy.orm import Session
    ids = backlog(session, NOW, emails=400)
    engine = session.get_bind()

    def worker(_):
        got = []
        with Session(engine) as own:
            while taken := delivery.claim_next(own, "email", NOW, limit=25):
                got += taken
        return got

    with ThreadPoolExecutor(4) as pool:
        claimed = [i for got in pool.map(worker, range(4)) for i in got]
    assert sorted(claimed) == ids       # each exactly once
    assert delivery.claim(session, ids, NOW) == []       # nothing left to take


@pytest.fixture
def silent_smtp():
    """A port that accepts connections and never says a word (a server hung or behind a dead link)."""
    import socket
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(128)
    yield server.getsockname()[1]
    server.close()


def test_an_unreachable_mail_server_costs_one_timeout_and_robots_still_go_out(session, outbox_ready,
                                                                             webhook_server, silent_smtp,
                                                                             monkeypatch):
    monkeypatch.setattr(channels, "TIMEOUT", 1)     # one e-mail at a time, the old way: 120 s
    smtp_on(session, silent_smtp)
    session.commit()
    ids = backlog(session, NOW, emails=120, wecom=10)
    start = time.monotonic()
    result = delivery.drain(session, lambda: NOW)
    assert time.monotonic() - start < 5
    assert result == {"sent": 10, "retry": delivery.BATCH, "failed": 0, "done": True, "down": ["email"]}
    assert len(webhook_server.requests) == 10
    session.expire_all()
    mails = [session.get(Outbox, i) for i in ids[:120]]
    tried, untouched = mails[:delivery.BATCH], mails[delivery.BATCH:]
    # the batch goes back for a retry in a minute with the server's error; the rest waits untouched
    assert all(r.status == "pending" and r.attempts == 1 and r.next_attempt_at == NOW + timedelta(minutes=1)
               and "timed out" in r.last_error for r in tried)
    assert all(r.attempts == 0 and r.next_attempt_at == NOW and r.last_error is None for r in untouched)
