"""Channels outside the app (SPEC §4.4): e-mail over SMTP and the group robots of WeCom
企业微信, DingTalk 钉钉 and Feishu 飞书 — their settings, how a message is put together and sent on
each, one SMTP connection for a batch of e-mails, and what a channel's error means. The outbox and
its retries are domain.delivery; what the messages say, domain.messages.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import smtplib
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import datetime
from email.header import Header
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import compat32
from email.utils import formataddr, make_msgid

from domain import audit
from domain.errors import InvalidInput, InvalidInputs, N_, NotAllowed
from domain.roles import Role
from domain.text import clean
from models.setting import Setting, put

SMTP = "smtp"
TIMEOUT = 10
SMTP_LINES = compat32.clone(linesep="\r\n")
ROBOT_LABELS = {"wecom": N_("企业微信群机器人"), "dingtalk": N_("钉钉群机器人"), "feishu": N_("飞书群机器人")}
SECURITY = {"starttls": N_("STARTTLS（端口 587）"), "ssl": N_("SSL/TLS（端口 465）"), "none": N_("不加密（仅限内网）")}


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
                    ip=None, now: datetime) -> SmtpConfig | None:
    """Save the SMTP settings (an empty host turns e-mail off; an empty password keeps the old one)."""
    if not actor.has_role(Role.ADMIN):
        raise NotAllowed(N_("只有系统管理员可以修改设置。"))
    host = clean(host or "")
    problems = []
    if not host:
        session.query(Setting).filter(Setting.key == SMTP).delete()
        audit.record(session, audit.SETTING_CHANGED, actor_id=actor.id, target=f"setting:{SMTP}", ip=ip, now=now,
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
        raise InvalidInputs(problems)
    old = smtp_config(session)
    value = {"host": host, "port": port, "security": security, "username": clean(username or "")[:120],
             "password": password if password else (old.password if old else ""), "sender": sender,
             "sender_name": clean(sender_name or "")[:40] or "客诉系统"}
    put(session, SMTP, value, by_id=actor.id, now=now)
    audit.record(session, audit.SETTING_CHANGED, actor_id=actor.id, target=f"setting:{SMTP}", ip=ip, now=now,
                 after=f"{host}:{port}")   # never the password
    return smtp_config(session)


def mail_message(config: SmtpConfig, to: str, subject: str, text: str, html: str | None = None,
                 message_id: str | None = None) -> Message:
    # The compat32 MIME classes: the same e-mail as EmailMessage's, in a third of the time (a backlog
    # of tens of thousands is built here one by one).
    msg = MIMEMultipart("alternative") if html else MIMEText(text, "plain", "utf-8")
    msg["Subject"] = Header(subject, "utf-8")
    msg["From"] = formataddr((config.sender_name, config.sender), charset="utf-8")
    msg["To"] = to
    # The same outbox row always carries the same Message-ID: a retried copy is recognisable.
    msg["Message-ID"] = message_id or make_msgid(domain=config.sender.split("@")[-1])
    if html:
        msg.attach(MIMEText(text, "plain", "utf-8"))
        msg.attach(MIMEText(html, "html", "utf-8"))
    return msg


def smtp_connect(config: SmtpConfig) -> smtplib.SMTP:
    """An open, logged-in connection; closed again if any step fails."""
    if config.security == "ssl":
        server = smtplib.SMTP_SSL(config.host, config.port, timeout=TIMEOUT, context=ssl.create_default_context())
    else:
        server = smtplib.SMTP(config.host, config.port, timeout=TIMEOUT)
    try:
        if config.security == "starttls":
            server.starttls(context=ssl.create_default_context())
        if config.username:
            server.login(config.username, config.password)
    except BaseException:
        server.close()
        raise
    return server


def send_mail(config: SmtpConfig, to: str, subject: str, text: str, html: str | None = None,
              message_id: str | None = None) -> None:
    with smtp_connect(config) as server:
        server.sendmail(config.sender, [to], mail_message(config, to, subject, text, html, message_id)
                        .as_bytes(policy=SMTP_LINES))


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


def set_robot(session, actor, unit, kind, url, secret, ip=None, *, now: datetime) -> None:
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
                 now=now, after=unit.robot_kind or "off")


# --- sending a batch -------------------------------------------------------------------------

class Unreachable(Exception):
    """The SMTP server or a robot's host cannot be reached: the rest of its messages wait for the retry."""


class Mailer:
    """One SMTP connection for a batch of e-mails, opened at the first one. When the server has
    closed it, the e-mail goes again on a new connection; one that cannot be opened raises
    Unreachable."""

    def __init__(self, config: SmtpConfig | None):
        self.config, self.server = config, None

    def send(self, to: str, msg: Message) -> None:
        data = msg.as_bytes(policy=SMTP_LINES)
        if self.server is not None:
            try:
                self.server.sendmail(self.config.sender, [to], data)
                return
            except (smtplib.SMTPServerDisconnected, ConnectionError):
                self.close()                # the server closed it (idle, or its per-connection limit)
            except smtplib.SMTPResponseException as err:
                if err.smtp_code != 421:    # this message refused; the connection is still good
                    raise
                self.close()
            except smtplib.SMTPRecipientsRefused:
                raise
            except BaseException:
                self.close()
                raise
        try:
            self.server = smtp_connect(self.config)
        except OSError as err:              # refused, timed out, TLS or login refused (SMTPException)
            raise Unreachable(describe(err)) from err
        try:
            self.server.sendmail(self.config.sender, [to], data)
        except (smtplib.SMTPRecipientsRefused, smtplib.SMTPResponseException):
            raise
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        if self.server is not None:
            server, self.server = self.server, None
            try:
                server.quit()
            except (OSError, smtplib.SMTPException):
                server.close()


def unreachable(err: Exception) -> bool:
    """The host could not be reached (no answer); an HTTP error is an answer."""
    if isinstance(err, urllib.error.HTTPError):
        return False                        # the host answered
    return isinstance(err, (urllib.error.URLError, ConnectionError, TimeoutError))


def describe(err: Exception) -> str:
    """A channel error in a line for the outbox list and the admin's test (never a password)."""
    if isinstance(err, urllib.error.HTTPError):
        return f"HTTP {err.code} {err.reason}"[:500]
    return f"{type(err).__name__}: {err}"[:500]
