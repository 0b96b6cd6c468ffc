"""The accountability ledger against a plain Python reading of the same complaints (issue 17: the
ledger's statements were rewritten for speed — set-based per database, medians per group): every
figure of every row, by person, store and branch, for quality and for heads, at several moments.
Beside tests/domain/test_ledger.py (the hand-counted figures), this one covers what those leave
out: even and odd numbers of closed complaints per group, branch offices and the call centre,
paused clocks, several running clocks, suggestions, complaints outside the period."""
from datetime import datetime, timedelta, timezone
from statistics import median

import pytest
from sqlalchemy import select

from domain import ledger
from domain.scoping import covered_unit_ids
from models.complaint import Complaint
from models.org import OrgUnit
from models.sla import SlaClock
from tests.builders import TZ, act, register, unit, user

START = datetime(2026, 11, 2, 2, 0, tzinfo=timezone.utc)
DAY = timedelta(days=1)
PERIOD = (datetime(2026, 11, 1, tzinfo=TZ), datetime(2026, 12, 1, tzinfo=TZ))


def build(session):
    """Complaints by four clerks (two stores, a branch office, the call centre), closed after
    1 … 23 days or still open, some rated, paused, dispatched, repeated."""
    made, first = [], {}
    clerks = ("receiver", "receiver", "receiver2", "sh_head", "cs1", "xh_head")
    for i in range(24):
        clerk = clerks[i % len(clerks)]
        at = START + i * timedelta(hours=20)
        if i % 4 == 0:        # closed on the spot with a score
            c = register(session, clerk, at=at, severity="minor", spot_action="当场换货", spot_accepted=True)
            act(session, clerk, c, "survey", at=at + (1 + i % 5) * DAY, score=1 + i % 5)
        else:
            earlier = first.get(clerk) if i % 3 == 0 else None        # a repeat of the clerk's first one
            c = register(session, clerk, at=at, **({"extra": {"repeat_of_id": earlier.id}} if earlier else {}))
            if i % 4 == 1:      # withdrawn after a number of whole days (some past the 15-day limit)
                act(session, "quality", c, "withdraw", at=at + (2 + i) * DAY, reason="顾客撤诉")
            elif i % 4 == 2:    # dispatched; every other one waits for the customer (its clocks paused)
                act(session, "quality", c, "dispatch", at=at + DAY, unit_id=unit(session, "销售部").id)
                if i % 8 == 2:
                    act(session, "sales2", c, "pause", at=at + 2 * DAY, reason="等顾客的发票照片")
            # i % 4 == 3: never dispatched (idle after 48 hours)
        made.append(c)
        first.setdefault(clerk, c)
    register(session, "receiver", at=START - 5 * DAY)                                  # October
    register(session, "receiver2", at=START + 2 * DAY, type="suggestion")              # not a complaint
    session.commit()


def days(c):
    return (c.closed_at - c.created_at).total_seconds() / 86400


def reference(session, viewer, by, now):
    """The ledger as its docstring says it, in Python over the ORM objects."""
    units = {u.id: u for u in session.scalars(select(OrgUnit))}
    covered = covered_unit_ids(session, viewer)
    clocks = {}
    for clock in session.scalars(select(SlaClock)):
        clocks.setdefault(clock.complaint_id, []).append(clock)
    groups = {}
    for c in session.scalars(select(Complaint)):
        if not (PERIOD[0] <= c.created_at < PERIOD[1]) or c.type != "complaint":
            continue
        if covered is not None and c.receiving_unit_id not in covered and c.first_responder_id != viewer.id:
            continue
        recv = units[c.receiving_unit_id]
        if by == "person":
            key = c.first_responder_id
        elif by == "store":
            key = recv.id if recv.kind == "store" else None
        else:
            key = recv.parent_id if recv.kind == "store" else (recv.id if recv.kind == "branch" else None)
        if key is None:
            continue
        groups.setdefault(key, []).append(c)
    out = {}
    for key, cs in groups.items():
        mine = clocks.get
        closed = [c for c in cs if c.closed_at is not None]
        scores = [c.satisfaction for c in cs if c.satisfaction is not None]
        out[key] = (
            len(cs), sum(c.stage != "closed" for c in cs), len(closed),
            sum(any(k.kind == "close" and k.stopped_at is not None and k.stopped_at <= k.deadline
                    for k in mine(c.id, [])) for c in closed),
            sum(c.stage != "closed" and any(k.stopped_at is None and k.paused_at is None and k.deadline <= now
                                           for k in mine(c.id, [])) for c in cs),
            round(median(days(c) for c in closed), 1) if closed else None,
            round(sum(scores) / len(scores), 2) if scores else None,
            sum(c.repeat_of_id is not None for c in cs),
            sum(c.stage == "new" and c.created_at <= now - timedelta(hours=ledger.IDLE_HOURS) for c in cs))
    return out


@pytest.mark.parametrize("by", ledger.BY)
def test_every_figure_matches_a_plain_reading(session, company, by):
    build(session)
    assert session.scalar(select(SlaClock.id).where(SlaClock.paused_at.is_not(None))) is not None
    for viewer in ("quality", "xh_head", "sh_head", "hz_head", "receiver", "cs_head"):
        for now in (START + 3 * DAY, START + 12 * DAY, START + 40 * DAY):
            who = user(session, viewer)
            rows = ledger.ledger(session, who, by, *PERIOD, now)
            got = {r.key: (r.received, r.open, r.closed, r.closed_in_time, r.overdue, r.median_days, r.satisfaction,
                           r.repeats, r.idle) for r in rows}
            assert got == reference(session, who, by, now), (viewer, by, now)
            session.rollback()
    # the data covers what the figures are about
    whole = reference(session, user(session, "quality"), "person", START + 40 * DAY)
    closed = [v[2] for v in whole.values()]
    assert any(n % 2 == 0 and n for n in closed) and any(n % 2 for n in closed)        # even and odd groups
    assert sum(v[4] for v in whole.values()) and sum(v[8] for v in whole.values())     # overdue, idle
    assert sum(v[7] for v in whole.values()) and any(v[6] for v in whole.values())    # repeats, scores
    assert sum(v[3] for v in whole.values()) < sum(closed)                             # some closed late


def test_an_empty_period_and_a_period_without_closures(session, company):
    build(session)
    empty = (datetime(2025, 1, 1, tzinfo=TZ), datetime(2025, 2, 1, tzinfo=TZ))
    for by in ledger.BY:
        assert ledger.ledger(session, user(session, "quality"), by, *empty, START) == []
    first_day = (PERIOD[0], datetime(2026, 11, 3, tzinfo=TZ))             # registered, nothing closed yet
    rows = ledger.ledger(session, user(session, "quality"), "person", *first_day, START + 10 * DAY)
    assert rows and all(r.median_days is None for r in rows if not r.closed)
