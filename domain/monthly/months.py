"""Company-time calendar months as "YYYY-MM" strings: parsing, bounds in time, neighbours."""
from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from domain.errors import N_, InvalidInput

MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")
FIRST_YEAR = 2000


def parse(text: str | None) -> date:
    """"2026-11" → date(2026, 11, 1); InvalidInput for anything else."""
    match = MONTH_RE.match((text or "").strip())
    if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < FIRST_YEAR:
        raise InvalidInput(N_("月份格式不对，请按 2026-11 的格式填写。"), field="month")
    return date(int(match.group(1)), int(match.group(2)), 1)


def name(first: date) -> str:
    return f"{first.year:04d}-{first.month:02d}"


def shift(first: date, months: int) -> date:
    index = first.year * 12 + first.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def last_day(first: date) -> date:
    return shift(first, 1) - timedelta(days=1)


def bounds(first: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """[first day 00:00, next month's first day 00:00) in company time."""
    return datetime.combine(first, time(), tz), datetime.combine(shift(first, 1), time(), tz)


def this_month(local_day: date) -> date:
    return local_day.replace(day=1)


def last_month(local_day: date) -> date:
    return shift(this_month(local_day), -1)


def recent(local_day: date, n: int = 24) -> list[date]:
    """This month and the n-1 before it, newest first (the page's month picker)."""
    first = this_month(local_day)
    return [shift(first, -i) for i in range(n)]
