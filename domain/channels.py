"""Channels outside the app (SPEC §4.4): e-mail over SMTP and the group robots of WeCom
企业微信, DingTalk 钉钉 and Feishu 飞书.

Messages wait in the Outbox table (written in the same transaction as the notice they copy).
`deliver(session, ids, now)` claims the due ones, sends each, and records the outcome: sent, or
the error and the next attempt after an exponential backoff; after MAX_ATTEMPTS the message is
`failed` and listed for the administrator, who can send it again. A channel failure never
touches the complaint or the workflow.

A claim lasts CLAIM_SECONDS: if the worker dies while sending, the message is tried again after
that. External channels are therefore at-least-once in that one window (the in-app notice, the
ledger, is exactly-once).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import smtplib
import ssl
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

from sqlalchemy import select, update

from domain import audit
from domain.errors import InvalidInput, N_, NotAllowed
from domain.roles import Role
from models import utcnow
from models.setting import Setting
from models.sla import Outbox

SMTP = "smtp"
MAX_ATTEMPTS = 8
CLAIM_SECONDS = 300
TIMEOUT = 10
ROBOT_LABELS = {"wecom": N_("企业微信群机器人"), "dingtalk": N_("钉钉群机器人"), "feishu": N_("飞书群机器人")}
SECURITY = {"starttls": N_("STARTTLS（端口 587）"), "ssl": N_("SSL/TLS（端口 465）"), "none": N_("不加密（仅限内网）")}


def backoff(attempts: int) -> timedelta:
    """1, 2, 4, 8 … minutes after the n-th failed attempt, at most 2 hours."""
    return timedelta(minutes=min(2 ** max(attempts - 1, 0), 120))


# --- SMTP settings ---------------------------------------------------------------------------

@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    security: str
    username: str
    password: str
    sender: str
    sender_name: str


def smtp_config(session) -> SmtpConfig | None:
    row = session.get(Setting, SMTP)
    if row is None or not isinstance(row.value, dict) or not row.value.get("host"):
        return None
    v = row.value
    return SmtpConfig(v["host"], int(v.get("port") or 25), v.get("security") or "none", v.get("username") or "",
                      v.get("password") or "", v.get("sender") or "", v.get("sender_name") or "客诉系统")


def set_smtp_config(session, actor, *, host, port, security, username, password, sender, sender_name,
                    ip=None) -> SmtpConfig | None:
    """Save the SMTP settings (an empty host turns e-mail off; an empty password keeps the old one)."""
    from domain.text import clean
    if not actor.has_role(Role.ADMIN):
        raise NotAllowed(N_("只有系统管理员可以修改设置。"))
    host = clean(host or "")
    problems = []
    if not host:
        session.query(Setting).filter(Setting.key == SMTP).delete()
        audit.record(session, audit.SETTING_CHANGED, actor_id=actor.id, target=f"setting:{SMTP}", ip=ip,
                     after="off")
        return None
    try:
        port = int(str(port).strip())
        if not 1 <= port <= 65535:
            raise ValueError
    except ValueError:
        problems.append(InvalidInput(N_("端口须是 1 到 65535 之间的数字，常见的是 465 或 587。"), field="port"))
    if security not in SECURITY:
        problems.append(InvalidInput(N_("请选择加密方式。"), field="security"))
    sender = clean(sender or "")
    if "@" not in sender or " " in sender or len(sender) > 120:
        problems.append(InvalidInput(N_("请填写发件地址，例如 kesu@example.com。"), field="sender"))
    if len(host) > 200 or " " in host:
        problems.append(InvalidInput(N_("服务器地址不对，例如 smtp.exmail.qq.com。"), field="host"))
    if problems:
        from domain.errors import InvalidInputs
        raise InvalidInputs(problems)
    old = smtp_config(session)
    value = {"host": host, "port": port, "security": security, "username": clean(username or "")[:120],
             "password": password if password else (old.password if old else ""), "sender": sender,
             "sender_name": clean(sender_name or "")[:40] or "客诉系统"}
    row = session.get(Setting, SMTP) or Setting(key=SMTP)
    row.value, row.updated_at, row.updated_by_id = value, utcnow(), actor.id
    session.add(row)
    audit.record(session, audit.SETTING_CHANGED, actor_id=actor.id, target=f"setting:{SMTP}", ip=ip,
                 after=f"{host}:{port}")   # never the password
    return smtp_config(session)


def send_mail(config: SmtpConfig, to: str, subject: str, text: str, html: str | None = None,
              message_id: str | None = None) -> None:
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = formataddr((config.sender_name, config.sender))
    msg["To"] = to
    # The same outbox row always carries the same Message-ID: a retried copy is recognisable.
    msg["Message-ID"] = message_id or make_msgid(domain=config.sender.split("@")[-1])
    msg.set_content(text)
    if html:
        msg.add_alternative(html, subtype="html")
    if config.security == "ssl":
        server = smtplib.SMTP_SSL(config.host, config.port, timeout=TIMEOUT, context=ssl.create_default_context())
    else:
        server = smtplib.SMTP(config.host, config.port, timeout=TIMEOUT)
    with server:
        if config.security == "starttls":
            server.starttls(context=ssl.create_default_context())
        if config.username:
            server.login(config.username, config.password)
        server.send_message(msg)


# --- group robots ---------------------------------------------------------------------------

def robot_request(kind: str, url: str, secret: str | None, title: str, text: str, now: float | None = None):
    """(url, JSON body) for one robot message in the service's own shape and signing."""
    now = time.time() if now is None else now
    if kind == "wecom":
        # WeCom: the key is in the URL; no signing.
        return url, {"msgtype": "markdown", "markdown": {"content": f"**{title}**\n{text}"}}
    if kind == "dingtalk":
        # DingTalk "加签": HMAC-SHA256 of "timestamp\nsecret" with the secret, base64, URL-encoded,
        # as query parameters; timestamp in milliseconds.
        if secret:
            ts = str(int(now * 1000))
            digest = hmac.new(secret.encode(), f"{ts}\n{secret}".encode(), hashlib.sha256).digest()
            sign = urllib.parse.quote_plus(base64.b64encode(digest))
            url = f"{url}{'&' if '?' in url else '?'}timestamp={ts}&sign={sign}"
        return url, {"msgtype": "markdown", "markdown": {"title": title, "text": f"#### {title}\n{text}"}}
    if kind == "feishu":
        # Feishu "签名校验": HMAC-SHA256 keyed with "timestamp\nsecret" over an empty message,
        # base64, in the body; timestamp in seconds.
        body = {"msg_type": "text", "content": {"text": f"{title}\n{text}"}}
        if secret:
            ts = str(int(now))
            digest = hmac.new(f"{ts}\n{secret}".encode(), b"", hashlib.sha256).digest()
            body = {"timestamp": ts, "sign": base64.b64encode(digest).decode(), **body}
        return url, body
    raise ValueError(f"unknown robot {kind}")


def post_robot(kind, url, secret, title, text) -> None:
    url, body = robot_request(kind, url, secret, title, text)
    req = urllib.request.Request(url, data=json.dumps(body, ensure_ascii=False).encode("utf-8"), method="POST",
                                 headers={"Content-Type": "application/json; charset=utf-8"})
    with urllib.request.urlopen(req, timeout=TIMEOUT) as resp:   # non-2xx raises HTTPError
        answer = resp.read(4096)
    try:
        data = json.loads(answer or b"{}")
    except ValueError:
        return
    # All three answer HTTP 200 with an error code in the body when they refuse a message.
    code = data.get("errcode", data.get("code", data.get("StatusCode", 0))) if isinstance(data, dict) else 0
    if code not in (0, None):
        raise RuntimeError(f"robot refused: {code} {data.get('errmsg') or data.get('msg') or ''}".strip())


def set_robot(session, actor, unit, kind, url, secret, ip=None) -> None:
    from domain.text import clean
    if not actor.has_role(Role.ADMIN):
        raise NotAllowed(N_("只有系统管理员可以修改设置。"))
    url = clean(url or "")
    if not url:
        unit.robot_kind = unit.robot_url = unit.robot_secret = None
    else:
        if kind not in ROBOT_LABELS:
            raise InvalidInput(N_("请选择机器人类型。"), field="robot_kind")
        parsed = urllib.parse.urlparse(url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc or len(url) > 500:
            raise InvalidInput(N_("请粘贴机器人的完整 Webhook 地址（https://…）。"), field="robot_url")
        unit.robot_kind, unit.robot_url = kind, url
        if secret:
            unit.robot_secret = clean(secret)[:200]
        elif kind == "wecom":
            unit.robot_secret = None
    audit.record(session, audit.SETTING_CHANGED, actor_id=actor.id, target=f"unit:{unit.id}:robot", ip=ip,
                 after=unit.robot_kind or "off")


# --- delivery --------------------------------------------------------------------------------

def due_ids(session, now: datetime, limit: int = 1000) -> list[int]:
    return list(session.scalars(select(Outbox.id).where(Outbox.status == "pending", Outbox.next_attempt_at <= now)
                                .order_by(Outbox.next_attempt_at).limit(limit)))


def claim(session, ids, now: datetime) -> list[int]:
    """Take the due messages among `ids` for CLAIM_SECONDS (commits). Another worker holding
    the same ids gets none of them."""
    if not ids:
        return []
    lease = now + timedelta(seconds=CLAIM_SECONDS)
    taken = []
    for ident in ids:   # one short UPDATE each: the row is ours only if we moved its time
        done = session.execute(update(Outbox).where(Outbox.id == ident, Outbox.status == "pending",
                                                    Outbox.next_attempt_at <= now)
                               .values(next_attempt_at=lease, attempts=Outbox.attempts + 1)
                               .execution_options(synchronize_session=False)).rowcount
        if done:
            taken.append(ident)
    session.commit()
    return taken


def deliver(session, ids, now: datetime | None = None) -> dict[str, int]:
    """Send the due messages among `ids`; returns counts by outcome. Commits per message."""
    from domain import messages
    now = now or utcnow()
    outcome = {"sent": 0, "retry": 0, "failed": 0}
    config = smtp_config(session)
    for ident in claim(session, ids, now):
        row = session.get(Outbox, ident)
        try:
            msg = messages.compose(session, row)
            if msg is None:             # nothing left to say (recipient gone, robot removed)
                row.status, row.last_error = "failed", "收件人或机器人已不存在"
            elif row.channel == "email":
                if config is None:
                    raise RuntimeError("未配置邮件服务器")
                send_mail(config, msg.to, msg.subject, msg.text, msg.html,
                          message_id=f"<kesu-outbox-{row.id}@{config.sender.split('@')[-1]}>")
            else:
                post_robot(row.channel, msg.to, msg.secret, msg.subject, msg.text)
            if row.status == "pending":
                row.status, row.sent_at, row.last_error = "sent", now, None
                outcome["sent"] += 1
            else:
                outcome["failed"] += 1
        except Exception as err:   # noqa: BLE001 — every channel error is recorded, none escapes
            row.last_error = _describe(err)
            if row.attempts >= MAX_ATTEMPTS:
                row.status = "failed"
                outcome["failed"] += 1
            else:
                row.next_attempt_at = now + backoff(row.attempts)
                outcome["retry"] += 1
        session.commit()
    return outcome


def _describe(err: Exception) -> str:
    import urllib.error
    if isinstance(err, urllib.error.HTTPError):
        return f"HTTP {err.code} {err.reason}"[:500]
    return f"{type(err).__name__}: {err}"[:500]


def retry(session, actor, ident: int) -> bool:
    """The administrator sends a failed message again."""
    if not actor.has_role(Role.ADMIN):
        raise NotAllowed(N_("只有系统管理员可以重发。"))
    row = session.get(Outbox, ident)
    if row is None or row.status != "failed":
        return False
    row.status, row.attempts, row.next_attempt_at = "pending", 0, utcnow()
    return True
