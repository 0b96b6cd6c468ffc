"""Delivering the outbox (SPEC §4.4) over the channels of domain.channels.

Messages wait in the Outbox table (written in the same transaction as the notice they copy).
`drain(session, clock, deadline)` claims the due ones a batch at a time, e-mail, SMS to the customer
(domain.sms) and each robot kind in turn, oldest first within a channel, sends each (one SMTP
connection per e-mail batch), and
records the outcome: sent, or the error and the next attempt after an exponential backoff; after
MAX_ATTEMPTS the message is `failed` and listed for the administrator, who can send it again.
`deliver(session, ids, now)` does the same for given messages. A channel failure never touches
the complaint or the workflow.

A claim lasts CLAIM_SECONDS: if the worker dies while sending, the message is tried again after
that, in its old place. External channels are therefore at-least-once in that one window (the
in-app notice, the ledger, is exactly-once).
"""
from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlalchemy import event, select, text as sql, update
from sqlalchemy.orm import scoped_session

from domain import sms
from domain.channels import (ROBOT_LABELS, Mailer, Unreachable, describe, mail_message, post_robot, smtp_config,
                             unreachable)
from domain.errors import N_, NotAllowed
from domain.messages import Wording, compose
from domain.roles import Role
from models.sla import Outbox

MAX_ATTEMPTS = 8
CLAIM_SECONDS = 300
CHANNELS = ("email", "sms", *ROBOT_LABELS)   # take turns, a batch each: robots never wait behind a wall of e-mails
BATCH = 50
RECHECK_SECONDS = 5                   # a channel that came back short is looked at again after this


def backoff(attempts: int) -> timedelta:
    """1, 2, 4, 8 … minutes after the n-th failed attempt, at most 2 hours."""
    return timedelta(minutes=min(2 ** max(attempts - 1, 0), 120))


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


def deliver(session, ids, now: datetime, wording: Wording = Wording()) -> dict[str, int]:
    """Send the due messages among `ids`; returns counts by outcome. Commits per message."""
    return _send(session, claim(session, ids, now), now, smtp_config(session), {}, wording)


def drain(session, clock: Callable[[], datetime], deadline: float | None = None, batch: int = BATCH,
          wording: Wording = Wording()) -> dict:
    """Deliver until nothing is due, or until time.monotonic() passes `deadline`. E-mail, SMS and
    each robot kind take turns, a batch each, oldest first within a channel. Commits per message, so
    a killed worker loses nothing and sends at most its message in flight twice. An unreachable SMTP
    server rests e-mail for the rest of the drain (the next sweep's drain tries again); an
    unreachable SMS provider, the SMS; a dead robot host, its unit's messages. `clock` tells the
    time (read per batch: a drain runs for minutes). Returns the counts, `done` (nothing left that
    this drain could send) and `down` (the channels or units found unreachable)."""
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
            at = clock()
            ids = claim_next(session, channel, at, batch)
            if len(ids) < batch:
                resting[channel] = time.monotonic() + RECHECK_SECONDS
            if ids:
                busy = True
                for key, n in _send(session, ids, at, config, down, wording, deadline).items():
                    outcome[key] += n
        if not busy:
            if not skipped:             # every channel looked at in this round had nothing due
                return {**outcome, "done": True, "down": sorted(down)}
            resting.clear()             # the channels that came back short: once more before stopping


def _send(session, ids, now, config, down, wording, deadline=None) -> dict[str, int]:
    outcome = {"sent": 0, "retry": 0, "failed": 0}
    mailer = Mailer(config)
    # PostgreSQL: a message's outcome is committed without waiting for the WAL to reach the disk
    # (6 ms a message here, half the time of a backlog). A killed worker still loses nothing; only a
    # crash of the database server could forget its last fraction of a second of "sent", and those
    # messages would go out once more — the at-least-once window of a claim, not a lost message.
    async_commit = session.get_bind().dialect.name == "postgresql"
    try:
        with _read_once_per_batch(session):
            rows = session.scalars(select(Outbox).where(Outbox.id.in_(ids)).order_by(Outbox.id)).all()
            _load_referenced(session, rows)
            sms_settings = sms.sms_config(session) if any(r.channel == "sms" for r in rows) else None
            for n, row in enumerate(rows):
                if n and deadline is not None and time.monotonic() >= deadline:   # at least one, for progress
                    release(session, [r.id for r in rows[n:]], now)
                    break
                # an e-mail batch shares one server, SMS one provider; robot messages, their unit's webhook
                dest = row.channel if row.channel in ("email", "sms") else f"unit:{row.unit_id}"
                try:
                    if dest in down:
                        raise Unreachable(down[dest])
                    msg = compose(session, row, now, wording)
                    if msg is None:             # nothing left to say (recipient gone, robot removed)
                        row.status, row.last_error = "failed", "收件人或机器人已不存在"
                    elif row.channel == "email":
                        if config is None:
                            raise RuntimeError("未配置邮件服务器")
                        mailer.send(msg.to, mail_message(config, msg.to, msg.subject, msg.text, msg.html,
                                                         f"<kesu-outbox-{row.id}@{config.sender.split('@')[-1]}>"))
                    elif row.channel == "sms":
                        if sms_settings is None:
                            raise RuntimeError("未配置短信服务")
                        sms.send(sms_settings, msg.to, msg.params["message"], msg.params)   # Unreachable: rests "sms"
                    else:
                        try:
                            post_robot(row.channel, msg.to, msg.secret, msg.subject, msg.text)
                        except Exception as err:
                            if unreachable(err):
                                raise Unreachable(describe(err)) from err
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
                    _failed_attempt(row, describe(err), now, outcome)
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


def retry(session, actor, ident: int, *, now: datetime) -> bool:
    """The administrator sends a failed message again."""
    if not actor.has_role(Role.ADMIN):
        raise NotAllowed(N_("只有系统管理员可以重发。"))
    row = session.get(Outbox, ident)
    if row is None or row.status != "failed":
        return False
    row.status, row.attempts, row.next_attempt_at = "pending", 0, now
    return True
