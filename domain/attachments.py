"""Photos, scans and recordings attached to a complaint (SPEC §2, §10 reliability).

A file is accepted by what its bytes are, never by its name or the browser's claim: JPEG,
PNG, GIF, WebP (decoded by Pillow to be sure), PDF, and the usual recording formats. The
original is kept untouched as evidence, under a random key outside the web root; photos also
get a downscaled, EXIF-free copy for display and a thumbnail. The caller serves files only
through a route that checks the viewer's scope.

Files come with the intake form and, later, with the workflow's forms (evidence, the answer's
letter: domain/workflow/files.py); both keep them pending under the form's token until the
complaint or the action claims them. A form takes at most MAX_FILES (the intake's nine photos);
a complaint holds at most MAX_TOTAL over its whole life, so evidence added at later stages still
fits after a full intake.
"""
from __future__ import annotations

import hashlib
import io
import os
import uuid
import warnings
from datetime import datetime
from pathlib import Path, PurePath

from sqlalchemy import func, select, update

from domain.errors import InvalidInput, N_
from domain.text import clean
from models.attachment import Attachment

MAX_BYTES = 15 * 1024 * 1024   # one file; a 12-megapixel tablet photo is 3–6 MB
MAX_FILES = 9                  # per form: the intake's photos, or one upload later on
MAX_TOTAL = 30                 # per complaint: intake + the evidence of every later stage
MAX_PIXELS = 50_000_000        # anything larger is not a photo from a tablet (or is a bomb)
DISPLAY_SIZE = 1600
THUMB_SIZE = 360
VARIANTS = ("original", "display", "thumb")

IMAGE_MIME = {"JPEG": "image/jpeg", "PNG": "image/png", "GIF": "image/gif", "WEBP": "image/webp"}


def sniff(head: bytes) -> tuple[str, str] | None:
    """(kind, mime) from the first bytes of a file, or None when it is none of ours."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image", "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image", "image/png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image", "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image", "image/webp"
    if head.startswith(b"%PDF-1.") or head.startswith(b"%PDF-2."):
        return "pdf", "application/pdf"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "audio", "audio/wav"
    if head.startswith(b"#!AMR"):
        return "audio", "audio/amr"
    if (head.startswith(b"ID3") and len(head) > 5 and head[3] in (2, 3, 4) and head[4] == 0) \
            or head[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2", b"\xff\xfa"):
        return "audio", "audio/mpeg"
    if head[4:8] == b"ftyp" and head[8:11] in (b"M4A", b"m4a"):
        return "audio", "audio/mp4"
    return None


EXTENSIONS = {"image/jpeg": ".jpg", "image/png": ".png", "image/gif": ".gif", "image/webp": ".webp",
              "application/pdf": ".pdf", "audio/wav": ".wav", "audio/amr": ".amr", "audio/mpeg": ".mp3",
              "audio/mp4": ".m4a"}
ALSO_FINE = {".jpeg": "image/jpeg", ".jfif": "image/jpeg"}


def _named_for(name: str, mime: str) -> str:
    """The name with an extension that says what the content is: "x.html" holding MP3 bytes is
    kept as "x.html.mp3", so no program ever opens it as a web page."""
    stem, dot, ext = name.rpartition(".")
    ext = "." + ext.lower() if dot else ""
    if ext == EXTENSIONS[mime] or ALSO_FINE.get(ext) == mime:
        return name
    return (name + EXTENSIONS[mime])[-120:]


def _clean_name(filename: str | None) -> str:
    name = clean(PurePath((filename or "").replace("\\", "/")).name) or "file"
    if len(name) > 120:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: 110] + "…." + ext[:8]) if dot and len(ext) <= 8 else name[:120]
    return name


def _image_variants(data: bytes):
    """(width, height, display JPEG, thumbnail JPEG) for a real image; InvalidInput otherwise."""
    from PIL import Image, ImageOps

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(io.BytesIO(data)) as probe:
                if probe.format not in IMAGE_MIME:
                    raise ValueError(probe.format)
                if probe.width * probe.height > MAX_PIXELS:
                    raise InvalidInput(N_("照片像素太大（超过 5000 万像素），请用平板相机重新拍。"), field="photos")
                probe.verify()
            with Image.open(io.BytesIO(data)) as img:
                if img.format == "JPEG":
                    img.draft("RGB", (DISPLAY_SIZE, DISPLAY_SIZE))  # decode at a fraction: fast
                img.load()
                width, height = img.size
                img = ImageOps.exif_transpose(img)
                if img.mode not in ("RGB", "L"):
                    background = Image.new("RGB", img.size, "white")
                    rgba = img.convert("RGBA")
                    background.paste(rgba, mask=rgba.getchannel("A"))
                    img = background
                out = []
                for size in (DISPLAY_SIZE, THUMB_SIZE):
                    copy = img.copy()
                    copy.thumbnail((size, size))
                    buf = io.BytesIO()
                    copy.save(buf, "JPEG", quality=82, optimize=True)  # no EXIF: no GPS, no device
                    out.append(buf.getvalue())
    except InvalidInput:
        raise
    except Exception:
        raise InvalidInput(N_("这张照片已损坏或无法识别，没有保存，请重新拍照。"), field="photos") from None
    return width, height, out[0], out[1]


def _write(root: Path, key: str, data: bytes) -> None:
    path = root / key
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


def store(session, root: Path, actor, stream, filename: str | None, token: str, *, now: datetime,
          already: int = 0, on_record: int = 0, field: str = "photos") -> Attachment | None:
    """Check and keep one uploaded file as pending under the form's token.

    `already`: the files pending with this form; `on_record`: those the complaint has. None for a
    file field left empty (no file chosen). InvalidInput (on `field`) when the file is empty (a
    photo that was not saved: the clerk must not believe it is attached), too big, not what we
    accept, or one too many; nothing is written then."""
    data = stream.read(MAX_BYTES + 1)
    if not data and not (filename or "").strip():
        return None
    name = _clean_name(filename)
    if not data:
        raise InvalidInput(N_("“%(name)s”：文件是空的（0 字节），请重新拍照或选择文件。"), field=field, name=name)
    if on_record + already >= MAX_TOTAL:
        raise InvalidInput(N_("这条投诉的附件已达上限（%(max)d 个），“%(name)s”没有保存。"), field=field,
                           max=MAX_TOTAL, name=name)
    if already >= MAX_FILES:
        raise InvalidInput(N_("一次最多上传 %(max)d 个文件，“%(name)s”没有保存；其余的请提交后再添加。"), field=field,
                           max=MAX_FILES, name=name)
    if len(data) > MAX_BYTES:
        raise InvalidInput(N_("“%(name)s”超过 15 MB，没有保存。请压缩后再上传。"), field=field, name=name)
    found = sniff(data[:16])
    if found is None:
        raise InvalidInput(N_("“%(name)s”不是照片、PDF 或录音文件，没有保存。"), field=field, name=name)
    kind, mime = found
    if kind == "pdf" and b"%%EOF" not in data[-2048:]:
        raise InvalidInput(N_("“%(name)s”不是完整的 PDF 文件，没有保存。"), field=field, name=name)
    name = _named_for(name, mime)
    width = height = display = thumb = None
    if kind == "image":
        width, height, display, thumb = _image_variants(data)

    key = f"{now:%Y/%m}/{uuid.uuid4().hex}"
    _write(root, key, data)
    if display is not None:
        _write(root, key + ".display.jpg", display)
        _write(root, key + ".thumb.jpg", thumb)
    row = Attachment(intake_token=token, uploaded_by_id=actor.id, uploaded_at=now, name=name, kind=kind,
                     mime=mime, size=len(data), sha256=hashlib.sha256(data).hexdigest(), key=key,
                     width=width, height=height)
    session.add(row)
    session.flush()
    return row


def _by(actor):
    """Uploaded by `actor` — a user, or the customer (no user id: the public pages)."""
    return Attachment.uploaded_by_id.is_(None) if actor.id is None else Attachment.uploaded_by_id == actor.id


def pending(session, token: str, actor) -> list[Attachment]:
    """Files uploaded with a form that has not been registered yet (shown again with it)."""
    if not token:
        return []
    return list(session.scalars(select(Attachment).where(
        Attachment.intake_token == token, _by(actor), Attachment.complaint_id.is_(None)).order_by(Attachment.id)))


def claim(session, token: str, actor, complaint) -> int:
    """Attach the pending files of the form `token` to the complaint just registered."""
    result = session.execute(update(Attachment).where(
        Attachment.intake_token == token, _by(actor), Attachment.complaint_id.is_(None)).values(complaint_id=complaint.id, intake_token=None)
        .execution_options(synchronize_session=False))
    return result.rowcount


def claim_later(session, token: str, actor, complaint) -> list[Attachment]:
    """Attach the pending files of a workflow form `token` to `complaint`, noting its stage now."""
    rows = pending(session, token, actor)
    for row in rows:
        row.complaint_id, row.intake_token, row.stage = complaint.id, None, complaint.stage
    return rows


def count(session, complaint_id: int | None) -> int:
    """How many files a complaint holds."""
    if complaint_id is None:
        return 0
    return session.scalar(select(func.count()).select_from(Attachment).where(Attachment.complaint_id == complaint_id))


def discard(session, root: Path, attachment: Attachment) -> None:
    """Remove a pending file (the clerk took it off the form). Claimed files are never deleted."""
    if attachment.complaint_id is not None:
        raise ValueError("claimed attachments are kept")
    for variant in VARIANTS:
        file_path(root, attachment, variant).unlink(missing_ok=True)
    session.delete(attachment)


def file_path(root: Path, attachment: Attachment, variant: str = "original") -> Path:
    if variant not in VARIANTS:
        raise ValueError(variant)
    if variant != "original" and attachment.kind != "image":
        variant = "original"
    suffix = {"original": "", "display": ".display.jpg", "thumb": ".thumb.jpg"}[variant]
    return root / (attachment.key + suffix)
