"""Telling people about a meeting and its actions: keyed in-app notices (the key names the meeting
— mtg:<id>:… — or the action — cap:<id>:… — which the notice list links to and the e-mail copy is
written from), once per key and person, with an e-mail copy for those with an address."""
from __future__ import annotations

from sqlalchemy import select

from models import upsert_insert
from models.complaint import Notification
from models.user import User


def owners(session, a) -> list[int]:
    """Who an action's notices go to: its person, else the heads of its unit (else the unit's people)."""
    if a.owner_user_id is not None:
        return [a.owner_user_id]
    if a.owner_unit_id is None:
        return []
    people = session.execute(select(User.id, User.is_head).where(User.org_unit_id == a.owner_unit_id,
                                                                 User.active.is_(True))).all()
    heads = [uid for uid, head in people if head]
    return heads or [uid for uid, _head in people]


def tell(session, user_ids, kind: str, key: str, now, actor=None) -> int:
    """A notice of `kind` keyed `key:u<id>` for each of `user_ids` (never the actor); returns how
    many were new."""
    from domain.notify import email_on, queue_emails
    users = sorted({u for u in user_ids if u and (actor is None or u != actor.id)})
    if not users:
        return 0
    table = Notification.__table__
    rows = [{"user_id": u, "kind": kind, "at": now, "dedupe_key": f"{key}:u{u}"} for u in users]
    written = len(session.execute(upsert_insert(session)(table).values(rows).on_conflict_do_nothing()
                                  .returning(table.c.id)).all())
    if written and email_on(session):
        queue_emails(session, now, key + ":")
    return written
