"""The links a customer holds (SPEC §7).

- The **progress link** `/track/<number>/<code>`: printed as the slip's QR code and sent with the
  acknowledgement; the same page the lookup (number + last four digits of the phone, or the e-mail)
  opens. The code is an HMAC of the complaint under the installation's secret: nothing is stored,
  the link is the same wherever it is shown, and it is short enough for an SMS.
- **Survey links** `/survey/<token>`: one-time and expiring. A random token whose SHA-256 alone is
  stored (CustomerLink); once used, or past its time, it is refused with a clear page — and since
  the row still names its complaint, the customer can ask for a new one, sent to the contact on
  record (never to an address typed on the page).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select

from domain.numbering import normalise
from models.complaint import Complaint, CustomerLink

CODE_LENGTH = 16
CODE_RE = re.compile(r"^[a-z2-7]{16}$")
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{16,43}$")
SURVEY = "survey"


def follow_code(secret: str, complaint: Complaint) -> str:
    digest = hmac.new(secret.encode(), f"follow:{complaint.id}:{complaint.number}".encode(), hashlib.sha256).digest()
    return base64.b32encode(digest).decode().lower()[:CODE_LENGTH]


def follow_path(secret: str, complaint: Complaint) -> str:
    return f"/track/{complaint.number}/{follow_code(secret, complaint)}"


def follows(secret: str, complaint: Complaint | None, code: str) -> bool:
    """Whether `code` is the progress code of `complaint` (constant time; False for no complaint)."""
    if not isinstance(code, str) or not CODE_RE.match(code):
        return False
    expected = follow_code(secret, complaint) if complaint is not None else "a" * CODE_LENGTH
    return hmac.compare_digest(expected, code) and complaint is not None


def by_follow_code(session, secret: str, number: str, code: str) -> Complaint | None:
    """The complaint a progress link opens, or None (a wrong number and a wrong code look the same)."""
    number = normalise(number) if isinstance(number, str) else ""
    code = code.strip().lower() if isinstance(code, str) else ""     # typed from the slip: case forgiven
    complaint = session.scalar(select(Complaint).where(Complaint.number == number)) if len(number) <= 20 else None
    return complaint if follows(secret, complaint, code) else None


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue(session, complaint: Complaint, now: datetime, days: int, purpose: str = SURVEY) -> str:
    """A new one-time link for `complaint`; returns the token (only its hash is kept)."""
    token = secrets.token_urlsafe(12)          # 16 characters, 96 bits
    session.add(CustomerLink(complaint_id=complaint.id, purpose=purpose, token_hash=_hash(token), created_at=now,
                             expires_at=now + timedelta(days=days)))
    return token


def find(session, token: str, purpose: str = SURVEY) -> CustomerLink | None:
    """The link row of `token` (used or not, expired or not), or None for a token never issued."""
    if not isinstance(token, str) or not TOKEN_RE.match(token):
        return None
    return session.scalar(select(CustomerLink).where(CustomerLink.token_hash == _hash(token),
                                                     CustomerLink.purpose == purpose))


def state(link: CustomerLink | None, now: datetime) -> str:
    """"ok", "used", "expired" or "unknown"."""
    if link is None:
        return "unknown"
    if link.used_at is not None:
        return "used"
    if link.expires_at <= now:
        return "expired"
    return "ok"


def use(link: CustomerLink, now: datetime) -> None:
    link.used_at = now


def retire(session, complaint_id: int, now: datetime, purpose: str = SURVEY) -> None:
    """Every unused link of the complaint stops working (a new one was sent; the survey is done)."""
    for link in session.scalars(select(CustomerLink).where(CustomerLink.complaint_id == complaint_id,
                                                           CustomerLink.purpose == purpose,
                                                           CustomerLink.used_at.is_(None))):
        link.used_at = now
