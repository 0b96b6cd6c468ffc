import pytest

from domain.text import clean


@pytest.mark.parametrize("raw,single,multi", [
    ("  王女士 ", "王女士", "王女士"),
    ("\u3000张伟\u3000", "张伟", "张伟"),              # full-width spaces
    ("\u200b", "", ""),                                # only invisible characters: empty
    ("李\u200d娜\ufeff", "李娜", "李娜"),
    ("第一行\r\n第二行", "第一行 第二行", "第一行\r\n第二行"),
    ("bell\x07 and tab\t", "bell and tab", "bell and tab"),
    ("e\u0301", "\u00e9", "\u00e9"),                     # NFC
])
def test_clean(raw, single, multi):
    assert clean(raw) == single
    assert clean(raw, multiline=True) == multi
