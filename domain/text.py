"""Cleaning typed text: what a person could not see must not make a value "filled in"."""
import re
import unicodedata

from domain.errors import N_, InvalidInput

# Zero-width and direction marks, BOM; control characters other than tab and newline.
_INVISIBLE = re.compile(r"[\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


_INT = re.compile(r"[0-9]{1,9}")
_FULL_WIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")


def small_int(value) -> int | None:
    """A typed whole number 0–999,999,999 (full-width digits allowed), else None. Never raises:
    "²", "①", "1e3", "-1" are simply not numbers here."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value if 0 <= value < 10**9 else None
    text = str(value or "").translate(_FULL_WIDTH_DIGITS).strip()
    return int(text) if _INT.fullmatch(text) else None


def clean(value: str | None, multiline: bool = False) -> str:
    """NFC-normalised, invisible characters removed, outer whitespace (also full-width) stripped;
    single-line values get their line breaks turned into spaces."""
    value = unicodedata.normalize("NFC", value or "")
    value = value.replace("\r\n", "\n").replace("\r", "\n")  # a line break is one character, as in the browser
    value = _INVISIBLE.sub("", value)
    if not multiline:
        value = re.sub(r"\s*[\r\n]+\s*", " ", value)
    return value.strip()


def checked(value, field: str, limit: int, *, required: bool = False, multiline: bool = True,
            message: str | None = None, too_long: str | None = None) -> str | None:
    """Typed text, cleaned; "" → None. A required one left empty → `message` (or 请填写这一项。);
    longer than `limit` characters → `too_long` (or 最多 N 个字。). Raises InvalidInput on `field`."""
    value = clean(value, multiline=multiline)
    if required and not value:
        raise InvalidInput(message or N_("请填写这一项。"), field=field)
    if len(value) > limit:
        raise InvalidInput(too_long or N_("最多 %(max)d 个字。"), field=field, max=limit)
    return value or None
