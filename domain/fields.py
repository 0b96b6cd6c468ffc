"""Typed input for the domain's steps (workflow actions, penalty steps): a frozen dataclass per
step, read from a submitted form by the fields' types — no Flask here, any mapping with .get."""
from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass
from datetime import date

from domain.text import small_int

MAX_ID = 2**31 - 1      # PostgreSQL integer: a larger id is "not found", never a database error


@dataclass(frozen=True)
class Fields:
    """An action's input. `from_form` reads a form (any mapping with .get) by the fields' types:
    int → an id (None when empty, -1 — refused by the rules — when not a number), date → ISO date
    or None, bool → anything but "0" is yes, bool | None → yes/no or None, str → as typed."""

    @classmethod
    def from_form(cls, form, complaint) -> Fields:
        hints = typing.get_type_hints(cls)
        return cls(**{f.name: _parse(form.get(f.name), hints[f.name]) for f in dataclasses.fields(cls)})


def _parse(raw, hint):
    if hint in (int, int | None):
        text = (raw or "").strip()
        if not text:
            return None
        value = small_int(text)
        return value if value is not None and value <= MAX_ID else -1
    if hint in (date, date | None):
        try:
            return date.fromisoformat((raw or "").strip())
        except ValueError:
            return None
    if hint is bool:
        return raw != "0"
    if hint == bool | None:
        return {"yes": True, "1": True, "no": False, "0": False}.get(raw)
    return raw


# Fields many steps share.

@dataclass(frozen=True)
class Comment(Fields):
    comment: str | None = None


@dataclass(frozen=True)
class Note(Fields):
    note: str | None = None


@dataclass(frozen=True)
class Reason(Fields):
    reason: str | None = None
