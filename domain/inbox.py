"""The inbox (the notices page): a user's notices one row per complaint — its newest notice, the
others folded under it — and one per kind for notices about no complaint (digests, weekly pages);
a rejection told with its reason; opening the page marks the groups shown as read."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.orm.attributes import set_committed_value

from models.complaint import Complaint, ComplaintEvent, Notification

RECENT = 200      # the newest notices read for the page …
UNREAD = 500      # … and the unread ones among older notices, so that no unread group is left out
GROUPS = 50       # rows on the page


@dataclass
class Group:
    newest: Notification
    others: list[Notification] = field(default_factory=list)
    unread: int = 0


def groups(session, user_id: int) -> list[Group]:
    """The user's newest notices, one group per complaint (and per kind for notices about none),
    newest group first, at most GROUPS of them."""
    mine = select(Notification).where(Notification.user_id == user_id)
    rows = {n.id: n for n in session.scalars(mine.order_by(Notification.id.desc()).limit(RECENT))}
    rows.update((n.id, n) for n in session.scalars(
        mine.where(Notification.read_at.is_(None)).order_by(Notification.id.desc()).limit(UNREAD)))
    found: dict[tuple, Group] = {}
    for n in sorted(rows.values(), key=lambda n: n.id, reverse=True):
        key = ("c", n.complaint_id) if n.complaint_id else ("k", n.kind)
        group = found.get(key)
        if group is None:
            if len(found) == GROUPS:
                continue
            group = found[key] = Group(n)
        else:
            group.others.append(n)
        group.unread += n.read_at is None
    return list(found.values())


def rejection_reasons(session, notices) -> dict[int, str]:
    """notice id → the reason of the rejection it tells of: the comment of the complaint's latest
    `reject` event at or before the notice (one query for the page). A progress notice written by a
    rejection (before rejections had their own kind) reads as one too."""
    telling = [n for n in notices if n.complaint_id and n.kind in ("rejected", "stage:investigating")]
    if not telling:
        return {}
    events: dict[int, list] = {}
    for complaint_id, at, comment in session.execute(
            select(ComplaintEvent.complaint_id, ComplaintEvent.at, ComplaintEvent.comment)
            .where(ComplaintEvent.complaint_id.in_({n.complaint_id for n in telling}), ComplaintEvent.kind == "reject")
            .order_by(ComplaintEvent.id)):
        events.setdefault(complaint_id, []).append((at, comment or ""))
    out = {}
    for n in telling:
        before = [(at, comment) for at, comment in events.get(n.complaint_id, []) if at <= n.at]
        if before and (n.kind == "rejected" or before[-1][0] == n.at):
            out[n.id] = before[-1][1]
    return out


def with_complaints(session, notices) -> None:
    """The notices' complaints in one query, not one per notice."""
    ids = {n.complaint_id for n in notices if n.complaint_id}
    found = {c.id: c for c in session.scalars(select(Complaint).where(Complaint.id.in_(ids)))} if ids else {}
    for n in notices:
        set_committed_value(n, "complaint", found.get(n.complaint_id))


def mark_read(session, user_id: int, shown: list[Group], now: datetime) -> None:
    """Every unread notice of the groups shown (not only the ones on the page) is read now."""
    if not any(g.unread for g in shown):
        return
    complaint_ids = {n.complaint_id for g in shown for n in (g.newest, *g.others) if n.complaint_id}
    kinds = {g.newest.kind for g in shown if not g.newest.complaint_id}
    session.execute(update(Notification).where(
        Notification.user_id == user_id, Notification.read_at.is_(None),
        or_(Notification.complaint_id.in_(complaint_ids),
            Notification.complaint_id.is_(None) & Notification.kind.in_(kinds))).values(read_at=now))
