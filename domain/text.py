"""Cleaning typed text: what a person could not see must not make a value "filled in"."""
import re
import unicodedata

# Zero-width and direction marks, BOM; control characters other than tab and newline.
_INVISIBLE = re.compile(r"[\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean(value: str | None, multiline: bool = False) -> str:
    """NFC-normalised, invisible characters removed, outer whitespace (also full-width) stripped;
    single-line values get their line breaks turned into spaces."""
    value = unicodedata.normalize("NFC", value or "")
    value = _INVISIBLE.sub("", value)
    if not multiline:
        value = re.sub(r"\s*[\r\n]+\s*", " ", value)
    return value.strip()
