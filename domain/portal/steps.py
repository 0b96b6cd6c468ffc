"""What the customer does on the public pages (SPEC §7), each one call for the view: find their
complaint (lookup), rate and close it through a survey link, ask for a new link, add information.
The customer's workflow steps go through `act` as `Customer(complaint_id)` (domain/workflow/customer.py)."""
from __future__ import annotations

import hmac
import re
import unicodedata
from datetime import datetime, timedelta

from sqlalchemy import func, select

from domain.errors import DomainError, N_
from domain.numbering import NUMBER_RE, normalise as normalise_number  # noqa: F401 — the views' too
from domain.portal import links, outbound
from domain.portal.config import portal_config
from domain.workflow import act, command
from domain.workflow.customer import Customer
from models.complaint import Complaint
from models.sla import Outbox

DIGITS_RE = re.compile(r"^\d{4}$")
RESEND_GAP = timedelta(minutes=10)


class LinkRefused(DomainError):
    """A survey link that cannot be used: `state` is used, expired or unknown."""

    def __init__(self, message: str, state: str, complaint: Complaint | None = None):
        super().__init__(message)
        self.state, self.complaint = state, complaint




def lookup(session, number: str | None, proof: str | None) -> Complaint | None:
    """The complaint with `number` whose phone ends in `proof` (4 digits) or whose e-mail is
    `proof`; None otherwise. A wrong number and wrong digits take the same steps (one indexed
    query, one constant-time comparison) and give the same None."""
    number = normalise_number(number)
    proof = unicodedata.normalize("NFKC", proof or "").strip().lower()[:120]
    complaint = session.scalar(select(Complaint).where(Complaint.number == number)) \
        if NUMBER_RE.match(number) else None
    if DIGITS_RE.match(proof):
        expected = (complaint.customer_phone or "")[-4:] if complaint is not None else ""
    else:
        expected = (complaint.customer_email or "").lower() if complaint is not None else ""
    ok = bool(proof) and bool(expected) and hmac.compare_digest(expected.encode(), proof.encode())
    return complaint if ok and complaint is not None else None


def survey_link(session, token: str, now: datetime):
    """(link row, complaint) for a usable survey link; LinkRefused otherwise."""
    link = links.find(session, token)
    state = links.state(link, now)
    if state == "ok" and (link.complaint.stage != "follow_up" or link.complaint.satisfaction is not None):
        state = "used"           # rated meanwhile (by phone), or no longer waiting for a rating
    if state != "ok":
        message = {"used": N_("这个评价链接已经用过了。"), "expired": N_("这个评价链接已过期。")}.get(
            state, N_("这个链接无效，请检查是否完整复制。"))
        raise LinkRefused(message, state, link.complaint if link is not None else None)
    return link, link.complaint


def rate(session, token: str, *, score, comment, confirm: bool, now: datetime) -> Complaint:
    """The customer's survey through the link: one time only. Closes the complaint when satisfied
    and confirmed (the customer is the closing actor)."""
    link, c = survey_link(session, token, now)
    act(session, Customer(c.id), c, "customer_survey", command("customer_survey", score=score, comment=comment,
                                                               confirm=bool(confirm)), version=c.version, now=now)
    links.retire(session, c.id, now)      # this link and any other still out
    return c


def resend(session, token: str, now: datetime) -> tuple[str, Complaint | None]:
    """A new survey link for the customer of an expired (or lost) one, sent to the contact on
    record. Returns ("sent" | "recent" | "done" | "no_channel" | "unknown", complaint)."""
    link = links.find(session, token)
    if link is None:
        return "unknown", None
    c = link.complaint
    if c.stage != "follow_up" or c.satisfaction is not None or c.type != "complaint":
        return "done", c
    recent = session.scalar(select(func.count()).select_from(Outbox).where(
        Outbox.complaint_id == c.id, Outbox.kind == "customer:survey", Outbox.created_at > now - RESEND_GAP))
    if recent:
        return "recent", c
    return ("sent" if outbound.queue(session, c, "survey", now) else "no_channel"), c


def add_information(session, complaint: Complaint, *, text: str | None, upload_token: str | None,
                    now: datetime) -> Complaint:
    """补充材料 through the progress link (the view has kept the photos under `upload_token`). The
    same form sent twice (a double tap, a resubmission) adds once: its token is on the event."""
    if upload_token and any(e.kind == "customer_adds" and (e.changes or {}).get("form") == upload_token
                            for e in complaint.events):
        return complaint
    return act(session, Customer(complaint.id), complaint, "customer_adds",
               command("customer_adds", text=text, upload_token=upload_token), version=complaint.version, now=now)


def survey_now(session, complaint: Complaint, now: datetime) -> str | None:
    """A fresh one-time survey link for the holder of the progress link (no SMS or e-mail needed),
    or None when the complaint is not waiting for a rating."""
    if complaint.stage != "follow_up" or complaint.satisfaction is not None or complaint.type != "complaint":
        return None
    return links.issue(session, complaint, now, portal_config(session).link_days)


def masked_contact(c: Complaint, channels: list[str]) -> list[str]:
    """Where a new link went, masked: 尾号 1234, a***@example.com."""
    out = []
    if "sms" in channels and c.customer_phone:
        out.append("尾号 " + c.customer_phone[-4:])
    if "email" in channels and c.customer_email:
        local, _, host = c.customer_email.partition("@")
        out.append(local[:1] + "***@" + host)
    return out
