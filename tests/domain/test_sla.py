"""Each preset's deadlines for real dates (SPEC §4.2), warn and escalate times."""
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from domain.calendar import Unit, WorkingCalendar
from domain.sla import PRESETS, ClockKind, limits_for, remaining, schedule

TZ = ZoneInfo("Asia/Shanghai")
CAL = WorkingCalendar(tz=TZ)
K = ClockKind


def at(*args):
    return datetime(*args, tzinfo=TZ)


def deadline(preset, kind, start, **kw):
    return schedule(CAL, start, limits_for(preset, **kw)[kind]).deadline


def test_bank_answer_and_close_across_national_day():
    start = at(2025, 9, 26, 17, 0)   # Friday before National Day 2025
    assert deadline("bank", K.ANSWER, start) == at(2025, 10, 10, 17, 0)
    # 10 working days: Sep 28 (调休), 29, 30, Oct 9, 10, 11 (调休 Saturday), 13, 14, 15, 16.
    assert deadline("bank", K.CLOSE, start) == at(2025, 10, 16, 17, 0)
    assert deadline("bank", K.DISPATCH, start) == at(2025, 9, 27, 17, 0)   # 24 calendar hours


def test_store_chain_domestic_and_foreign_and_food_minutes():
    start = at(2026, 11, 23, 10, 0)
    assert deadline("store-chain", K.CLOSE, start) == at(2026, 12, 8, 10, 0)                 # 15 days
    assert deadline("store-chain", K.CLOSE, start, foreign=True) == at(2026, 12, 11, 10, 0)  # 18 days
    assert deadline("food", K.FIRST_CONTACT, start) == at(2026, 11, 23, 10, 30)
    assert deadline("iatf", K.INITIAL_CAUSE, start) == at(2026, 11, 23, 22, 0)
    assert deadline("generic", K.FOLLOW_UP, start) == at(2026, 11, 26, 10, 0)


def test_inquiries_have_their_own_limits_in_every_preset():
    start = at(2026, 11, 23, 10, 0)
    for preset in PRESETS:
        assert deadline(preset, K.ANSWER, start, type="inquiry") == at(2026, 11, 26, 10, 0)   # 3 working days


def test_every_limit_says_where_it_comes_from():
    for name, policy in PRESETS.items():
        limits = limits_for(name)
        assert set(limits) == set(ClockKind), name
        assert all(limit.source for limit in limits.values())


def test_warn_and_escalate_in_calendar_and_working_time():
    s = schedule(CAL, at(2026, 11, 23, 9, 0), limits_for("generic")[K.DISPATCH])   # 24 h
    assert (s.warn_at, s.deadline, s.escalate_at) == (at(2026, 11, 24, 3, 0), at(2026, 11, 24, 9, 0),
                                                      at(2026, 11, 24, 15, 0))
    s = schedule(CAL, at(2026, 11, 23, 9, 0), limits_for("bank")[K.ANSWER])        # 5 working days = 45 h
    assert s.deadline == at(2026, 11, 30, 9, 0)
    assert s.warn_at == at(2026, 11, 26, 15, 45)        # 33¾ working hours in
    assert s.escalate_at == at(2026, 12, 1, 11, 15)     # 11¼ working hours after the deadline
    assert s.confirmed


def test_remaining_counts_working_time_for_working_limits():
    assert remaining(CAL, at(2026, 11, 20, 17, 0), at(2026, 11, 23, 10, 0), Unit.WORKING_DAYS).total_seconds() == 2 * 3600
    assert remaining(CAL, at(2026, 11, 23, 12, 0), at(2026, 11, 23, 10, 0), Unit.CALENDAR_HOURS).total_seconds() == -7200


def test_unknown_preset_falls_back_to_generic():
    assert limits_for("nonsense") == limits_for("generic")


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_a_deadline_into_2027_is_unconfirmed(preset):
    limit = limits_for(preset)[K.CLOSE]
    s = schedule(CAL, at(2026, 12, 28, 10, 0), limit)
    # Working days into an unpublished year are estimates; calendar days need no holiday table.
    assert s.confirmed is (limit.unit is not Unit.WORKING_DAYS)
    assert s.deadline.year == 2027


def test_severity_and_category_rules():
    start = at(2026, 11, 23, 10, 0)      # Monday
    # bank, seed 002: complex (serious/major) complaints get 7 working days for the full answer
    assert deadline("bank", K.ANSWER, start) == at(2026, 11, 30, 10, 0)
    assert deadline("bank", K.ANSWER, start, severity="serious") == at(2026, 12, 2, 10, 0)
    assert deadline("bank", K.ANSWER, start, severity="general") == at(2026, 11, 30, 10, 0)
    # food, seed 003: a test report within 48 h for product quality, first findings within 24 h otherwise
    assert deadline("food", K.INITIAL_CAUSE, start, category="产品质量") == at(2026, 11, 25, 10, 0)
    assert deadline("food", K.INITIAL_CAUSE, start, category="交货") == at(2026, 11, 24, 10, 0)
    # the admin's edit of the table does not undo a special rule
    from domain.sla import L
    edited = limits_for("bank", severity="major", overrides={K.ANSWER: L(4, Unit.WORKING_DAYS, "管理员修改")})
    assert edited[K.ANSWER].amount == 7
    assert limits_for("bank", overrides={K.ANSWER: L(4, Unit.WORKING_DAYS, "管理员修改")})[K.ANSWER].amount == 4


def test_a_clock_s_level_is_the_same_rule_for_the_register_and_the_record():
    """Issue 14: the record page showed amber for a clock the register showed red (due within a
    working hour); both now ask domain.clocks.level."""
    from types import SimpleNamespace

    from domain.clocks import level

    def clock(deadline, warn_at, unit=Unit.WORKING_HOURS, stopped_at=None, paused_at=None):
        return SimpleNamespace(deadline=deadline, warn_at=warn_at, unit=unit.value, stopped_at=stopped_at,
                               paused_at=paused_at)

    friday_17 = at(2026, 11, 27, 17, 0)
    assert level(clock(at(2026, 11, 30, 9, 0), at(2026, 11, 27, 16, 0)), friday_17, CAL) == "red"  # 1 working hour left
    assert level(clock(at(2026, 11, 30, 9, 0), at(2026, 11, 27, 16, 0), Unit.CALENDAR_HOURS), friday_17,
                 CAL) == "amber"                                      # 64 hours by the clock
    assert level(clock(at(2026, 11, 30, 12, 0), at(2026, 11, 27, 18, 0)), friday_17, CAL) == "green"
    assert level(clock(friday_17, at(2026, 11, 27, 16, 0)), friday_17, CAL) == "overdue"
    assert level(clock(friday_17, friday_17, paused_at=at(2026, 11, 27, 9, 0)), friday_17, CAL) == "paused"
    assert level(clock(friday_17, friday_17, stopped_at=at(2026, 11, 27, 17, 1)), friday_17, CAL) == "late"
    assert level(clock(friday_17, friday_17, stopped_at=friday_17), friday_17, CAL) == "done"
