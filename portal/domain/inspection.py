"""Inspecting and cleaning one uploaded file, with bounded cost.

This module runs in a child process (`python inspection.py SRC DST`, started by
`attachments.check_path`) under hard limits set before anything else is imported: address space
(RLIMIT_AS), CPU time (RLIMIT_CPU) and the size of what it may write (RLIMIT_FSIZE); the parent
adds a wall-clock timeout. Whatever a file does to the decoders, it can only kill this child.

It imports nothing from the portal package (so the child starts without Flask) and only the
standard library until it knows which decoder a file needs.

What it does, by type (the type comes from the content, never the name):
- every type: reads a bounded head to identify it; never inflates more than needed to do so;
- images (JPEG, PNG, WebP): the pixel count is read from the header and refused above
  MAX_PIXELS before any decoding; large JPEGs are decoded at a reduced scale; then rebuilt from
  the pixels alone (no EXIF, GPS, XMP, ICC or text chunks), orientation applied;
- OpenDocument text and Word (.docx): the archive's directory is checked first (number of
  entries, each entry's claimed size and ratio, the total), then the archive is rewritten entry by
  entry with bounded reads: document metadata emptied, macros, embedded programs and remote
  content refused, a remote template (attachedTemplate) removed;
- PDF (pikepdf): document information and XMP metadata removed; JavaScript, automatic actions
  (OpenAction, AA), launch/submit actions, embedded files and XFA forms removed; the result is
  scanned again and refused if anything active is left;
- plain text: must be UTF-8 without NUL bytes (decoded incrementally), kept as sent.

The result is written to DST and one JSON line to stdout: {"mime": ...} or {"refused": reason}.
"""
from __future__ import annotations

import json
import os
import re
import sys

# Limits (the parent passes the memory and CPU limits on the command line) -----------------------

MAX_PIXELS = 40_000_000          # refused above this, from the header, before any decoding
DECODE_PIXELS = 16_000_000       # decoded at most this many pixels (JPEG: at a reduced scale)
ZIP_MAX_ENTRIES = 1_000
ZIP_MAX_ENTRY_BYTES = 50 * 1024 * 1024     # claimed uncompressed size of one entry
ZIP_MAX_TOTAL_BYTES = 100 * 1024 * 1024    # claimed uncompressed size of all entries
ZIP_MAX_RATIO = 100                        # claimed uncompressed / compressed, per entry (above 1 MB)
ZIP_RATIO_FLOOR = 1024 * 1024              # small entries may compress better (runs of spaces)
XML_PART_MAX_BYTES = 2 * 1024 * 1024       # relationship and settings parts we read whole
CHUNK = 64 * 1024

ODT = "application/vnd.oasis.opendocument.text"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


class Refused(Exception):
    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


def set_limits(memory_bytes: int, cpu_seconds: int, output_bytes: int) -> None:
    import resource
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
    resource.setrlimit(resource.RLIMIT_FSIZE, (output_bytes, output_bytes))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


# Identifying the type from a bounded head --------------------------------------------------------

def sniff_head(head: bytes) -> str | None:
    """The type a file's first bytes announce ("zip" for an archive still to be looked into)."""
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    return "text"


def zip_kind(z) -> str | None:
    """ODT or DOCX from the archive's directory (reads at most 100 bytes of one entry)."""
    names = set(z.namelist())
    if "mimetype" in names:
        with z.open("mimetype") as f:
            if f.read(100).strip() == ODT.encode():
                return ODT
    if "word/document.xml" in names and "[Content_Types].xml" in names:
        return DOCX
    return None


def check_zip_directory(z) -> None:
    """Refuse an archive whose directory claims too much, before inflating anything."""
    infos = z.infolist()
    if len(infos) > ZIP_MAX_ENTRIES:
        raise Refused("archive_bomb")
    total = 0
    for info in infos:
        size = info.file_size
        total += size
        if size > ZIP_MAX_ENTRY_BYTES or total > ZIP_MAX_TOTAL_BYTES:
            raise Refused("archive_bomb")
        if size > ZIP_RATIO_FLOOR and size > ZIP_MAX_RATIO * max(info.compress_size, 1):
            raise Refused("archive_bomb")
        if info.flag_bits & 0x1:
            raise Refused("encrypted")


def sniff_path(path: str) -> str | None:
    """The accepted type of the file at `path`, or None; bounded reads only."""
    with open(path, "rb") as f:
        head = f.read(64)
    kind = sniff_head(head)
    if kind == "zip":
        import zipfile
        try:
            with zipfile.ZipFile(path) as z:
                check_zip_directory(z)
                return zip_kind(z)
        except (zipfile.BadZipFile, OSError, KeyError, EOFError, NotImplementedError):
            return None
    if kind == "text":
        return "text/plain" if _is_text(path) else None
    return kind


def _is_text(path: str) -> bool:
    import codecs
    decoder = codecs.getincrementaldecoder("utf-8")()
    with open(path, "rb") as f:
        while True:
            chunk = f.read(CHUNK)
            try:
                text = decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError:
                return False
            if "\x00" in text:
                return False
            if not chunk:
                return True


# Images ------------------------------------------------------------------------------------------

def clean_image(src: str, dst: str, mime: str) -> None:
    from PIL import Image, ImageOps, UnidentifiedImageError
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS      # Pillow's own guard, for anything opened below
    fmt = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}[mime]
    try:
        with Image.open(src, formats=[fmt]) as img:      # reads the header only
            width, height = img.size
            if width * height > MAX_PIXELS:
                raise Refused("too_many_pixels")
            if width * height > DECODE_PIXELS:
                if fmt != "JPEG":
                    raise Refused("too_many_pixels")
                # JPEG decodes at 1/2, 1/4 or 1/8 scale for the cost of the smaller image.
                scale = next((n for n in (2, 4, 8) if -(-width // n) * -(-height // n) <= DECODE_PIXELS), 8)
                img.draft("RGB", (-(-width // scale), -(-height // scale)))
                if img.size[0] * img.size[1] > DECODE_PIXELS:
                    raise Refused("too_many_pixels")
            img.load()
            img = ImageOps.exif_transpose(img)
            # Rebuild from the pixels alone: nothing of the original's metadata survives.
            clean = Image.new(img.mode, img.size)
            clean.paste(img)
            if img.mode == "P" and img.getpalette():
                clean.putpalette(img.getpalette())
            del img
            if fmt == "JPEG" and clean.mode not in ("RGB", "L", "CMYK"):
                clean = clean.convert("RGB")
            clean.save(dst, format=fmt, **({"quality": 90} if fmt in ("JPEG", "WEBP") else {}))
    except Image.DecompressionBombError:
        raise Refused("too_many_pixels") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError):
        raise Refused("unreadable_image") from None


# OpenDocument and Word ---------------------------------------------------------------------------

ODT_META = (b'<?xml version="1.0" encoding="UTF-8"?>\n<office:document-meta '
            b'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" office:version="1.2">'
            b'<office:meta/></office:document-meta>')
DOCX_CORE = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<cp:coreProperties '
             b'xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
             b'xmlns:dc="http://purl.org/dc/elements/1.1/"/>')
DOCX_APP = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Properties '
            b'xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"/>')
DOCX_CUSTOM = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Properties '
               b'xmlns="http://schemas.openxmlformats.org/officeDocument/2006/custom-properties"/>')

# Parts that carry programs: refused (removing them would leave a document that asks to repair).
_ACTIVE_NAMES = re.compile(r"(?i)(vbaProject\.bin|vbaData\.xml|/activeX/|^Basic/|^Scripts/|\.(exe|dll|js|vbs|bat|cmd|ps1|jar|scr)$"
                           r"|/embeddings/.*\.bin$|^Object ?\d+/)")
_RELATIONSHIP = re.compile(rb"<Relationship\b[^>]*?/>|<Relationship\b[^>]*?>.*?</Relationship>", re.S)
_TEMPLATE_REF = re.compile(rb"<w:attachedTemplate\b[^>]*/>")
_MACRO_TYPES = re.compile(rb"(?i)macroEnabled|vbaProject|activeX")
_ODT_EVENTS = re.compile(rb"(?i)<office:event-listeners|<script:event-listener|<office:script")


def _read_bounded(z, info, limit: int) -> bytes:
    """Inflate one entry, never past `limit` bytes (nor past what its directory claims)."""
    out = bytearray()
    with z.open(info) as f:
        while True:
            chunk = f.read(CHUNK)
            if not chunk:
                return bytes(out)
            out += chunk
            if len(out) > limit:
                raise Refused("archive_bomb")


def _clean_rels(data: bytes) -> bytes:
    """Remove a remote template; refuse any other content fetched from outside (links stay)."""
    for rel in _RELATIONSHIP.findall(data):
        if re.search(rb'TargetMode\s*=\s*"External"', rel) is None:
            continue
        rel_type = re.search(rb'Type\s*=\s*"([^"]*)"', rel)
        rel_type = rel_type.group(1) if rel_type else b""
        if rel_type.endswith(b"/hyperlink"):
            continue
        if rel_type.endswith(b"/attachedTemplate"):
            data = data.replace(rel, b"")
            continue
        raise Refused("remote_content")
    return data


def clean_office(src: str, dst: str, mime: str) -> None:
    import zipfile
    try:
        with zipfile.ZipFile(src) as z, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as out:
            check_zip_directory(z)
            infos = z.infolist()
            for info in infos:
                if _ACTIVE_NAMES.search(info.filename):
                    raise Refused("active_content")
            if mime == ODT:
                # The mimetype entry first and stored, as the format requires.
                out.writestr(zipfile.ZipInfo("mimetype"), ODT.encode(), compress_type=zipfile.ZIP_STORED)
            for info in infos:
                name = info.filename
                if info.is_dir() or (name == "mimetype" and mime == ODT):
                    continue
                target = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
                target.compress_type = zipfile.ZIP_DEFLATED
                if mime == ODT and name == "meta.xml":
                    out.writestr(target, ODT_META)
                elif mime == DOCX and name == "docProps/core.xml":
                    out.writestr(target, DOCX_CORE)
                elif mime == DOCX and name == "docProps/app.xml":
                    out.writestr(target, DOCX_APP)
                elif mime == DOCX and name == "docProps/custom.xml":
                    out.writestr(target, DOCX_CUSTOM)
                elif name.endswith(".rels"):
                    out.writestr(target, _clean_rels(_read_bounded(z, info, XML_PART_MAX_BYTES)))
                elif mime == DOCX and name == "[Content_Types].xml":
                    data = _read_bounded(z, info, XML_PART_MAX_BYTES)
                    if _MACRO_TYPES.search(data):
                        raise Refused("active_content")
                    out.writestr(target, data)
                elif mime == DOCX and name == "word/settings.xml":
                    out.writestr(target, _TEMPLATE_REF.sub(b"", _read_bounded(z, info, XML_PART_MAX_BYTES)))
                elif mime == ODT and name in ("content.xml", "styles.xml"):
                    data = _read_bounded(z, info, info.file_size)
                    if _ODT_EVENTS.search(data):
                        raise Refused("active_content")
                    out.writestr(target, data)
                else:
                    # Copied in chunks: never more than CHUNK inflated at once.
                    with z.open(info) as f, out.open(target, "w") as w:
                        while chunk := f.read(CHUNK):
                            w.write(chunk)
    except (zipfile.BadZipFile, KeyError, EOFError, NotImplementedError, zipfile.LargeZipFile):
        raise Refused("type") from None


# PDF ---------------------------------------------------------------------------------------------

_ACTIVE_KEYS = ("/JS", "/JavaScript", "/OpenAction", "/AA", "/EmbeddedFiles", "/EmbeddedFile", "/XFA",
                "/RichMedia", "/Launch")
_BAD_ACTIONS = ("/JavaScript", "/Launch", "/SubmitForm", "/ImportData", "/GoToE", "/RichMediaExecute",
                "/Rendition", "/Sound", "/Movie", "/ResetForm")
_METADATA_KEYS = ("/Metadata", "/PieceInfo")


def _is_bad_action(obj) -> bool:
    import pikepdf
    return isinstance(obj, pikepdf.Dictionary) and str(obj.get("/S", "")) in _BAD_ACTIONS


def _scrub(obj) -> None:
    """Remove active and metadata entries from one dictionary (or a stream's dictionary)."""
    import pikepdf
    for key in _ACTIVE_KEYS + _METADATA_KEYS:
        if key in obj:
            del obj[key]
    for key in ("/A", "/Next"):
        if key in obj and _is_bad_action(obj[key]):
            del obj[key]
    if _is_bad_action(obj):
        obj["/S"] = pikepdf.Name("/GoTo")       # neutered: an action that goes nowhere
        obj["/D"] = pikepdf.Array([])
    if obj.get("/Subtype") == "/FileAttachment" and "/FS" in obj:
        del obj["/FS"]
    if obj.get("/Type") == "/Filespec":
        for key in ("/EF", "/RF"):
            if key in obj:
                del obj[key]


def _dictionaries(pdf):
    """Every dictionary of the file: each object's, and every direct dictionary nested in one
    (an action inside an annotation, a name tree inside the catalog), iteratively."""
    import pikepdf
    stack = list(pdf.objects) + [pdf.Root]
    while stack:
        obj = stack.pop()
        if isinstance(obj, pikepdf.Stream):
            obj = obj.stream_dict
        if isinstance(obj, pikepdf.Dictionary):
            yield obj
            children = obj.values()
        elif isinstance(obj, pikepdf.Array):
            children = list(obj)
        else:
            continue
        # Indirect children are in pdf.objects already; only direct ones are walked into.
        stack.extend(c for c in children if isinstance(c, (pikepdf.Dictionary, pikepdf.Array)) and not c.is_indirect)


def _active_left(pdf) -> list[str]:
    found = []
    for d in _dictionaries(pdf):
        found += [k for k in _ACTIVE_KEYS if k in d]
        if _is_bad_action(d):
            found.append(str(d["/S"]))
    return found


def clean_pdf(src: str, dst: str) -> None:
    import pikepdf
    try:
        with pikepdf.open(src) as pdf:
            if "/Info" in pdf.trailer:
                del pdf.trailer["/Info"]
            for d in list(_dictionaries(pdf)):
                _scrub(d)
            pdf.remove_unreferenced_resources()
            pdf.save(dst, fix_metadata_version=False, deterministic_id=True)
        with pikepdf.open(dst) as again:
            if _active_left(again) or "/Info" in again.trailer or "/Metadata" in again.Root:
                raise Refused("active_content")
    except pikepdf.PasswordError:
        raise Refused("encrypted") from None
    except (pikepdf.PdfError, RecursionError):
        raise Refused("unreadable_pdf") from None


# Entry point -------------------------------------------------------------------------------------

def inspect(src: str, dst: str) -> str:
    """Identify and clean the file at `src` into `dst`; return its type or raise Refused."""
    mime = sniff_path(src)
    if mime is None:
        raise Refused("type")
    if mime.startswith("image/"):
        clean_image(src, dst, mime)
    elif mime == "application/pdf":
        clean_pdf(src, dst)
    elif mime in (ODT, DOCX):
        clean_office(src, dst, mime)
    else:
        import shutil
        shutil.copyfile(src, dst)
    return mime


def main(argv: list[str]) -> int:
    src, dst, memory, cpu, output = argv[1], argv[2], int(argv[3]), int(argv[4]), int(argv[5])
    set_limits(memory, cpu, output)
    try:
        result = {"mime": inspect(src, dst)}
    except Refused as exc:
        result = {"refused": exc.reason}
    except MemoryError:
        result = {"refused": "too_complex"}
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
