import pytest

from domain.text import clean


@pytest.mark.parametrize("raw,single,multi", [
    ("  王女士 ", "王女士", "王女士"),
    ("\u3000张伟\u3000", "张伟", "张伟"),              # full-width spaces
    ("\u200b", "", ""),                                # only invisible characters: empty
    ("李\u200d娜\ufeff", "李娜", "李娜"),
    ("第一行\r\n第二行", "第一行 第二行", "第一行\n第二行"),  # one break, as the browser counts it
    ("bell\x07 and tab\t", "bell and tab", "bell and tab"),
    ("e\u0301", "\u00e9", "\u00e9"),                     # NFC
])
def test_clean(raw, single, multi):
    assert clean(raw) == single
    assert clean(raw, multiline=True) == multi


@pytest.mark.parametrize("raw, expected", [
    ("12", 12), (" ４２ ", 42), ("0", 0), (7, 7), ("²", None), ("①", None), ("-1", None), ("1e3", None),
    ("3.5", None), ("", None), (None, None), ("1234567890", None), (True, None),
])
def test_small_int(raw, expected):
    from domain.text import small_int
    assert small_int(raw) == expected
