"""Channels outside the app (SPEC §4.4): e-mail over SMTP and the group robots of WeCom
企业微信, DingTalk 钉钉 and Feishu 飞书.

Messages wait in the Outbox table (written in the same transaction as the notice they copy).
`drain(session, deadline)` claims the due ones a batch at a time, e-mail and each robot kind in
turn, oldest first within a channel, sends each (one SMTP connection per e-mail batch), and
records the outcome: sent, or the error and the next attempt after an exponential backoff; after
MAX_ATTEMPTS the message is `failed` and listed for the administrator, who can send it again.
`deliver(session, ids, now)` does the same for given messages. A channel failure never touches
the complaint or the workflow.

A claim lasts CLAIM_SECONDS: if the worker dies while sending, the message is tried again after
that, in its old place. External channels are therefore at-least-once in that one window (the
in-app notice, the ledger, is exactly-once).
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
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.header import Header
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import compat32
from email.utils import formataddr, make_msgid

from sqlalchemy import event, select, text as sql, update
from sqlalchemy.orm import scoped_session

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
SMTP_LINES = compat32.clone(linesep="\r\n")
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

CHANNELS = ("email", *ROBOT_LABELS)   # take turns, a batch each: robots never wait behind a wall of e-mails
BATCH = 50
RECHECK_SECONDS = 5                   # a channel that came back short is looked at again after this


class Unreachable(Exception):
    """The SMTP server or a robot's host cannot be reached: the rest of its messages wait for the retry."""


def due_ids(session, now: datetime, limit: int = 1000) -> list[int]:
    """Due messages, a probe of the partial index on next_attempt_at. Delivery takes them per
    channel, oldest id first (`claim_next`)."""
    return list(session.scalars(select(Outbox.id).where(Outbox.status == "pending", Outbox.next_attempt_at <= now)
                                .order_by(Outbox.next_attempt_at).limit(limit)))


def _take(session, which, now: datetime) -> list[int]:
    # One UPDATE … RETURNING: the row is ours only if this statement moved its time, so of two
    # workers claiming the same row exactly one gets it.
    lease = now + timedelta(seconds=CLAIM_SECONDS)
    taken = session.scalars(update(Outbox).where(which, Outbox.status == "pending", Outbox.next_attempt_at <= now)
                            .values(next_attempt_at=lease, attempts=Outbox.attempts + 1)
                            .returning(Outbox.id).execution_options(synchronize_session=False)).all()
    session.commit()
    return sorted(taken)


def claim(session, ids, now: datetime) -> list[int]:
    """Take the due messages among `ids` for CLAIM_SECONDS (commits)."""
    return _take(session, Outbox.id.in_(list(ids)), now) if ids else []


def claim_next(session, channel: str, now: datetime, limit: int = BATCH) -> list[int]:
    """Take the channel's oldest due messages for CLAIM_SECONDS (commits). Oldest by id, not by
    next_attempt_at: a message whose claim ran out (its worker was killed) keeps its place ahead
    of newer ones. PostgreSQL skips rows another worker is claiming at this moment; SQLite has
    one writer at a time anyway."""
    # A materialized CTE, evaluated once: as a plain IN (subquery) PostgreSQL ran the subquery
    # again for each row, and as the rows the statement had updated were skipped as locked, each
    # run gave the next `limit` rows — the whole channel was taken.
    oldest = (select(Outbox.id).where(Outbox.status == "pending", Outbox.channel == channel,
                                      Outbox.next_attempt_at <= now)
              .order_by(Outbox.id).limit(limit).with_for_update(skip_locked=True)
              .cte("oldest").prefix_with("MATERIALIZED", dialect="postgresql"))
    return _take(session, Outbox.id.in_(select(oldest.c.id)), now)


def release(session, ids, now: datetime) -> None:
    """Give claimed messages back untried (the time budget ran out): due again, attempt not counted."""
    if ids:
        session.execute(update(Outbox).where(Outbox.id.in_(list(ids)), Outbox.status == "pending")
                        .values(next_attempt_at=now, attempts=Outbox.attempts - 1)
                        .execution_options(synchronize_session=False))
        session.commit()


def deliver(session, ids, now: datetime | None = None) -> dict[str, int]:
    """Send the due messages among `ids`; returns counts by outcome. Commits per message."""
    now = now or utcnow()
    return _send(session, claim(session, ids, now), now, smtp_config(session), {})


def drain(session, deadline: float | None = None, now: datetime | None = None, batch: int = BATCH) -> dict:
    """Deliver until nothing is due, or until time.monotonic() passes `deadline`. E-mail and each
    robot kind take turns, a batch each, oldest first within a channel. Commits per message, so a
    killed worker loses nothing and sends at most its message in flight twice. An unreachable SMTP
    server rests e-mail for the rest of the drain (the next sweep's drain tries again); a dead robot
    host, its unit's messages. Returns the counts, `done` (nothing left that this drain could send)
    and `down` (the channels or units found unreachable)."""
    outcome = {"sent": 0, "retry": 0, "failed": 0}
    config = smtp_config(session)
    down: dict[str, str] = {}          # destination -> the error that made it unreachable
    resting: dict[str, float] = {}     # channel -> when to look at it again
    while True:
        busy = skipped = False
        for channel in CHANNELS:
            if channel in down:
                continue
            if resting.get(channel, 0) > time.monotonic():
                skipped = True
                continue
            if deadline is not None and time.monotonic() >= deadline and sum(outcome.values()):
                return {**outcome, "done": False, "down": sorted(down)}
            at = now or utcnow()
            ids = claim_next(session, channel, at, batch)
            if len(ids) < batch:
                resting[channel] = time.monotonic() + RECHECK_SECONDS
            if ids:
                busy = True
                for key, n in _send(session, ids, at, config, down, deadline).items():
                    outcome[key] += n
        if not busy:
            if not skipped:             # every channel looked at in this round had nothing due
                return {**outcome, "done": True, "down": sorted(down)}
            resting.clear()             # the channels that came back short: once more before stopping


def _send(session, ids, now, config, down, deadline=None) -> dict[str, int]:
    from domain import messages
    outcome = {"sent": 0, "retry": 0, "failed": 0}
    mailer = _Mailer(config)
    # PostgreSQL: a message's outcome is committed without waiting for the WAL to reach the disk
    # (6 ms a message here, half the time of a backlog). A killed worker still loses nothing; only a
    # crash of the database server could forget its last fraction of a second of "sent", and those
    # messages would go out once more — the at-least-once window of a claim, not a lost message.
    async_commit = session.get_bind().dialect.name == "postgresql"
    try:
        with _read_once_per_batch(session):
            rows = session.scalars(select(Outbox).where(Outbox.id.in_(ids)).order_by(Outbox.id)).all()
            _load_referenced(session, rows)
            for n, row in enumerate(rows):
                if n and deadline is not None and time.monotonic() >= deadline:   # at least one, for progress
                    release(session, [r.id for r in rows[n:]], now)
                    break
                # an e-mail batch shares one server; robot messages, their unit's webhook
                dest = "email" if row.channel == "email" else f"unit:{row.unit_id}"
                try:
                    if dest in down:
                        raise Unreachable(down[dest])
                    msg = messages.compose(session, row)
                    if msg is None:             # nothing left to say (recipient gone, robot removed)
                        row.status, row.last_error = "failed", "收件人或机器人已不存在"
                    elif row.channel == "email":
                        if config is None:
                            raise RuntimeError("未配置邮件服务器")
                        mailer.send(msg.to, mail_message(config, msg.to, msg.subject, msg.text, msg.html,
                                                         f"<kesu-outbox-{row.id}@{config.sender.split('@')[-1]}>"))
                    else:
                        try:
                            post_robot(row.channel, msg.to, msg.secret, msg.subject, msg.text)
                        except Exception as err:
                            if _unreachable(err):
                                raise Unreachable(_describe(err)) from err
                            raise
                    if row.status == "pending":
                        row.status, row.sent_at, row.last_error = "sent", now, None
                        outcome["sent"] += 1
                    else:
                        outcome["failed"] += 1
                except Unreachable as err:
                    down[dest] = str(err)
                    _failed_attempt(row, str(err), now, outcome)
                except Exception as err:   # noqa: BLE001 — every channel error is recorded, none escapes
                    _failed_attempt(row, _describe(err), now, outcome)
                if async_commit:
                    session.execute(sql("SET LOCAL synchronous_commit TO OFF"))
                session.commit()
    finally:
        mailer.close()
    return outcome


def _load_referenced(session, rows) -> None:
    """The batch's recipients and complaints, a query each instead of one per message."""
    from models.complaint import Complaint
    from models.org import OrgUnit
    from models.user import User
    for model, column in ((User, "user_id"), (OrgUnit, "unit_id"), (Complaint, "complaint_id")):
        ids = {getattr(r, column) for r in rows} - {None}
        if ids:
            session.scalars(select(model).where(model.id.in_(ids))).all()


@contextmanager
def _read_once_per_batch(session):
    """What composing reads (users, units, complaints) stays loaded across the batch's commits, one
    per message, instead of being read again for each; the next batch reads it afresh, so a message
    is never more than a batch (a second or so) behind the record."""
    own = session() if isinstance(session, scoped_session) else session
    own.expire_all()
    loaded = []             # the identity map holds clean objects weakly: hold them for the batch

    def keep(_session, obj):
        loaded.append(obj)

    expire, own.expire_on_commit = own.expire_on_commit, False
    event.listen(own, "loaded_as_persistent", keep)
    try:
        yield
    finally:
        event.remove(own, "loaded_as_persistent", keep)
        own.expire_on_commit = expire
        own.expire_all()    # as after any commit: what comes next reads afresh


def _failed_attempt(row, error: str, now, outcome) -> None:
    row.last_error = error
    if row.attempts >= MAX_ATTEMPTS:
        row.status = "failed"
        outcome["failed"] += 1
    else:
        row.next_attempt_at = now + backoff(row.attempts)
        outcome["retry"] += 1


class _Mailer:
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
            raise Unreachable(_describe(err)) from err
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


def _unreachable(err: Exception) -> bool:
    import urllib.error
    if isinstance(err, urllib.error.HTTPError):
        return False                        # the host answered
    return isinstance(err, (urllib.error.URLError, ConnectionError, TimeoutError))


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
