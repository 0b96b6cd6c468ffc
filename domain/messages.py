"""What the e-mails, robot messages and digests say. Written when sent, from the current record.

Messages that leave the app carry no personal data of the customer (a group chat is not the
place for a phone number): the complaint number, its category, stage and deadline, and a link.

No Flask here: the caller (the delivery job) gives the time, the address people open the app at
and the words in each language (`Wording`); without them, the Chinese source text and the
default address.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from html import escape

from sqlalchemy import case, func, select, union
from sqlalchemy.orm import selectinload

from domain import halfyear, ledger, monthly
from domain.errors import N_
from domain.queues import quality_queries, stage_counts
from domain.reminders import overdue_count
from domain.scoping import covered_unit_ids
from domain.settings import company_tz
from domain.sla import CLOCK_LABELS, ClockKind
from domain.stages import STAGE_LABELS, Stage
from models.complaint import Complaint, Notification
from models.org import OrgUnit
from models.sla import Outbox, SlaClock
from models.user import User

LEVEL_LABELS = {"warn": N_("即将到期"), "due": N_("已到期"), "escalate": N_("已超时，升级提醒")}
DIGEST_ROWS = 20


@dataclass(frozen=True)
class Message:
    to: str
    subject: str
    text: str
    html: str
    secret: str | None = None
    params: dict | None = None     # an SMS template's parameters (domain.portal.outbound)


Translate = Callable[..., str]     # gettext: (msgid, **params) → the text in one language


def chinese(message: str, **params) -> str:
    """The source text as it is (msgids are Simplified Chinese)."""
    return message % params if params else message


@dataclass(frozen=True)
class Wording:
    """What a message needs from the app: the address people open it at (links), and for a
    user's locale a gettext in that language."""
    base_url: str = "http://127.0.0.1:8000"
    translator: Callable[[str], Translate] = lambda locale: chinese
    secret: str = ""             # the installation's secret: the customer's progress links (domain.portal.links)

    def link(self, path: str) -> str:
        return self.base_url.rstrip("/") + path


def _local(moment: datetime) -> str:
    return moment.astimezone(company_tz()).strftime("%Y-%m-%d %H:%M")


def compose(session, row: Outbox, now: datetime, wording: Wording = Wording()) -> Message | None:
    """The message an outbox row carries, written `now` from the current record; None when there
    is no one (left) to send it to or nothing (left) to say."""
    if row.kind.startswith("customer:"):
        from domain.portal import outbound
        parts = outbound.compose(session, row, now, wording)
        return None if parts is None else Message(*parts[:4], None, parts[4])
    to, secret, user = _address(session, row)
    if to is None:
        return None
    _ = wording.translator(user.locale if user is not None else "zh_CN")
    if row.kind.startswith("sla:"):
        subject, lines, path = _reminder(session, row, _)
    elif row.kind == "ledger:weekly":
        subject, lines, path = _weekly_ledger(session, user, row, _, now)
    elif row.kind.startswith("digest:"):
        subject, lines, path = _digest(session, row, user, _, now)
    elif row.kind == "report:halfyear":
        subject, lines, path = _halfyear(session, row, _)
    elif row.kind == monthly.NOTICE:
        subject, lines, path = monthly.snapshot.email(session, row, _)
    elif row.kind.startswith("meeting:"):
        from domain.meetings.remind import email as meeting_email
        subject, lines, path = meeting_email(session, row, _)
    else:
        subject, lines, path = _notice(session, row, _)
    if subject is None:
        return None
    link = wording.link(path)
    text = "\n".join(lines + ["", link])
    html = ("<div style=\"font-family:sans-serif;font-size:15px;line-height:1.6\">"
            f"<p><strong>{escape(subject)}</strong></p>"
            + "".join(f"<p style=\"margin:0\">{escape(line)}</p>" for line in lines)
            + f"<p><a href=\"{escape(link)}\">{escape(link)}</a></p></div>")
    return Message(to, subject, text, html, secret)


def _address(session, row):
    if row.channel == "email":
        user_id = row.user_id
        if user_id is None and row.notification_id is not None:
            user_id = session.scalar(select(Notification.user_id).where(Notification.id == row.notification_id))
        user = session.get(User, user_id) if user_id else None
        if user is None or not user.active or not user.email:
            return None, None, None
        return user.email, None, user
    unit = session.get(OrgUnit, row.unit_id) if row.unit_id else None
    if unit is None or not unit.robot_url or unit.robot_kind != row.channel:
        return None, None, None
    return unit.robot_url, unit.robot_secret, None


def _summary(_, c: Complaint) -> list[str]:
    return [_("编号：%(n)s", n=c.number),
            _("类别：%(c)s", c=c.category.name if c.category else "—"),
            _("当前阶段：%(s)s", s=_(STAGE_LABELS[Stage(c.stage)]) if c.stage in set(Stage) else c.stage)]


def _reminder(session, row, _):
    _sla, level, kind = row.kind.split(":", 2)
    c = session.get(Complaint, row.complaint_id)
    clock = session.scalar(select(SlaClock).where(SlaClock.complaint_id == row.complaint_id, SlaClock.kind == kind))
    if c is None or clock is None:
        return None, [], ""
    label = _(CLOCK_LABELS[ClockKind(kind)]) if kind in set(ClockKind) else kind
    subject = _("【客诉提醒】%(n)s %(clock)s%(level)s", n=c.number, clock=label, level=_(LEVEL_LABELS.get(level, level)))
    lines = _summary(_, c) + [_("时限：%(clock)s，截止 %(at)s", clock=label, at=_local(clock.deadline))]
    if clock.stopped_at is not None:
        lines.append(_("（此后已完成）"))
    return subject, lines, f"/complaints/{c.id}"


def _notice(session, row, _):
    c = session.get(Complaint, row.complaint_id) if row.complaint_id else None
    if c is None:
        return None, [], ""
    if row.kind == "major_registered":
        subject = _("【重大投诉】%(n)s 已登记，请关注", n=c.number)
    else:
        subject = _("【客诉通知】%(n)s", n=c.number)
    return subject, _summary(_, c), f"/complaints/{c.id}"


def _halfyear(session, row, _):
    """The headline figures of a new half-year summary (the key names its period: h<from>-<to>:u<id>)."""
    key = session.scalar(select(Notification.dedupe_key).where(Notification.id == row.notification_id)) or ""
    try:
        start, end = (datetime.strptime(part, "%Y%m%d").date() for part in key[1:].split(":", 1)[0].split("-"))
    except ValueError:
        return None, [], ""
    report = halfyear.find(session, start, end)
    if report is None:
        return None, [], ""
    t = report.data["totals"]
    last = end - timedelta(days=1)
    subject = _("【半年汇总】%(a)s 至 %(b)s 客诉处理情况", a=start.isoformat(), b=last.isoformat())
    lines = [_("受理 %(r)d 条，已结 %(c)d 条，按时结案 %(t)d 条，未结 %(o)d 条。", r=t["received"], c=t["closed"],
               t=t["closed_in_time"], o=t["open"]),
             _("责任已归属 %(a)d 条；批准的罚扣 %(n)d 笔。", a=t["attributed"],
               n=sum(r[2] for r in report.data["penalties_by_unit"]))]
    return subject, lines, f"/complaints/half-year/{report.id}"


# --- digests ---------------------------------------------------------------------------------

def _digest(session, row, user, _, now):
    if user is None:
        return None, [], ""
    if row.kind == "digest:manager":
        return _manager_digest(session, _, now)
    if row.kind == "digest:quality":
        return _quality_digest(session, _, now)
    return _head_digest(session, _, user, now)


def _end_of_day(now: datetime) -> datetime:
    return now.astimezone(company_tz()).replace(hour=23, minute=59, second=59).astimezone(now.tzinfo)


def head_rows(session, user, now: datetime, limit=DIGEST_ROWS):
    """The head's department: overdue first (oldest deadline first), then due today."""
    units = covered_unit_ids(session, user)
    query = (select(SlaClock).join(Complaint, Complaint.id == SlaClock.complaint_id)
             .where(SlaClock.stopped_at.is_(None), SlaClock.deadline <= _end_of_day(now))
             .options(selectinload(SlaClock.complaint))
             .order_by(SlaClock.deadline).limit(limit))
    if units is not None:
        query = query.where(Complaint.responsible_unit_id.in_(units))
    rows = session.scalars(query).all()
    return [r for r in rows if r.deadline <= now], [r for r in rows if r.deadline > now]


def _head_digest(session, _, user, now):
    overdue, today = head_rows(session, user, now)
    subject = _("【客诉日报】超时 %(o)d 条，今日到期 %(t)d 条", o=len(overdue), t=len(today))
    lines = []
    for title, rows in ((_("已超时："), overdue), (_("今日到期："), today)):
        lines.append(title)
        lines += [f"  {r.complaint.number} {_(CLOCK_LABELS[ClockKind(r.kind)])} {_local(r.deadline)}" for r in rows] \
            or [_("  （无）")]
    return subject, lines, "/"


# Quality's queues (domain.queues.quality_queries) in the digest, with the headings of quality's home.
QUALITY_QUEUES = {"dispatch": N_("待分派"), "verify": N_("待验证"), "decide": N_("顾客不满意、未确认结案或联系不上，待决定"),
                  "attribute": N_("待确认责任归属")}


@dataclass
class QueueRows:
    rows: list          # [(complaint, its most urgent clock)], most overdue first, at most `limit`
    count: int          # all such complaints in the queue


def quality_rows(session, now: datetime, limit=DIGEST_ROWS) -> tuple[dict[str, QueueRows], int, int]:
    """Quality's queues, each with its complaints whose most urgent running clock is overdue or
    due today (clocks waiting for the customer left out), and how many complaints are overdue
    and due today across the queues (a complaint in two queues counts once)."""
    urgent = (SlaClock.stopped_at.is_(None), SlaClock.paused_at.is_(None), SlaClock.deadline <= _end_of_day(now))
    queues = quality_queries()
    out = {}
    for name, query in queues.items():
        ids = query.with_only_columns(Complaint.id)
        clocks = session.scalars(select(SlaClock).where(*urgent, SlaClock.complaint_id.in_(ids))
                                 .options(selectinload(SlaClock.complaint))
                                 .order_by(SlaClock.deadline, SlaClock.id).limit(limit * len(ClockKind))).all()
        rows, seen = [], set()
        for clock in clocks:             # a complaint once, with its most urgent clock
            if clock.complaint_id not in seen and len(rows) < limit:
                seen.add(clock.complaint_id)
                rows.append((clock.complaint, clock))
        count = len(rows) if len(rows) < limit else session.scalar(
            select(func.count(func.distinct(SlaClock.complaint_id))).where(*urgent, SlaClock.complaint_id.in_(ids)))
        out[name] = QueueRows(rows, count)
    every = union(*(q.with_only_columns(Complaint.id) for q in queues.values())).subquery()
    first = (select(func.min(SlaClock.deadline).label("deadline"))
             .where(*urgent, SlaClock.complaint_id.in_(select(every.c.id)))
             .group_by(SlaClock.complaint_id).subquery())
    overdue, total = session.execute(select(func.count(case((first.c.deadline <= now, 1))), func.count())
                                     .select_from(first)).one()
    return out, overdue, total - overdue


def _quality_digest(session, _, now):
    queues, overdue, today = quality_rows(session, now)
    subject = _("【客诉日报】品管待办：已超时 %(o)d 条，今日到期 %(t)d 条", o=overdue, t=today)
    lines = []
    for name, found in queues.items():
        if not found.count:
            continue
        lines.append(_("%(queue)s（%(n)d 条）：", queue=_(QUALITY_QUEUES[name]), n=found.count))
        for c, clock in found.rows:
            label = _(CLOCK_LABELS[ClockKind(clock.kind)])
            at = _local(clock.deadline)
            line = _("%(n)s %(clock)s 已超时（截止 %(at)s）", n=c.number, clock=label, at=at) if clock.deadline <= now \
                else _("%(n)s %(clock)s 今天 %(at)s 到期", n=c.number, clock=label, at=at[-5:])
            lines.append("  " + line)
        if found.count > len(found.rows):
            lines.append("  " + _("……另有 %(n)d 条，请到系统里查看", n=found.count - len(found.rows)))
    return subject, lines or [_("今天没有已超时或今日到期的待办。")], "/"


def _weekly_ledger(session, user, row, _, now):
    """The head's unit, person by person, for the seven days before the weekly notice."""
    if user is None:
        return None, [], ""
    now = session.scalar(select(Notification.at).where(Notification.id == row.notification_id)) or now
    rows = ledger.sort(ledger.ledger(session, user, "person", now - timedelta(days=7), now, now), "received")
    subject = _("【客诉周报】本周受理 %(n)d 条，当前超时 %(o)d 条", n=sum(r.received for r in rows),
                o=sum(r.overdue for r in rows))
    lines = [_("%(name)s：受理 %(r)d，已结 %(c)d，按时 %(t)d，超时 %(o)d，束之高阁 %(i)d", name=r.name, r=r.received,
               c=r.closed, t=r.closed_in_time, o=r.overdue, i=r.idle) for r in rows] or [_("本周没有受理投诉。")]
    return subject, lines, "/complaints/ledger?by=person"


def _manager_digest(session, _, now):
    pending = stage_counts(session).get(Stage.PENDING_APPROVAL, 0)
    overdue = overdue_count(session, now)
    subject = _("【客诉日报】待审批 %(p)d 条，超时 %(o)d 条", p=pending, o=overdue)
    lines = [_("待您审批：%(p)d 条", p=pending), _("有时限已超时的投诉：%(o)d 条", o=overdue)]
    return subject, lines, "/"
