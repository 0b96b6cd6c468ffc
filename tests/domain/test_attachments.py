import io
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select

from domain import attachments
from domain.errors import InvalidInput
from models import utcnow
from models.user import User
from tests.conftest import UPLOAD_DIR


def image(fmt, size=(40, 30), mode="RGB"):
    buf = io.BytesIO()
    Image.new(mode, size).save(buf, fmt)
    return buf.getvalue()


@pytest.mark.parametrize("data, expected", [
    (image("JPEG"), ("image", "image/jpeg")),
    (image("PNG", mode="RGBA"), ("image", "image/png")),
    (image("GIF", mode="P"), ("image", "image/gif")),
    (image("WEBP"), ("image", "image/webp")),
    (b"%PDF-1.7\n...", ("pdf", "application/pdf")),
    (b"RIFF\x24\x00\x00\x00WAVEfmt ", ("audio", "audio/wav")),
    (b"ID3\x04\x00\x00\x00", ("audio", "audio/mpeg")),
    (b"#!AMR\n", ("audio", "audio/amr")),
    (b"MZ\x90\x00\x03", None),
    (b"<html><script>", None),
    (b"PK\x03\x04", None),
])
def test_sniff_decides_by_content(data, expected):
    assert attachments.sniff(data[:16]) == expected


def clerk(session):
    return session.scalar(select(User).where(User.username == "receiver"))


def test_store_keeps_original_and_makes_clean_variants(session, company):
    root = Path(UPLOAD_DIR)
    png = image("PNG", size=(2400, 1800), mode="RGBA")
    row = attachments.store(session, root, clerk(session), io.BytesIO(png), "../../etc/passwd 照片.png", "a" * 32,
                            now=utcnow())
    assert row.name == "passwd 照片.png" and ".." not in row.key and row.mime == "image/png"
    assert attachments.file_path(root, row).read_bytes() == png
    with Image.open(attachments.file_path(root, row, "display")) as display:
        assert display.format == "JPEG" and max(display.size) == attachments.DISPLAY_SIZE


def test_store_refuses_bombs_empty_and_too_many(session, company, monkeypatch):
    root = Path(UPLOAD_DIR)
    assert attachments.store(session, root, clerk(session), io.BytesIO(b""), "", "b" * 32,
                             now=utcnow()) is None                      # a file field left empty
    with pytest.raises(InvalidInput) as err:                               # a 0-byte file: said, not dropped
        attachments.store(session, root, clerk(session), io.BytesIO(b""), "empty.jpg", "b" * 32, now=utcnow())
    assert "0 字节" in err.value.message
    monkeypatch.setattr(attachments, "MAX_PIXELS", 100)
    with pytest.raises(InvalidInput) as err:
        attachments.store(session, root, clerk(session), io.BytesIO(image("PNG", size=(20, 20))), "big.png", "b" * 32,
                          now=utcnow())
    assert "像素太大" in err.value.message
    with pytest.raises(InvalidInput):
        attachments.store(session, root, clerk(session), io.BytesIO(image("PNG")), "x.png", "b" * 32, now=utcnow(),
                          already=attachments.MAX_FILES)
