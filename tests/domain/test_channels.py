"""E-mail and group robots (SPEC §4.4) against a real SMTP sink (aiosmtpd) and a real local HTTP
server: what they received, retries with backoff, permanent failures listed for the admin."""
import base64
import hashlib
import hmac
import urllib.parse
from datetime import timedelta

import pytest
from sqlalchemy import select

from domain import channels, reminders
from domain.errors import InvalidInput
from models import db
from models.org import OrgUnit
from models.sla import Outbox
from tests.domain.test_workflow import NOW, new_complaint, user

H = timedelta(hours=1)
DUE = NOW + 24 * H      # a new complaint's dispatch clock (generic preset) is due


def smtp_on(port):
    channels.set_smtp_config(db.session, user("admin"), host="127.0.0.1", port=str(port), security="none",
                             username="", password="", sender="kesu@example.com", sender_name="客诉系统")


def test_due_reminders_are_e_mailed_once_with_no_customer_data(demo, smtp_sink):
    smtp_on(smtp_sink.port)
    user("quality").email = "li.jing@example.com"
    user("receiver").email = "chen.xiao@example.com"     # quality2 has no address: in-app only
    c = new_complaint(customer_name="王秀英", customer_phone="13812345678")
    db.session.commit()
    result = reminders.sweep(db.session, DUE)
    db.session.commit()
    rows = db.session.scalars(select(Outbox).where(Outbox.kind == "sla:due:dispatch")).all()
    assert {r.user_id for r in rows} == {user("quality").id, user("receiver").id}
    assert result.outbox >= 2
    outcome = channels.deliver(db.session, channels.due_ids(db.session, DUE), DUE)
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
    assert channels.deliver(db.session, [r.id for r in rows], DUE + H) == {"sent": 0, "retry": 0, "failed": 0}
    assert len(smtp_sink.messages) == sent
    assert all(r.status == "sent" and r.sent_at == DUE for r in rows)


def test_no_smtp_server_no_e_mail_rows(demo):
    user("quality").email = "li.jing@example.com"
    new_complaint()
    db.session.commit()
    reminders.sweep(db.session, DUE)
    assert db.session.scalar(select(Outbox.id).limit(1)) is None


def test_an_unreachable_mail_server_is_retried_with_backoff(demo):
    from tests.conftest import free_port
    smtp_on(free_port())       # nothing listens there
    user("quality").email = "li.jing@example.com"
    new_complaint()
    db.session.commit()
    reminders.sweep(db.session, DUE)
    db.session.commit()
    row = db.session.scalar(select(Outbox).where(Outbox.kind == "sla:due:dispatch"))
    assert channels.deliver(db.session, [row.id], DUE)["retry"] == 1
    assert row.status == "pending" and row.attempts == 1 and row.next_attempt_at == DUE + timedelta(minutes=1)
    assert "ConnectionRefusedError" in row.last_error
    assert channels.deliver(db.session, [row.id], DUE + timedelta(seconds=30))["retry"] == 0   # not due yet
    channels.deliver(db.session, [row.id], DUE + timedelta(minutes=1))
    assert row.attempts == 2 and row.next_attempt_at == DUE + timedelta(minutes=3)


def robot_on(unit_name, kind, url, secret=None):
    unit = db.session.scalar(select(OrgUnit).where(OrgUnit.name == unit_name))
    channels.set_robot(db.session, user("admin"), unit, kind, url, secret)
    return unit


@pytest.mark.parametrize("kind", ["wecom", "dingtalk", "feishu"])
def test_a_robot_answering_500_then_200_gets_the_message_once(demo, webhook_server, kind):
    webhook_server.answers = [(500, {"error": "busy"}), (200, {"errcode": 0, "code": 0, "errmsg": "ok"})]
    secret = None if kind == "wecom" else "SEC-test-secret"
    path = {"wecom": "/cgi-bin/webhook/send?key=abc", "dingtalk": "/robot/send?access_token=tok",
            "feishu": "/open-apis/bot/v2/hook/xyz"}[kind]
    robot_on("上海徐汇店", kind, webhook_server.url + path, secret)   # the receiving store's group
    c = new_complaint(customer_phone="13812345678")
    db.session.commit()
    reminders.sweep(db.session, DUE)
    db.session.commit()
    rows = db.session.scalars(select(Outbox).where(Outbox.channel == kind)).all()
    # one message per clock and level for the group (not one per person)
    assert sorted(r.kind for r in rows) == ["sla:due:dispatch", "sla:due:first_contact"]
    row = next(r for r in rows if r.kind == "sla:due:dispatch")
    assert channels.deliver(db.session, [row.id], DUE) == {"sent": 0, "retry": 1, "failed": 0}
    assert row.last_error == "HTTP 500 Internal Server Error" and row.status == "pending"
    assert channels.deliver(db.session, [row.id], DUE + timedelta(minutes=1)) == {"sent": 1, "retry": 0, "failed": 0}
    assert channels.deliver(db.session, [row.id], DUE + H) == {"sent": 0, "retry": 0, "failed": 0}
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


def test_a_robot_that_refuses_in_its_answer_body_is_an_error(demo, webhook_server):
    webhook_server.answers = [(200, {"errcode": 310000, "errmsg": "sign not match"})]
    robot_on("上海徐汇店", "dingtalk", webhook_server.url + "/robot/send?access_token=t", "wrong")
    new_complaint()
    db.session.commit()
    reminders.sweep(db.session, DUE)
    db.session.commit()
    row = db.session.scalar(select(Outbox).where(Outbox.kind == "sla:due:dispatch"))
    channels.deliver(db.session, [row.id], DUE)
    assert "310000" in row.last_error and "sign not match" in row.last_error


def test_after_the_last_attempt_a_message_is_failed_until_the_admin_retries(demo, webhook_server):
    webhook_server.answers = [(502, {})]
    robot_on("上海徐汇店", "wecom", webhook_server.url + "/send?key=k")
    new_complaint()
    db.session.commit()
    reminders.sweep(db.session, DUE)
    db.session.commit()
    row = db.session.scalar(select(Outbox).where(Outbox.kind == "sla:due:dispatch"))
    at = DUE
    for _ in range(channels.MAX_ATTEMPTS):
        channels.deliver(db.session, [row.id], at)
        at = row.next_attempt_at if row.status == "pending" else at
    assert row.status == "failed" and row.attempts == channels.MAX_ATTEMPTS and "502" in row.last_error
    assert len(webhook_server.requests) == channels.MAX_ATTEMPTS
    assert channels.deliver(db.session, [row.id], at + 10 * H)["sent"] == 0      # failed stays failed
    webhook_server.answers = [(200, {"errcode": 0})]
    assert channels.retry(db.session, user("admin"), row.id)
    db.session.commit()
    assert channels.deliver(db.session, [row.id], channels.utcnow())["sent"] == 1


def test_robot_and_smtp_settings_are_checked(demo):
    unit = db.session.scalar(select(OrgUnit).where(OrgUnit.name == "生产部"))
    with pytest.raises(InvalidInput):
        channels.set_robot(db.session, user("admin"), unit, "wecom", "javascript:alert(1)", None)
    with pytest.raises(InvalidInput):
        channels.set_robot(db.session, user("admin"), unit, "telegram", "https://x.example/hook", None)
    with pytest.raises(InvalidInput) as err:
        channels.set_smtp_config(db.session, user("admin"), host="smtp.example.com", port="99999", security="tls?",
                                 username="", password="", sender="nobody", sender_name="")
    assert {p.field for p in err.value.problems} == {"port", "security", "sender"}
    channels.set_smtp_config(db.session, user("admin"), host="smtp.example.com", port="465", security="ssl",
                             username="u", password="secret-1", sender="a@example.com", sender_name="")
    # an empty password keeps the stored one (the form never shows it)
    channels.set_smtp_config(db.session, user("admin"), host="smtp.example.com", port="465", security="ssl",
                             username="u", password="", sender="a@example.com", sender_name="")
    assert channels.smtp_config(db.session).password == "secret-1"
    from models.audit import AuditEvent
    assert all("secret-1" not in str(e.detail) for e in db.session.scalars(select(AuditEvent)))
