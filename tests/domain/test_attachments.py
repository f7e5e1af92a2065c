"""Attachment checks: the type comes from the content, never the name; image metadata is removed."""
from __future__ import annotations

import io
import zipfile

import pytest
from PIL import Image, PngImagePlugin

from portal.domain.attachments import ALLOWED, AttachmentError, check, safe_name, sniff

MAX = 1_000_000
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
ODT = "application/vnd.oasis.opendocument.text"
GPS_IFD = 0x8825


def image_bytes(fmt, size=(40, 20), mode="RGB", **save):
    img = Image.new(mode, size, (200, 10, 10) if mode in ("RGB", "RGBA") else 1)
    out = io.BytesIO()
    img.save(out, format=fmt, **save)
    return out.getvalue()


def pdf_bytes():
    return (b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
            b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")


def zip_bytes(files: dict, stored_first=None):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        if stored_first:
            z.writestr(zipfile.ZipInfo(stored_first[0]), stored_first[1])
        for name, content in files.items():
            z.writestr(name, content)
    return out.getvalue()


def docx_bytes():
    return zip_bytes({
        "[Content_Types].xml": '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>',
        "_rels/.rels": "<Relationships/>",
        "word/document.xml": "<w:document/>",
    })


def odt_bytes():
    return zip_bytes({"content.xml": "<office:document-content/>", "META-INF/manifest.xml": "<manifest/>"},
                     stored_first=("mimetype", ODT))


def exe_bytes():
    return b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48 + b"PE\x00\x00" + b"\x00" * 100


def gps_jpeg():
    exif = Image.Exif()
    exif[0x010F] = "Acme"                 # Make
    exif[0x0110] = "Phone 9"              # Model
    exif[GPS_IFD] = {1: "N", 2: (43.0, 36.0, 0.0), 3: "E", 4: (1.0, 26.0, 0.0)}
    data = image_bytes("JPEG", exif=exif)
    # The sample really carries what must be removed.
    before = Image.open(io.BytesIO(data)).getexif()
    assert before[0x010F] == "Acme" and before.get_ifd(GPS_IFD)[1] == "N"
    return data


# Sniffing ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("make, mime", [
    (pdf_bytes, "application/pdf"),
    (lambda: image_bytes("JPEG"), "image/jpeg"),
    (lambda: image_bytes("PNG"), "image/png"),
    (lambda: image_bytes("WEBP"), "image/webp"),
    (docx_bytes, DOCX),
    (odt_bytes, ODT),
    (lambda: "Bonjour,\nl'enfant a dit « j'ai peur ».\n".encode(), "text/plain"),
])
def test_sniff_from_content(make, mime):
    assert sniff(make()) == mime


@pytest.mark.parametrize("data", [
    exe_bytes(),
    b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 40,
    b"text with a NUL\x00 byte",
    b"\xff\xfe\x00\x00latin",
    zip_bytes({"readme.txt": "a plain zip"}),
    zip_bytes({"mimetype": "application/vnd.oasis.opendocument.spreadsheet", "content.xml": "<x/>"}),
    b"PK\x03\x04 not really a zip",
])
def test_sniff_refuses_other_types(data):
    assert sniff(data) is None


# check(): accepted files ------------------------------------------------------------------------

@pytest.mark.parametrize("name, make, mime, ext", [
    ("rapport.pdf", pdf_bytes, "application/pdf", ".pdf"),
    ("photo.jpeg", lambda: image_bytes("JPEG"), "image/jpeg", ".jpg"),
    ("capture.png", lambda: image_bytes("PNG"), "image/png", ".png"),
    ("image.webp", lambda: image_bytes("WEBP"), "image/webp", ".webp"),
    ("lettre.docx", docx_bytes, DOCX, ".docx"),
    ("lettre.odt", odt_bytes, ODT, ".odt"),
    ("notes.txt", lambda: b"notes\n", "text/plain", ".txt"),
])
def test_accepted_types(name, make, mime, ext):
    data = make()
    checked = check(name, data, max_bytes=MAX)
    assert checked.mime == mime
    assert checked.name.endswith(ext)
    assert ALLOWED[mime] == ext
    if not mime.startswith("image/"):
        assert checked.data == data          # documents are kept as sent


def test_exe_renamed_pdf_is_refused():
    with pytest.raises(AttachmentError) as exc:
        check("certificat.pdf", exe_bytes(), max_bytes=MAX)
    assert exc.value.reason == "type"


def test_png_named_pdf_is_accepted_as_png():
    checked = check("certificat.pdf", image_bytes("PNG"), max_bytes=MAX)
    assert checked.mime == "image/png"
    assert checked.name == "certificat.png"
    assert Image.open(io.BytesIO(checked.data)).format == "PNG"


def test_pdf_named_jpg_is_a_pdf():
    checked = check("photo.jpg", pdf_bytes(), max_bytes=MAX)
    assert checked.mime == "application/pdf" and checked.name == "photo.pdf"


def test_oversize_refused():
    data = pdf_bytes()
    with pytest.raises(AttachmentError) as exc:
        check("big.pdf", data, max_bytes=len(data) - 1)
    assert exc.value.reason == "too_large"
    assert check("ok.pdf", data, max_bytes=len(data)).mime == "application/pdf"


def test_oversize_checked_before_type():
    with pytest.raises(AttachmentError) as exc:
        check("x.exe", exe_bytes(), max_bytes=10)
    assert exc.value.reason == "too_large"


def test_empty_refused():
    with pytest.raises(AttachmentError) as exc:
        check("vide.pdf", b"", max_bytes=MAX)
    assert exc.value.reason == "empty"


# Images: metadata removed, pretend images refused ---------------------------------------------

def test_jpeg_exif_and_gps_removed():
    checked = check("IMG_0001.JPG", gps_jpeg(), max_bytes=MAX)
    assert checked.mime == "image/jpeg"
    assert b"Exif" not in checked.data
    assert b"Acme" not in checked.data and b"Phone 9" not in checked.data
    after = Image.open(io.BytesIO(checked.data))
    assert len(after.getexif()) == 0
    assert after.getexif().get_ifd(GPS_IFD) == {}
    assert after.size == (40, 20)


def test_exif_orientation_applied_before_stripping():
    exif = Image.Exif()
    exif[0x0112] = 6                       # rotate 90° when displayed
    checked = check("portrait.jpg", image_bytes("JPEG", size=(40, 20), exif=exif), max_bytes=MAX)
    after = Image.open(io.BytesIO(checked.data))
    assert after.size == (20, 40)
    assert len(after.getexif()) == 0


def test_png_text_chunks_removed():
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "GPS 43.6N 1.44E")
    data = image_bytes("PNG", pnginfo=info)
    assert b"GPS 43.6N" in data
    checked = check("a.png", data, max_bytes=MAX)
    assert b"GPS 43.6N" not in checked.data
    assert "Comment" not in Image.open(io.BytesIO(checked.data)).info


def test_webp_exif_removed():
    exif = Image.Exif()
    exif[0x010F] = "Acme"
    data = image_bytes("WEBP", exif=exif)
    assert b"Exif" in data or b"EXIF" in data
    checked = check("a.webp", data, max_bytes=MAX)
    assert b"Acme" not in checked.data
    assert len(Image.open(io.BytesIO(checked.data)).getexif()) == 0


def test_palette_png_keeps_its_colours():
    img = Image.new("P", (8, 8), 1)
    img.putpalette([0, 0, 0, 255, 0, 0] + [0] * (256 * 3 - 6))
    out = io.BytesIO()
    img.save(out, "PNG")
    checked = check("p.png", out.getvalue(), max_bytes=MAX)
    assert Image.open(io.BytesIO(checked.data)).convert("RGB").getpixel((0, 0)) == (255, 0, 0)


def test_rgba_png_keeps_transparency():
    checked = check("a.png", image_bytes("PNG", mode="RGBA"), max_bytes=MAX)
    assert Image.open(io.BytesIO(checked.data)).mode == "RGBA"


@pytest.mark.parametrize("data", [
    b"\xff\xd8\xff\xe0" + b"garbage" * 20,
    image_bytes("JPEG", size=(200, 200))[:300],
    b"\x89PNG\r\n\x1a\n" + b"\x00" * 50,
    image_bytes("PNG", size=(200, 200))[:60],
    b"RIFF\x00\x00\x00\x00WEBPVP8 " + b"\x00" * 20,
])
def test_truncated_or_garbage_image_refused(data):
    with pytest.raises(AttachmentError) as exc:
        check("photo.jpg", data, max_bytes=MAX)
    assert exc.value.reason == "unreadable_image"


# safe_name -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name, mime, expected", [
    ("../../etc/passwd.pdf", "application/pdf", "passwd.pdf"),
    ("C:\\Users\\Marie\\Bureau\\photo.exe", "image/png", "photo.png"),
    ("/tmp/scan", "image/jpeg", "scan.jpg"),
    ("rapport<script>.docx", DOCX, "rapport_script_.docx"),
    ("élève.pdf", "application/pdf", "élève.pdf"),
    ("archive.tar.gz", "text/plain", "archive.tar.txt"),
    ("", "application/pdf", "document.pdf"),
    (None, "application/pdf", "document.pdf"),
    ("...", "application/pdf", "document.pdf"),
    ("../", "text/plain", "document.txt"),
    (" .hidden ", "text/plain", "hidden.txt"),
])
def test_safe_name(name, mime, expected):
    assert safe_name(name, mime) == expected


def test_safe_name_is_bounded():
    name = safe_name("a" * 500 + ".pdf", "application/pdf")
    assert name == "a" * 80 + ".pdf"


def test_safe_name_never_keeps_separators():
    for name in ("a/b\\c.pdf", "..\\..\\x.pdf", "a\x00b.pdf", "a:b|c?.pdf"):
        out = safe_name(name, "application/pdf")
        assert "/" not in out and "\\" not in out and "\x00" not in out and ":" not in out
        assert out.endswith(".pdf")
