"""Attachment checks: the type comes from the content, never the name; image metadata is removed.

Accepted: PDF, JPEG, PNG, WebP, OpenDocument text, Word (.docx), plain text. Images are decoded
and re-encoded without EXIF/GPS/XMP (after applying their orientation), which also rejects
files that only pretend to be images.
"""
from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass

ALLOWED = {
    "application/pdf": ".pdf",
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/webp": ".webp",
    "application/vnd.oasis.opendocument.text": ".odt",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
    "text/plain": ".txt",
}


class AttachmentError(ValueError):
    """`reason` is a short code the web layer turns into a translated message."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


@dataclass(frozen=True)
class CheckedFile:
    name: str
    mime: str
    data: bytes


def sniff(data: bytes) -> str | None:
    head = data[:64]
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                names = set(z.namelist())
                if "mimetype" in names and z.read("mimetype").strip() == b"application/vnd.oasis.opendocument.text":
                    return "application/vnd.oasis.opendocument.text"
                if "word/document.xml" in names and "[Content_Types].xml" in names:
                    return "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        except (zipfile.BadZipFile, OSError, KeyError):
            return None
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if "\x00" in text:
        return None
    return "text/plain"


def _strip_image(data: bytes, mime: str) -> bytes:
    from PIL import Image, ImageOps, UnidentifiedImageError
    Image.MAX_IMAGE_PIXELS = 60_000_000
    try:
        with Image.open(io.BytesIO(data)) as img:
            img.load()
            img = ImageOps.exif_transpose(img)
            fmt = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}[mime]
            # Rebuild from the pixels alone: nothing of the original's metadata survives.
            clean = Image.frombytes(img.mode, img.size, img.tobytes())
            if img.mode == "P" and img.getpalette():
                clean.putpalette(img.getpalette())
            if fmt == "JPEG" and clean.mode not in ("RGB", "L", "CMYK"):
                clean = clean.convert("RGB")
            out = io.BytesIO()
            clean.save(out, format=fmt, **({"quality": 90} if fmt in ("JPEG", "WEBP") else {}))
            return out.getvalue()
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        raise AttachmentError("unreadable_image") from None


def safe_name(name: str, mime: str) -> str:
    base = re.sub(r"[^\w.\- ]+", "_", (name or "").rsplit("/", 1)[-1].rsplit("\\", 1)[-1]).strip(" .") or "document"
    stem = base.rsplit(".", 1)[0][:80] or "document"
    return stem + ALLOWED[mime]


def check(name: str, data: bytes, *, max_bytes: int) -> CheckedFile:
    if not data:
        raise AttachmentError("empty")
    if len(data) > max_bytes:
        raise AttachmentError("too_large")
    mime = sniff(data)
    if mime is None or mime not in ALLOWED:
        raise AttachmentError("type")
    if mime.startswith("image/"):
        data = _strip_image(data, mime)
    return CheckedFile(safe_name(name, mime), mime, data)
