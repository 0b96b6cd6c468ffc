"""The working calendar with dates a person in China would check."""
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from domain import calendar
from domain.calendar import Unit, WorkingCalendar
from domain.errors import InvalidInput
from models.calendar import CalendarDay
from models.user import User

TZ = ZoneInfo("Asia/Shanghai")


def at(*args):
    return datetime(*args, tzinfo=TZ)


CAL = WorkingCalendar(tz=TZ)


def test_five_working_days_from_friday_evening_before_national_day():
    # 2025: National Day Oct 1–8 off; make-up working days Sun Sep 28 and Sat Oct 11.
    deadline, confirmed = CAL.add(at(2025, 9, 26, 17, 0), 5, Unit.WORKING_DAYS)
    # Sep 28 (调休 Sunday), 29, 30, then Oct 9, 10 → Friday Oct 10, 17:00.
    assert deadline == at(2025, 10, 10, 17, 0) and confirmed


def test_a_make_up_saturday_counts_as_a_working_day():
    deadline, _ = CAL.add(at(2025, 10, 10, 10, 0), 1, Unit.WORKING_DAYS)
    assert deadline == at(2025, 10, 11, 10, 0)          # Saturday Oct 11, 2025 is 调休上班
    assert CAL.is_workday(date(2025, 10, 11)) and not CAL.is_workday(date(2025, 10, 12))


def test_twelve_working_hours_across_a_weekend():
    # Friday 15:00: three hours left that day, nine on Monday (09:00–18:00).
    deadline, confirmed = CAL.add(at(2026, 11, 20, 15, 0), 12, Unit.WORKING_HOURS)
    assert deadline == at(2026, 11, 23, 18, 0) and confirmed
    # Starting at night counts from the next morning.
    assert CAL.add(at(2026, 11, 20, 22, 0), 2, Unit.WORKING_HOURS)[0] == at(2026, 11, 23, 11, 0)


def test_calendar_hours_and_days_ignore_the_calendar():
    start = at(2026, 9, 30, 12, 0)
    assert CAL.add(start, 24, Unit.CALENDAR_HOURS) == (at(2026, 10, 1, 12, 0), True)
    assert CAL.add(start, 15, Unit.CALENDAR_DAYS) == (at(2026, 10, 15, 12, 0), True)


def test_a_deadline_crossing_into_an_uncovered_year_is_computed_and_unconfirmed():
    assert not calendar.package_covers(2027)
    deadline, confirmed = CAL.add(at(2026, 12, 30, 10, 0), 5, Unit.WORKING_DAYS)
    # Dec 31, then 2027: Jan 1 (fixed-date New Year's Day) off, weekend off, Jan 4, 5, 6, 7.
    assert deadline == at(2027, 1, 7, 10, 0) and not confirmed
    # Inside a covered year everything is confirmed.
    assert CAL.add(at(2026, 12, 1, 10, 0), 5, Unit.WORKING_DAYS)[1]


def test_importing_a_year_confirms_it_and_admin_overrides_win(session, company):
    session = session
    admin = session.scalar(select(User).where(User.username == "admin"))
    assert calendar.uncovered_years(session, date(2026, 11, 25)) == [2027]
    # An illustrative arrangement (not the official one): New Year Jan 1–3 off, Sat Jan 9 worked.
    text = "date,kind,name\n2027-01-01,holiday,元旦\n2027-01-02,holiday,元旦\n2027-01-03,holiday,元旦\n" \
           "2027-01-09,workday,调休上班\n"
    now = datetime(2026, 11, 25, 2, 0, tzinfo=timezone.utc)
    calendar.set_override(session, admin, date(2027, 1, 2), True, "盘点日", now=now)   # the company works that day
    assert calendar.store_arrangement(session, admin, text, now) == (2027, 4)
    cal = calendar.load(session, TZ)
    assert cal.day(date(2027, 1, 2)) == (True, True)           # the override won
    assert cal.day(date(2027, 1, 9)) == (True, True)           # make-up Saturday
    assert cal.day(date(2027, 1, 10)) == (False, True)         # an ordinary Sunday, now confirmed
    deadline, confirmed = cal.add(at(2026, 12, 30, 10, 0), 5, Unit.WORKING_DAYS)
    assert confirmed and deadline == at(2027, 1, 6, 10, 0)      # Dec 31, Jan 2 (override), 4, 5, 6
    assert calendar.uncovered_years(session, date(2026, 11, 25)) == []
    # Re-importing replaces the year's rows; the override stays.
    calendar.store_arrangement(session, admin, "2027-01-01,放假,元旦\n", now)
    assert session.get(CalendarDay, date(2027, 1, 9)) is None and session.get(CalendarDay, date(2027, 1, 2)).source == "admin"


@pytest.mark.parametrize("text, message", [
    ("2027-13-01,holiday", "日期格式不对"),
    ("2027-01-01,vacation", "类型须是"),
    ("2027-01-01", "两列"),
    ("", "没有日期"),
    ("2027-01-01,holiday\n2028-01-01,holiday", "一个年份"),
])
def test_bad_arrangement_files_are_refused_with_the_line(text, message):
    with pytest.raises(InvalidInput) as err:
        calendar.parse_arrangement(text)
    assert message in err.value.message % err.value.params


def test_working_time_between_for_countdowns():
    a, b = at(2026, 11, 20, 17, 0), at(2026, 11, 23, 10, 0)
    assert CAL.working_time_between(a, b) == timedelta(hours=2)
    assert CAL.working_time_between(b, a) == -timedelta(hours=2)
