"""Attachment checks: the type comes from the content, never the name; image metadata is removed."""
from __future__ import annotations

import io
import time
import zipfile

from tests import bombs

import pikepdf
import pytest
from PIL import Image, PngImagePlugin

from portal.domain import inspection
from portal.domain.attachments import ALLOWED, AttachmentError, check, inspect_file, safe_name, sniff

MAX = 1_000_000
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
ODT = "application/vnd.oasis.opendocument.text"
GPS_IFD = 0x8825


def image_bytes(fmt, size=(40, 20), mode="RGB", **save):
    img = Image.new(mode, size, (200, 10, 10) if mode in ("RGB", "RGBA") else 1)
    out = io.BytesIO()
    img.save(out, format=fmt, **save)
    return out.getvalue()


def pdf_bytes(pages=1):
    pdf = pikepdf.new()
    for _ in range(pages):
        pdf.add_blank_page()
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


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
    if mime == "text/plain":
        assert checked.data == data          # text is kept as sent; documents are cleaned (below)


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


# Bounded cost: bombs are refused from what they claim, in a child process under limits ------------

def _refusal(data, name="f", **kw) -> str:
    with pytest.raises(AttachmentError) as exc:
        check(name, data, max_bytes=kw.pop("max_bytes", 12 * 1024 * 1024), **kw)
    return exc.value.reason


def test_real_size_zip_bomb_is_refused_fast():
    """A 1 MB ODT whose mimetype entry inflates to 1 GiB: refused from its directory, nothing inflated."""
    data = bombs.zip_bomb_odt(bombs.GIB)
    assert len(data) < 1_100_000
    start = time.perf_counter()
    assert _refusal(data, "lettre.odt") == "archive_bomb"
    assert time.perf_counter() - start < 3
    # Nothing was inflated: refused even when the child may use only 64 MB (the Python floor).
    assert _refusal(data, "lettre.odt", memory_bytes=64 * 1024 * 1024) == "archive_bomb"


@pytest.mark.parametrize("inflated", [64 * bombs.MIB, 8 * bombs.MIB])
def test_small_zip_bombs_are_refused(inflated):
    """Over the per-entry size (64 MiB) or the per-entry ratio (8 MiB from 8 KB)."""
    assert _refusal(bombs.zip_bomb_odt(inflated), "lettre.odt") == "archive_bomb"


def test_zip_whose_directory_lies_is_not_inflated_past_its_claim():
    # content.xml claims 100 bytes and inflates to 64 MiB: reading stops at the claim, the CRC fails.
    assert _refusal(bombs.lying_zip_odt(), "lettre.odt") == "type"


def test_zip_with_too_many_entries_is_refused():
    assert _refusal(zip_bytes({f"f{i}.xml": "" for i in range(1100)} | {"mimetype": ODT}), "x.odt") == "archive_bomb"


@pytest.mark.parametrize("size", [(10_000, 10_000), (30_000, 30_000), (7_000, 7_000)])
def test_pixel_bombs_are_refused_from_the_header(size):
    data = bombs.pixel_bomb_png(*size)
    assert len(data) < 3_000_000
    start = time.perf_counter()
    assert _refusal(data, "photo.png") == "too_many_pixels"
    assert time.perf_counter() - start < 3


def test_a_big_photo_is_decoded_at_a_reduced_scale():
    img = Image.new("RGB", (5200, 4000), (10, 120, 200))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=60)
    del img
    checked = check("grand.jpg", out.getvalue(), max_bytes=20_000_000)
    with Image.open(io.BytesIO(checked.data)) as after:
        assert after.size == (2600, 2000)


def test_memory_limit_of_the_inspection_is_enforced():
    """A normal image that needs more memory than allowed: the child fails, not this process."""
    data = bombs.pixel_bomb_png(3000, 3000)       # 9 MP: ~36 MB decoded, ~72 MB while rebuilt
    assert check("ok.png", data, max_bytes=MAX).mime == "image/png"
    assert _refusal(data, "big.png", max_bytes=MAX, memory_bytes=60 * 1024 * 1024) == "too_complex"


def test_time_limit_of_the_inspection_is_enforced():
    assert _refusal(pdf_bytes(), "a.pdf", seconds=0.001) == "too_complex"


def test_inspection_runs_in_a_child_under_limits(tmp_path):
    """The inspector sets its own limits before importing any decoder."""
    src, dst = tmp_path / "in.txt", tmp_path / "out.txt"
    src.write_bytes(b"bonjour\n")
    assert inspect_file(src, dst, max_bytes=MAX) == "text/plain"
    assert dst.read_bytes() == b"bonjour\n"
    text = inspection.__loader__.get_source(inspection.__name__)
    main_body = text[text.index("def main("):]
    assert main_body.index("set_limits(") < main_body.index("inspect(src, dst)")


# Documents: metadata and active content ------------------------------------------------------------

def _pdf_keys(data: bytes) -> set[str]:
    """Every key of every dictionary (nested ones too), the action types, and the trailer's keys."""
    found = set()
    with pikepdf.open(io.BytesIO(data)) as pdf:
        stack = list(pdf.objects)
        while stack:
            obj = stack.pop()
            if isinstance(obj, pikepdf.Stream):
                obj = obj.stream_dict
            if isinstance(obj, pikepdf.Dictionary):
                found |= set(obj.keys())
                if "/S" in obj:
                    found.add(str(obj["/S"]))
                stack += [v for v in obj.values() if isinstance(v, (pikepdf.Dictionary, pikepdf.Array))
                          and not v.is_indirect]
            elif isinstance(obj, pikepdf.Array):
                stack += [v for v in obj if isinstance(v, (pikepdf.Dictionary, pikepdf.Array)) and not v.is_indirect]
        found |= {"trailer" + k for k in pdf.trailer.keys()}
    return found


def test_pdf_javascript_actions_embedded_files_and_metadata_are_removed():
    data = bombs.pdf_with_javascript()
    assert {"/OpenAction", "/JS", "/AA", "/EmbeddedFiles", "/Launch", "trailer/Info"} <= _pdf_keys(data)
    checked = check("rapport.pdf", data, max_bytes=MAX)
    assert checked.mime == "application/pdf"
    keys = _pdf_keys(checked.data)
    for active in ("/OpenAction", "/JS", "/JavaScript", "/AA", "/EmbeddedFiles", "/EmbeddedFile", "/Launch",
                   "/Metadata", "trailer/Info"):
        assert active not in keys, active
    for marker in (b"JavaScript", b"app.alert", b"Secret Author", b"Mme Secret", b"MZ evil", b"cmd.exe"):
        assert marker not in checked.data, marker
    with pikepdf.open(io.BytesIO(checked.data)) as pdf:
        assert len(pdf.pages) == 1


def test_encrypted_pdf_is_refused():
    pdf = pikepdf.new()
    pdf.add_blank_page()
    out = io.BytesIO()
    pdf.save(out, encryption=pikepdf.Encryption(owner="o", user="secret"))
    assert _refusal(out.getvalue(), "a.pdf") == "encrypted"


def test_docx_metadata_and_remote_template_are_removed():
    data = bombs.docx(template=True)
    checked = check("lettre.docx", data, max_bytes=MAX)
    assert checked.mime == DOCX
    for marker in (b"Secret Author", b"Dr Secret", b"Secret Company", b"evil.example", b"attachedTemplate"):
        assert marker not in _inflated(checked.data), marker
    with zipfile.ZipFile(io.BytesIO(checked.data)) as z:
        assert b"Bonjour" in z.read("word/document.xml")
        assert b'w:zoom w:percent="100"' in z.read("word/settings.xml")
        assert z.testzip() is None


def test_docx_macros_and_remote_images_are_refused_links_kept():
    assert _refusal(bombs.docx(macro=True), "lettre.docx") == "active_content"
    assert _refusal(bombs.docx(remote_image=True), "lettre.docx") == "remote_content"
    assert check("lettre.docx", bombs.docx(), max_bytes=MAX).mime == DOCX


def test_odt_metadata_removed_and_macros_refused():
    checked = check("lettre.odt", bombs.odt(), max_bytes=MAX)
    assert checked.mime == ODT
    assert b"Secret Author" not in _inflated(checked.data)
    with zipfile.ZipFile(io.BytesIO(checked.data)) as z:
        first = z.infolist()[0]
        assert (first.filename, first.compress_type) == ("mimetype", zipfile.ZIP_STORED)
        assert b"Bonjour" in z.read("content.xml")
    assert _refusal(bombs.odt(macro=True), "lettre.odt") == "active_content"


def _inflated(data: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return b"".join(z.read(n) for n in z.namelist())
