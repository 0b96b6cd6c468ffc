"""The ledger's kept values (domain.ledger: close_in_time, ticking_deadline, days_to_close on each
complaint; the LedgerDay counts) stay equal to counting them again from scratch (ledger.rebuild)
through every path that changes them: intake (also settled on the spot), closing in and past the
limit, reopening and closing again, a score, a repeat, a correction, waiting for the
customer, an official calendar's recomputed deadlines."""
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from domain import ledger
from models.complaint import Complaint, LedgerDay
from models.sla import SlaClock
from tests.builders import act, register, unit

START = datetime(2026, 11, 2, 2, 0, tzinfo=timezone.utc)
DAY = timedelta(days=1)


def kept(session):
    """What is kept now: the complaints' three values, the non-empty LedgerDay rows."""
    session.flush()
    complaints = {c.id: (c.close_in_time, c.ticking_deadline, c.days_to_close)
                  for c in session.scalars(select(Complaint).execution_options(populate_existing=True))}
    days = {(d.day, d.first_responder_id, d.receiving_unit_id, d.days_to_close):
            tuple(getattr(d, k) for k in ledger.COUNTS)
            for d in session.scalars(select(LedgerDay).execution_options(populate_existing=True))
            if any(getattr(d, k) for k in ledger.COUNTS)}
    return complaints, days


def assert_kept(session):
    """The kept values equal a rebuild from scratch (which is rolled back to a savepoint)."""
    before = kept(session)
    savepoint = session.begin_nested()
    ledger.rebuild(session)
    after = kept(session)
    savepoint.rollback()
    session.expire_all()
    assert before == after


def test_closing_reopening_and_closing_late_keep_the_counts(session, company):
    c = register(session, "receiver", at=START)
    assert_kept(session)
    assert c.ticking_deadline is not None and c.close_in_time is None and c.days_to_close is None
    act(session, "quality", c, "withdraw", at=START + 2 * DAY, reason="顾客撤诉")          # in time
    assert_kept(session)
    assert (c.close_in_time, c.days_to_close, c.ticking_deadline) == (True, 2, None)
    act(session, "quality", c, "reopen", at=START + 3 * DAY, comment="顾客又来了")
    assert_kept(session)
    assert (c.close_in_time, c.days_to_close) == (None, None) and c.ticking_deadline is not None
    act(session, "quality", c, "withdraw", at=START + 40 * DAY, reason="顾客撤诉")         # the new close clock: late
    assert_kept(session)
    assert (c.close_in_time, c.days_to_close) == (False, 40)
    row = ledger.ledger(session, None, "person", START - DAY, START + 60 * DAY, START + 60 * DAY)[0]
    assert (row.received, row.open, row.closed, row.closed_in_time, row.median_days) == (1, 0, 1, 0, 40.0)


def test_spot_settled_scored_repeats_and_waiting_keep_the_counts(session, company):
    first = register(session, "receiver", at=START)
    spot = register(session, "receiver", at=START + DAY, severity="minor", spot_action="当场换货", spot_accepted=True)
    assert_kept(session)
    act(session, "receiver", spot, "survey", at=START + 2 * DAY, score=4)
    assert_kept(session)
    again = register(session, "receiver", at=START + 3 * DAY, extra={"repeat_of_id": first.id})
    act(session, "quality", again, "correct", at=START + 3 * DAY, product_name="蛋黄酥", reason="商品写错了")
    assert_kept(session)
    act(session, "quality", again, "dispatch", at=START + 4 * DAY, unit_id=unit(session, "销售部").id)
    act(session, "sales2", again, "pause", at=START + 5 * DAY, reason="等顾客的发票照片")
    assert_kept(session)
    assert again.ticking_deadline is None                       # every running clock waits
    act(session, "sales2", again, "resume", at=START + 8 * DAY, note="")
    assert_kept(session)
    assert again.ticking_deadline is not None
    register(session, "receiver", at=START, type="suggestion")  # not counted
    assert_kept(session)
    rows = ledger.ledger(session, None, "person", START - DAY, START + 30 * DAY, START + 30 * DAY)
    assert [(r.received, r.closed, r.satisfaction, r.repeats) for r in rows] == [(3, 1, 4.0, 1)]


def test_recomputed_deadlines_keep_the_earliest(session, company):
    from domain import clocks
    c = register(session, "receiver", at=START)
    session.flush()
    right = c.ticking_deadline
    for clock in session.scalars(select(SlaClock).where(SlaClock.complaint_id == c.id)):
        clock.confirmed = False
        clock.deadline = clock.deadline + 300 * DAY    # as if estimated wrongly: the recompute moves it back
    clocks.keep_outcome(session, c)
    assert c.ticking_deadline != right
    assert clocks.recompute_unconfirmed(session)
    assert_kept(session)
    assert c.ticking_deadline == right


def test_a_stored_value_that_drifts_is_seen(session, company):
    c = register(session, "receiver", at=START)
    act(session, "quality", c, "withdraw", at=START + 2 * DAY, reason="顾客撤诉")
    c.close_in_time = False                           # as a change beside the hooks would leave it
    session.flush()
    try:
        assert_kept(session)
    except AssertionError:
        return
    raise AssertionError("a drifted value went unnoticed")
