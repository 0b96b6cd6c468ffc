"""Made once, announced once: what the stored reports (the half-year summary, the monthly report)
share. Each keeps its own figures, its own unique key and its own recipients; this module only
makes sure that any number of runs, at the same time or one after another, store one row and tell
each person once.

- `store_once` inserts the report's row unless its unique key is taken; of two runs at once the
  insert of the second does nothing on the conflict and it reads the winner's row.
- `announce_once` writes one keyed notice per person (`<prefix>u<user id>`; the key is unique, so a
  second announcement writes nothing) and, when e-mail is on, an e-mail copy of the notices it wrote.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TypeVar

from models import upsert_insert
from models.complaint import Notification

Row = TypeVar("Row")


def store_once(session, model: type[Row], find: Callable[[], Row | None], values: Callable[[], dict]
               ) -> tuple[Row, bool]:
    """The row `find` reads, stored from `values()` if it is not there yet → (row, created).
    `values` is called only when the row is absent (the figures are the costly part)."""
    existing = find()
    if existing is not None:
        return existing, False
    table = model.__table__
    inserted = session.execute(upsert_insert(session)(table).values(**values()).on_conflict_do_nothing()
                               .returning(table.c.id)).scalar()
    return find(), inserted is not None


def announce_once(session, kind: str, prefix: str, people: Iterable[int], now: datetime) -> int:
    """A notice of `kind` to each of `people`, keyed `<prefix>u<id>` (once per person), with an
    e-mail copy for those with an address when e-mail is on. Returns how many notices were written."""
    from domain.notify import email_on, queue_emails
    rows = [{"user_id": uid, "kind": kind, "at": now, "dedupe_key": f"{prefix}u{uid}"} for uid in sorted(set(people))]
    if not rows:
        return 0
    table = Notification.__table__
    written = len(session.execute(upsert_insert(session)(table).values(rows).on_conflict_do_nothing()
                                  .returning(table.c.id)).all())
    if written and email_on(session):
        queue_emails(session, now, prefix)
    return written
