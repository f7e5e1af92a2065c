"""Attachment checks: the type comes from the content, never the name; metadata and active content go.

Accepted: PDF, JPEG, PNG, WebP, OpenDocument text, Word (.docx), plain text. Every file is
inspected and cleaned by `inspection.py` in a child process under hard limits (address space,
CPU time, output size, and a wall-clock timeout), so that one file (a zip bomb, a pixel bomb, a
PDF that sends a decoder into a loop) costs this process only the wait: see `inspection` for what
is checked and removed per type.

The upload itself is copied to a temporary file in chunks (`receive`): its size is counted while
copying and never more than one chunk is held at a time.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from . import inspection

ALLOWED = {
    "application/pdf": ".pdf",
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/webp": ".webp",
    "application/vnd.oasis.opendocument.text": ".odt",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
    "text/plain": ".txt",
}

CHUNK = 64 * 1024
INSPECTOR = Path(inspection.__file__).resolve()
# Default limits of one inspection; the web layer passes the settings (ATTACHMENT_CHECK_*).
CHECK_MEMORY_BYTES = 256 * 1024 * 1024
CHECK_SECONDS = 5.0


class AttachmentError(ValueError):
    """`reason` is a short code the web layer turns into a translated message.

    empty, too_large, type, unreadable_image, too_many_pixels, archive_bomb, active_content,
    remote_content, encrypted, unreadable_pdf, too_complex."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


@dataclass(frozen=True)
class CheckedFile:
    name: str
    mime: str
    data: bytes


def sniff(data: bytes) -> str | None:
    """The accepted type of `data`, or None (identification only: bounded reads, nothing cleaned)."""
    with tempfile.NamedTemporaryFile(prefix="portal-sniff-") as f:
        f.write(data)
        f.flush()
        return inspection.sniff_path(f.name)


def safe_name(name: str, mime: str) -> str:
    base = re.sub(r"[^\w.\- ]+", "_", (name or "").rsplit("/", 1)[-1].rsplit("\\", 1)[-1]).strip(" .") or "document"
    stem = base.rsplit(".", 1)[0][:80] or "document"
    return stem + ALLOWED[mime]


def receive(stream, out, *, max_bytes: int) -> int:
    """Copy an upload `stream` into the file `out` one chunk at a time; raise too_large past
    `max_bytes` (without reading further) and empty for nothing. Returns the size."""
    size = 0
    while True:
        chunk = stream.read(min(CHUNK, max_bytes + 1 - size))
        if not chunk:
            break
        size += len(chunk)
        if size > max_bytes:
            raise AttachmentError("too_large")
        out.write(chunk)
    out.flush()
    if size == 0:
        raise AttachmentError("empty")
    return size


def inspect_file(src: str | os.PathLike, dst: str | os.PathLike, *, max_bytes: int,
                 memory_bytes: int = CHECK_MEMORY_BYTES, seconds: float = CHECK_SECONDS) -> str:
    """Run the inspector on `src` in a child process under limits; the cleaned file is written to
    `dst`. Returns the type, or raises AttachmentError."""
    cpu = max(1, int(seconds))
    # The cleaned file may be somewhat larger than the original (re-encoded images), never much.
    output = 2 * max_bytes + 1024 * 1024
    try:
        done = subprocess.run(
            [sys.executable, "-I", str(INSPECTOR), os.fspath(src), os.fspath(dst), str(memory_bytes), str(cpu),
             str(output)],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            timeout=seconds, close_fds=True, env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")})
    except subprocess.TimeoutExpired:
        raise AttachmentError("too_complex") from None
    try:
        result = json.loads(done.stdout.decode().strip().splitlines()[-1])
    except (ValueError, IndexError):
        result = {}
    if done.returncode != 0 or not isinstance(result, dict) or not result:
        raise AttachmentError("too_complex")
    if "refused" in result:
        raise AttachmentError(str(result["refused"]))
    mime = result.get("mime")
    if mime not in ALLOWED:
        raise AttachmentError("type")
    if os.path.getsize(dst) > max_bytes:
        # A re-encoded image grew past the limit: say so rather than store more than promised.
        raise AttachmentError("too_large")
    return mime


def check_upload(name: str, stream, *, max_bytes: int, memory_bytes: int = CHECK_MEMORY_BYTES,
                 seconds: float = CHECK_SECONDS) -> CheckedFile:
    """Receive, inspect and clean one upload read from `stream`."""
    with tempfile.TemporaryDirectory(prefix="portal-upload-") as tmp:
        src, dst = Path(tmp, "in"), Path(tmp, "out")
        with open(src, "wb") as out:
            receive(stream, out, max_bytes=max_bytes)
        mime = inspect_file(src, dst, max_bytes=max_bytes, memory_bytes=memory_bytes, seconds=seconds)
        src.unlink()
        data = dst.read_bytes()
    if not data:
        raise AttachmentError("empty")
    return CheckedFile(safe_name(name, mime), mime, data)


def check(name: str, data: bytes, *, max_bytes: int, memory_bytes: int = CHECK_MEMORY_BYTES,
          seconds: float = CHECK_SECONDS) -> CheckedFile:
    """`check_upload` for bytes already in memory."""
    import io
    return check_upload(name, io.BytesIO(data), max_bytes=max_bytes, memory_bytes=memory_bytes, seconds=seconds)
