"""The working calendar (SPEC §4.3): working hours, Chinese public holidays and make-up working
days (调休), admin overrides, and years the holiday package does not know yet.

Which days are working days, in this order:
1. a day in the `calendar_day` table (an admin override, or an imported official arrangement);
2. `chinese-calendar`, for the years it covers (holidays and 调休 as published by the State Council);
3. a year whose arrangement was imported: the rest of its days follow the normal week;
4. otherwise (a year nobody has published yet): the normal week minus the fixed-date holidays —
   and every deadline computed through such a day is *unconfirmed* until the import arrives.

Deadlines: `add(start, amount, unit)` → (deadline, confirmed) for calendar hours, calendar days,
working hours (only inside working hours on working days) and working days (the same time of day,
N working days later; a start outside working hours counts from the next working period).
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy import select

from domain.errors import InvalidInput, N_

FIXED_HOLIDAYS = {(1, 1), (5, 1), (5, 2), (10, 1), (10, 2), (10, 3)}  # known without publication
MAX_DAYS = 3 * 366  # a limit never reaches further than this


class Unit(StrEnum):
    CALENDAR_HOURS = "calendar_hours"
    CALENDAR_DAYS = "calendar_days"
    WORKING_HOURS = "working_hours"
    WORKING_DAYS = "working_days"


UNIT_LABELS = {Unit.CALENDAR_HOURS: N_("小时"), Unit.CALENDAR_DAYS: N_("天"), Unit.WORKING_HOURS: N_("工作小时"),
               Unit.WORKING_DAYS: N_("工作日")}


def package_covers(year: int) -> bool:
    import chinese_calendar
    try:
        chinese_calendar.is_workday(date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


@dataclass
class WorkingCalendar:
    tz: ZoneInfo
    start: time = time(9, 0)
    end: time = time(18, 0)
    weekdays: frozenset = frozenset(range(5))                 # Monday … Friday
    days: dict[date, bool] = field(default_factory=dict)      # calendar_day table: day → working?
    imported_years: frozenset = frozenset()
    # answers already worked out (a page of countdowns asks about the same days again and again)
    _seen: dict[date, tuple[bool, bool]] = field(default_factory=dict, repr=False, compare=False)

    # --- days -----------------------------------------------------------------------
    def day(self, d: date) -> tuple[bool, bool]:
        """(is a working day, confirmed)."""
        known = self._seen.get(d)
        if known is None:
            known = self._seen[d] = self._day(d)
        return known

    def _day(self, d: date) -> tuple[bool, bool]:
        if d in self.days:
            return self.days[d], True
        if d.year not in self.imported_years and _covered(d.year):
            import chinese_calendar
            return chinese_calendar.is_workday(d), True
        normal = d.weekday() in self.weekdays
        if d.year in self.imported_years:
            return normal, True
        return normal and (d.month, d.day) not in FIXED_HOLIDAYS, False

    def is_workday(self, d: date) -> bool:
        return self.day(d)[0]

    def previous_workday(self, d: date) -> date:
        """The last working day before `d` (a Monday's: the Friday, or a 调休 Sunday)."""
        for _ in range(MAX_DAYS):
            d -= timedelta(days=1)
            if self.is_workday(d):
                return d
        raise ValueError("no working day within the calendar range")

    # --- deadlines --------------------------------------------------------------------
    def add(self, start: datetime, amount, unit: str) -> tuple[datetime, bool]:
        """The deadline `amount` `unit`s after `start` (aware), and whether every day it
        crossed is confirmed."""
        unit = Unit(unit)
        if amount < 0:
            raise ValueError("negative limit")
        if unit is Unit.CALENDAR_HOURS:
            return start + timedelta(hours=float(amount)), True
        if unit is Unit.CALENDAR_DAYS:
            return start + timedelta(days=float(amount)), True
        local = start.astimezone(self.tz)
        if unit is Unit.WORKING_HOURS:
            return self._add_working_hours(local, timedelta(hours=float(amount)))
        return self._add_working_days(local, int(amount))

    def _bounds(self, d: date) -> tuple[datetime, datetime]:
        return datetime.combine(d, self.start, self.tz), datetime.combine(d, self.end, self.tz)

    def _add_working_hours(self, t: datetime, remaining: timedelta) -> tuple[datetime, bool]:
        confirmed = True
        d = t.date()
        for _ in range(MAX_DAYS):
            working, sure = self.day(d)
            confirmed = confirmed and sure
            if working:
                opens, closes = self._bounds(d)
                begin = max(t, opens)
                if begin < closes:
                    if remaining <= closes - begin:
                        return begin + remaining, confirmed
                    remaining -= closes - begin
            d += timedelta(days=1)
            t = datetime.combine(d, time(0), self.tz)
        raise ValueError("limit beyond the calendar range")

    def _add_working_days(self, t: datetime, n: int) -> tuple[datetime, bool]:
        confirmed = True
        d = t.date()
        working, sure = self.day(d)
        confirmed = confirmed and sure
        opens, closes = self._bounds(d)
        if not working or t >= closes:          # after hours or a day off: from the next working morning
            d, sure = self._next_workday(d)
            confirmed = confirmed and sure
            t = self._bounds(d)[0]
        elif t < opens:
            t = opens
        clock = t.timetz()
        for _ in range(n):
            d, sure = self._next_workday(d)
            confirmed = confirmed and sure
        return datetime.combine(d, clock.replace(tzinfo=None), self.tz), confirmed

    def _next_workday(self, d: date) -> tuple[date, bool]:
        confirmed = True
        for _ in range(MAX_DAYS):
            d += timedelta(days=1)
            working, sure = self.day(d)
            confirmed = confirmed and sure
            if working:
                return d, confirmed
        raise ValueError("no working day within the calendar range")

    def working_time_between(self, a: datetime, b: datetime) -> timedelta:
        """Working time from a to b (negative when b is earlier): for countdowns."""
        if b < a:
            return -self.working_time_between(b, a)
        total = timedelta()
        a, b = a.astimezone(self.tz), b.astimezone(self.tz)
        d = a.date()
        while d <= b.date():
            if self.is_workday(d):
                opens, closes = self._bounds(d)
                lo, hi = max(a, opens), min(b, closes)
                if hi > lo:
                    total += hi - lo
            d += timedelta(days=1)
        return total


_COVERAGE: dict[int, bool] = {}


def _covered(year: int) -> bool:
    if year not in _COVERAGE:
        _COVERAGE[year] = package_covers(year)
    return _COVERAGE[year]


def load(session, tz: ZoneInfo) -> WorkingCalendar:
    """The company calendar with its overrides and imported years, from the database."""
    from models.calendar import CalendarDay
    rows = session.scalars(select(CalendarDay)).all()
    imported = frozenset(r.day.year for r in rows if r.source == "import")
    return WorkingCalendar(tz=tz, days={r.day: r.workday for r in rows}, imported_years=imported)


def uncovered_years(session, today: date, ahead: int = 1) -> list[int]:
    """Years from this one to `ahead` years on that neither the package nor an import covers:
    the admin banner asks for these."""
    from models.calendar import CalendarDay
    imported = {d.year for d in session.scalars(select(CalendarDay.day).where(CalendarDay.source == "import"))}
    return [y for y in range(today.year, today.year + ahead + 1) if not _covered(y) and y not in imported]


# --- importing an official arrangement ---------------------------------------------------

KINDS = {"holiday": False, "放假": False, "休": False, "workday": True, "上班": True, "班": True}


def parse_arrangement(text: str) -> list[tuple[date, bool, str]]:
    """Rows "date,kind,name" (kind: holiday/放假 or workday/上班); a header line is allowed.
    Raises InvalidInput with the line number for anything else."""
    rows = []
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    for number, fields in enumerate(reader, start=1):
        fields = [f.strip() for f in fields]
        if not any(fields) or fields[0].startswith("#"):
            continue
        if number == 1 and fields[0].lower() in ("date", "日期"):
            continue
        if len(fields) < 2:
            raise InvalidInput(N_("第 %(line)d 行：需要“日期,类型”两列。"), field="file", line=number)
        try:
            day = date.fromisoformat(fields[0])
        except ValueError:
            raise InvalidInput(N_("第 %(line)d 行：日期格式不对，例如 2027-10-01。"), field="file", line=number) from None
        if fields[1].lower() not in KINDS:
            raise InvalidInput(N_("第 %(line)d 行：类型须是 holiday（放假）或 workday（上班）。"), field="file", line=number)
        rows.append((day, KINDS[fields[1].lower()], (fields[2] if len(fields) > 2 else "")[:40] or None))
    if not rows:
        raise InvalidInput(N_("文件里没有日期。"), field="file")
    years = {d.year for d, _w, _n in rows}
    if len(years) != 1:
        raise InvalidInput(N_("一个文件只能包含一个年份的安排。"), field="file")
    return rows


def store_arrangement(session, actor, text: str, now: datetime) -> tuple[int, int]:
    """Store a year's official arrangement (replacing an earlier import of that year).
    Returns (year, days). An import is clocks.import_calendar: this, then the deadlines that were
    estimated without it computed again."""
    from sqlalchemy import delete, extract

    from domain import audit
    from models.calendar import CalendarDay
    rows = parse_arrangement(text)
    year = rows[0][0].year
    session.execute(delete(CalendarDay).where(CalendarDay.source == "import",
                                              extract("year", CalendarDay.day) == year))
    admin_days = set(session.scalars(select(CalendarDay.day).where(CalendarDay.source == "admin")))
    for day, workday, name in rows:
        if day not in admin_days:   # the company's own overrides win
            session.add(CalendarDay(day=day, workday=workday, source="import", name=name,
                                    updated_at=now, updated_by_id=actor.id if actor else None))
    audit.record(session, audit.CALENDAR_CHANGED, actor_id=actor.id if actor else None,
                 target=f"calendar:{year}", now=now, action="import", days=len(rows))
    return year, len(rows)


def set_override(session, actor, day: date, workday: bool, name: str | None = None, *, now: datetime) -> None:
    """An admin's own holiday or extra working day (e.g. 公司年会, 盘点日)."""
    from domain import audit
    from models.calendar import CalendarDay
    row = session.get(CalendarDay, day) or CalendarDay(day=day)
    row.workday, row.source, row.name = workday, "admin", (name or "")[:40] or None
    row.updated_at, row.updated_by_id = now, actor.id if actor else None
    session.add(row)
    audit.record(session, audit.CALENDAR_CHANGED, actor_id=actor.id if actor else None,
                 target=f"calendar:{day.isoformat()}", now=now, action="override", workday=workday)
