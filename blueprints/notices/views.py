"""The bell and the inbox. The inbox shows one row per complaint (its newest notice, the others
folded under it) and one per kind for notices about no complaint (digests, weekly pages);
opening it marks the groups it shows as read — every notice in them."""
from __future__ import annotations

from dataclasses import dataclass, field

from flask_login import current_user
from sqlalchemy import or_, select, update
from sqlalchemy.orm.attributes import set_committed_value

from blueprints._render import fragment, render
from blueprints.notices import bp
from models import db, utcnow
from models.complaint import Complaint, ComplaintEvent, Notification

RECENT = 200      # the newest notices read for the page …
UNREAD = 500      # … and the unread ones among older notices, so that no unread group is left out
GROUPS = 50       # rows on the page


@dataclass
class Group:
    newest: Notification
    others: list[Notification] = field(default_factory=list)
    unread: int = 0


@bp.route("/bell")
def bell():
    """The bell alone (polled by HTMX every minute)."""
    return fragment("notices/_bell.html")


def _groups(user_id: int) -> list[Group]:
    mine = select(Notification).where(Notification.user_id == user_id)
    rows = {n.id: n for n in db.session.scalars(mine.order_by(Notification.id.desc()).limit(RECENT))}
    rows.update((n.id, n) for n in db.session.scalars(
        mine.where(Notification.read_at.is_(None)).order_by(Notification.id.desc()).limit(UNREAD)))
    groups: dict[tuple, Group] = {}
    for n in sorted(rows.values(), key=lambda n: n.id, reverse=True):
        key = ("c", n.complaint_id) if n.complaint_id else ("k", n.kind)
        group = groups.get(key)
        if group is None:
            if len(groups) == GROUPS:
                continue
            group = groups[key] = Group(n)
        else:
            group.others.append(n)
        group.unread += n.read_at is None
    return list(groups.values())


def _rejections(notices) -> dict[int, str]:
    """notice id → the reason of the rejection it tells of: the comment of the complaint's latest
    `reject` event at or before the notice (one query for the page). A progress notice written by a
    rejection (before rejections had their own kind) reads as one too."""
    telling = [n for n in notices if n.complaint_id and n.kind in ("rejected", "stage:investigating")]
    if not telling:
        return {}
    events: dict[int, list] = {}
    for complaint_id, at, comment in db.session.execute(
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


@bp.route("")
def index():
    """The newest notices grouped per complaint; opening the page marks the groups shown as read."""
    groups = _groups(current_user.id)
    notices = [n for g in groups for n in (g.newest, *g.others)]
    complaint_ids = {n.complaint_id for n in notices if n.complaint_id}
    complaints = {c.id: c for c in db.session.scalars(select(Complaint).where(Complaint.id.in_(complaint_ids)))} \
        if complaint_ids else {}
    for n in notices:   # the rows' complaints in one query, not one per notice
        set_committed_value(n, "complaint", complaints.get(n.complaint_id))
    page = render("notices/index.html", groups=groups, reasons=_rejections(notices))
    if any(g.unread for g in groups):
        kinds = {g.newest.kind for g in groups if not g.newest.complaint_id}
        db.session.execute(update(Notification).where(
            Notification.user_id == current_user.id, Notification.read_at.is_(None),
            or_(Notification.complaint_id.in_(complaint_ids),
                Notification.complaint_id.is_(None) & Notification.kind.in_(kinds))).values(read_at=utcnow()))
        db.session.commit()
    return page
