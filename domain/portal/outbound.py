"""Messages to the customer (SPEC §7): the acknowledgement with the number and the progress link,
the answer, and the survey link — only with the customer's consent, and only where a phone (SMS)
or an e-mail address is known and the channel is configured. They wait in the outbox like every
other message (domain.delivery: retries, backoff, the administrator's list of failures) and are
written when sent, from the current record (`compose`), with domain.portal.view's words alone:
no member of staff, no internal note, no unapproved amount.

The workflow queues them: `act` after an action whose Outcome says `tell`, and when a complaint
enters follow-up (the survey); intake after registering (the acknowledgement)."""
from __future__ import annotations

import re
import uuid
from datetime import datetime
from html import escape

from sqlalchemy import select

from domain import channels, sms
from domain.errors import N_
from domain.portal import links
from domain.portal.config import portal_config
from domain.portal.view import KIND_WORDS, answer_text, expectation
from domain.settings import company_tz
from models.complaint import Complaint
from models.sla import Outbox

KINDS = ("ack", "answer", "survey")
MESSAGE_LABELS = {"ack": N_("给顾客：受理通知"), "answer": N_("给顾客：答复通知"), "survey": N_("给顾客：评价邀请")}
MOBILE_RE = re.compile(r"^(\+?86)?1[3-9]\d{9}$")


def channels_for(session, c: Complaint, message: str) -> list[str]:
    """The channels `message` goes by for `c`: none without consent; SMS to a mobile number when
    SMS is set up with a template for it; e-mail when there is an address and a mail server."""
    if not c.contact_consent or not portal_config(session).enabled:
        return []        # no consent; or the pages every message links to are switched off
    out = []
    config = sms.sms_config(session)
    if c.customer_phone and MOBILE_RE.match(c.customer_phone) and config is not None and config.template_for(message):
        out.append("sms")
    if c.customer_email and channels.smtp_config(session) is not None:
        out.append("email")
    return out


def queue(session, c: Complaint, message: str, now: datetime) -> int:
    """Put `message` (ack/answer/survey) for the customer of `c` in the outbox; how many rows."""
    assert message in KINDS, message
    session.flush()   # c has its id
    rows = [Outbox(channel=channel, dedupe_key=f"customer:{c.id}:{message}:{channel}:{uuid.uuid4().hex[:16]}",
                   kind=f"customer:{message}", complaint_id=c.id, next_attempt_at=now, created_at=now)
            for channel in channels_for(session, c, message)]
    session.add_all(rows)
    return len(rows)


def compose(session, row: Outbox, now: datetime, wording):
    """The message of a customer outbox row, or None when there is nobody (left) to send it to.
    A survey message carries a fresh one-time link (only its hash is stored). Returns (to, subject,
    text, html, SMS parameters); domain.messages makes it a Message."""
    c = session.get(Complaint, row.complaint_id) if row.complaint_id else None
    message = row.kind.split(":", 1)[1]
    if c is None or not c.contact_consent or message not in KINDS:
        return None
    to = c.customer_phone if row.channel == "sms" else c.customer_email
    if not to:
        return None
    config = portal_config(session)
    _ = wording.translator("zh_CN")
    company = config.company_name or _("客户服务中心")
    follow = wording.link(links.follow_path(wording.secret, c))
    kind = _(KIND_WORDS.get(c.type, KIND_WORDS["complaint"]))
    link = follow
    lines = [_("%(name)s，您好：", name=c.customer_name)]
    if message == "ack":
        subject = _("【%(company)s】您的%(kind)s已受理，编号 %(n)s", company=company, kind=kind, n=c.number)
        lines.append(_("我们已收到您的%(kind)s，编号 %(n)s，会尽快核实处理。", kind=kind, n=c.number))
        label, at = expectation(session, c)
        if at is not None:
            lines.append(_("%(label)s：%(date)s", label=_(label), date=at.astimezone(company_tz()).strftime("%Y-%m-%d")))
        lines.append(_("查看进度、补充材料：%(link)s", link=follow))
    elif message == "answer":
        subject = _("【%(company)s】您的%(kind)s %(n)s 已有答复", company=company, kind=kind, n=c.number)
        answer = answer_text(c)
        if answer:
            lines += [_("我们的答复："), answer]
        lines.append(_("查看详情：%(link)s", link=follow))
    else:
        if c.stage != "follow_up" or c.satisfaction is not None:
            return None          # rated meanwhile (by phone), or no longer waiting for a rating
        token = links.issue(session, c, now, config.link_days)
        link = wording.link(f"/survey/{token}")
        subject = _("【%(company)s】请为%(kind)s %(n)s 的处理评分", company=company, kind=kind, n=c.number)
        answer = answer_text(c)
        if answer:
            lines += [_("我们的答复："), answer]
        lines.append(_("请为我们的处理打分，并确认是否可以结案（%(days)d 天内有效，只能使用一次）：%(link)s",
                       days=config.link_days, link=link))
        lines.append(_("查看进度：%(link)s", link=follow))
    lines.append(company + (_("（客服电话 %(phone)s）", phone=config.hotline) if config.hotline else ""))
    text = "\n".join(lines)
    html = ("<div style=\"font-family:sans-serif;font-size:15px;line-height:1.6\">"
            + "".join(f"<p style=\"margin:0 0 8px\">{escape(line)}</p>" for line in lines) + "</div>")
    return to, subject, text, html, {"number": c.number, "link": link, "message": message}


def last_survey_link(session, complaint_id: int):
    """The newest survey link row of a complaint (for the "send me a new link" page)."""
    from models.complaint import CustomerLink
    return session.scalar(select(CustomerLink).where(CustomerLink.complaint_id == complaint_id)
                          .order_by(CustomerLink.id.desc()).limit(1))


def sent(session, complaint_id: int) -> list[Outbox]:
    """The messages to the customer of a complaint, oldest first (its record shows them)."""
    return list(session.scalars(select(Outbox).where(Outbox.complaint_id == complaint_id,
                                                     Outbox.kind.like("customer:%")).order_by(Outbox.id)))
