"""Query-string values read safely: a bad or absurd value is a default, never a database error."""
from __future__ import annotations

from datetime import date

from flask import request

from blueprints._access import MAX_ID
from domain.text import small_int


def bounded_int(name: str, default: int, low: int = 1, high: int = MAX_ID) -> int:
    """An integer query parameter clamped to a sane range (page numbers, cursors)."""
    value = request.args.get(name, default, type=int)
    return min(max(value, low), high)


def int_arg(name: str) -> int | None:
    """An id in the query string, or None."""
    value = small_int(request.args.get(name, ""))
    return value if value and value <= MAX_ID else None


def date_arg(name: str) -> tuple[date | None, bool]:
    """(the date in the query string or None, whether what was given was not a usable date)."""
    value = request.args.get(name, "").strip()
    try:
        day = date.fromisoformat(value) if value else None
    except ValueError:
        return None, True
    if day and not date(2000, 1, 1) <= day <= date(2100, 1, 1):
        return None, True
    return day, False
