"""Every user-visible string has an English translation (source strings are Chinese)."""
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[1]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "N_": None, "lazy_gettext": None}
METHODS = [("**/.venv/**", "ignore"), ("**/tests/**", "ignore"), ("**/migrations/**", "ignore"),
           ("**/bench/**", "ignore"), ("**.py", "python"), ("templates/**.html", "jinja2")]


def test_every_message_is_translated_to_english():
    with open(ROOT / "translations" / "en" / "LC_MESSAGES" / "messages.po", "rb") as fh:
        catalogue = read_po(fh)
    translated = {m.id for m in catalogue if m.id and m.string}
    found = set()
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
            str(ROOT), METHODS, keywords=KEYWORDS):
        found.add(message if isinstance(message, str) else message[0])
    assert len(found) > 150  # the extraction really read the code and templates
    missing = sorted(m for m in found if m not in translated)
    assert not missing, f"run pybabel extract/update and translate: {missing}"
