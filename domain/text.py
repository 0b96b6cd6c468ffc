"""Cleaning typed text: what a person could not see must not make a value "filled in"."""
import re
import unicodedata

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
