"""Documents attached to an IP: what is accepted, how it is stored, and what a refusal keeps."""
from __future__ import annotations

import io
import re
import threading
import zipfile

from tests import bombs

import pikepdf
import pytest
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from portal.domain import intake
from portal.models import DraftFile

from .helpers import (
    CONCERN, Page, Reporter, assert_error_page, count, crip_key, db_session, only_ip, translated,
)

def _pdf() -> bytes:
    pdf = pikepdf.new()
    pdf.add_blank_page()
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


PDF = _pdf()
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + bytes(range(256)) * 4
GPS_IFD = 0x8825
MAKE, MODEL = 0x010F, 0x0110


def photo(fmt="JPEG", size=(24, 16)) -> bytes:
    """A small photo carrying a camera make, GPS coordinates and (PNG) a text chunk."""
    img = Image.new("RGB", size, (180, 40, 40))
    exif = Image.Exif()
    exif[MAKE] = "SpyCam-Maker"
    exif[MODEL] = "SpyCam-Model"
    gps = exif.get_ifd(GPS_IFD)
    gps.update({1: "N", 2: (43.0, 36.0, 15.0), 3: "E", 4: (1.0, 26.0, 40.0)})
    out = io.BytesIO()
    extra = {}
    if fmt == "PNG":
        info = PngInfo()
        info.add_text("Comment", "GPS 43.604 1.444 chez Mme X")
        extra["pnginfo"] = info
    img.save(out, fmt, exif=exif, **extra)
    data = out.getvalue()
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(GPS_IFD), "the test photo has GPS data"
    return data


def _names(page: Page) -> list[str]:
    """The attached files listed on the documents page."""
    return re.findall(r'<li><span dir="auto">([^<]*)</span>', page.body)


def _refused(response, message: str) -> Page:
    """A 400 page whose error summary gives `message`, linked to an element of the page."""
    page = Page.of(response)
    assert page.status == 400, page.describe()
    assert_error_page(page, message)
    assert message in page.inline_errors
    return page


def _sent_attachments(app):
    """(meta, data) of each attachment of the only IP, opened with the CRIP's private key."""
    with db_session(app) as s:
        ip = only_ip(s)
        return [(a.mime, *intake.open_attachment(crip_key(app), a.sealed)) for a in ip.attachments]


def test_upload_list_and_remove(report_app, reporter):
    reporter.fill(until="documents")
    for name, data in (("photo.png", photo("PNG")), ("certificat.pdf", PDF)):
        response = reporter.upload(name, data)
        location = response.headers["Location"]
        assert response.status_code == 302 and location.split("?")[0].endswith("/etape/documents")
        assert location.endswith("#attached"), "the page lands at the list of attached files"
        assert name not in location, "a file's name never goes into a URL (nor the access logs)"
        landed = reporter.client.get(location)
        assert f"The file {name} is attached." in landed.get_data(as_text=True)
    page = reporter.files_page()
    assert _names(page) == ["photo.png", "certificat.pdf"]
    removes = page.buttons_with("remove-")
    assert len(removes) == 2
    reporter.post("/etape/documents", {"action": removes[0]})
    assert _names(reporter.files_page()) == ["certificat.pdf"]
    assert count(report_app, DraftFile) == 1
    # A file id that is not this draft's removes nothing.
    reporter.post("/etape/documents", {"action": "remove-999999"})
    assert _names(reporter.files_page()) == ["certificat.pdf"]

    check = reporter.to_check()
    assert "certificat.pdf" in check.text and "photo.png" not in check.text
    assert reporter.send().status_code == 303
    [(mime, meta, data)] = _sent_attachments(report_app)
    assert (mime, meta) == ("application/pdf", {"name": "certificat.pdf", "mime": "application/pdf"})
    with pikepdf.open(io.BytesIO(data)) as stored:       # the same document, cleaned
        assert len(stored.pages) == 1
    assert count(report_app, DraftFile) == 0, "the draft's copies are gone once sent"


WRONG_TYPE = ("This type of file is not accepted. Send a PDF, a photo (JPEG, PNG, WebP), a Word or "
              "OpenDocument text, or a text file.")


@pytest.mark.parametrize("language", ["en", "fr"])
def test_wrong_type_is_refused_and_the_answers_kept(report_app, language):
    reporter = Reporter(report_app, language=language)
    reporter.fill(until="documents")
    reporter.upload("ok.pdf", PDF)
    page = _refused(reporter.upload("facture.pdf", EXE), translated(report_app, WRONG_TYPE, language))
    assert _names(page) == ["ok.pdf"]
    check = reporter.to_check()
    assert CONCERN["account"] in check.text and "Léa Martin" in check.text
    assert "ok.pdf" in check.text and "facture" not in check.text
    assert f'lang="{language}"' in check.body


@pytest.mark.parametrize("name, data, reason", [
    ("vide.pdf", b"", "The file is empty."),
    ("image.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 200, "This image cannot be read. Try another photo or a PDF."),
    ("archive.docx", b"PK\x03\x04" + b"\x00" * 100, "This type of file is not accepted."),
])
def test_other_refusals(reporter, name, data, reason):
    reporter.fill(until="documents")
    page = Page.of(reporter.upload(name, data))
    assert page.status == 400 and any(reason in e for e in page.inline_errors), page.describe()


def test_disguised_type_is_stored_by_its_content(report_app, reporter):
    reporter.fill(until="documents")
    assert reporter.upload("scan.pdf", photo("PNG")).status_code == 302
    assert reporter.upload("../../etc/passwd.txt", b"simple texte").status_code == 302
    assert _names(reporter.files_page()) == ["scan.png", "passwd.txt"]
    reporter.send_from_documents()
    stored = _sent_attachments(report_app)
    assert [(mime, meta["name"]) for mime, meta, _d in stored] == [("image/png", "scan.png"), ("text/plain", "passwd.txt")]
    assert stored[0][2].startswith(b"\x89PNG")


@pytest.mark.settings(ATTACHMENT_MAX_BYTES=2048)
def test_too_large(reporter):
    reporter.fill(until="documents")
    assert reporter.upload("petit.txt", b"a" * 2048).status_code == 302
    page = Page.of(reporter.upload("grand.txt", b"a" * 2049))
    assert page.status == 400 and any("The file is larger than" in e for e in page.inline_errors)
    assert _names(page) == ["petit.txt"]


@pytest.mark.settings(ATTACHMENT_MAX_BYTES=512 * 1024)
def test_size_limit_is_shown_truthfully(reporter):
    reporter.fill(until="documents")
    page = Page.of(reporter.upload("grand.txt", b"a" * (512 * 1024 + 1)))
    assert page.status == 400 and "0 MB" not in page.text and "512" in page.text


@pytest.mark.settings(ATTACHMENT_MAX_FILES=2)
def test_too_many_files(reporter):
    reporter.fill(until="documents")
    for i in range(2):
        assert reporter.upload(f"f{i}.txt", b"texte").status_code == 302
    page = reporter.files_page()
    assert not page.has_field("file"), "no file input once the limit is reached"
    page = _refused(reporter.upload("f2.txt", b"texte"), "You can attach at most 2 files.")
    assert _names(page) == ["f0.txt", "f1.txt"]


@pytest.mark.parametrize("fmt, name, mime", [("JPEG", "photo.jpg", "image/jpeg"), ("PNG", "photo.png", "image/png")])
def test_image_metadata_is_removed(report_app, reporter, fmt, name, mime):
    original = photo(fmt)
    reporter.fill(until="documents")
    reporter.upload(name, original)
    reporter.send_from_documents()
    [(stored_mime, meta, data)] = _sent_attachments(report_app)
    assert (stored_mime, meta["mime"], meta["name"]) == (mime, mime, name)
    with Image.open(io.BytesIO(data)) as img:
        assert img.format == fmt and img.size == (24, 16)
        assert dict(img.getexif()) == {} and not img.getexif().get_ifd(GPS_IFD)
        assert "exif" not in img.info and "Comment" not in img.info
    for marker in (b"SpyCam", b"Exif", b"43.604", b"chez Mme X"):
        assert marker not in data


@pytest.mark.settings(MAX_CONTENT_LENGTH=4096)
def test_request_too_large_shows_a_413_page_with_the_119(reporter):
    reporter.fill(until="documents")
    page = Page.of(reporter.upload("gros.pdf", PDF + b"0" * 10_000))
    assert page.status == 413
    assert "What you sent is too large" in page.text
    assert 'href="tel:119"' in page.body and "0 800 31 08 08" in page.text
    # The draft is untouched.
    assert reporter.page("/etape/inquietude").value("account") == CONCERN["account"]


# Bounded cost: bombs and active content ---------------------------------------------------------

BOMB_REASONS = {
    "zip": "This document expands to far more than its size when opened, so it cannot be accepted.",
    "pixels": "This image has too many pixels to be checked safely.",
    "macro": "This file contains macros, scripts or embedded programs, which are not accepted.",
    "remote": "This document loads content from the internet, which is not accepted.",
}


@pytest.mark.parametrize("name, make, reason", [
    ("lettre.odt", lambda: bombs.zip_bomb_odt(bombs.GIB), "zip"),
    ("photo.png", lambda: bombs.pixel_bomb_png(10_000, 10_000), "pixels"),
    ("photo.png", lambda: bombs.pixel_bomb_png(30_000, 30_000), "pixels"),
    ("lettre.docx", lambda: bombs.docx(macro=True), "macro"),
    ("lettre.docx", lambda: bombs.docx(remote_image=True), "remote"),
])
def test_bombs_are_refused_with_a_reason_and_the_answers_kept(reporter, name, make, reason):
    reporter.fill(until="documents")
    assert reporter.upload("ok.txt", b"notes").status_code == 302
    page = Page.of(reporter.upload(name, make()))
    assert page.status == 400 and any(BOMB_REASONS[reason] in e for e in page.inline_errors), page.describe()
    assert _names(page) == ["ok.txt"]
    assert reporter.page("/etape/inquietude").value("account") == CONCERN["account"]


def test_pdf_is_stored_without_javascript_or_metadata(report_app, reporter):
    reporter.fill(until="documents")
    assert reporter.upload("rapport.pdf", bombs.pdf_with_javascript()).status_code == 302
    reporter.send_from_documents()
    [(mime, meta, data)] = _sent_attachments(report_app)
    assert (mime, meta["name"]) == ("application/pdf", "rapport.pdf")
    for marker in (b"JavaScript", b"/JS", b"/OpenAction", b"/AA", b"EmbeddedFile", b"Secret Author", b"cmd.exe"):
        assert marker not in data, marker
    with pikepdf.open(io.BytesIO(data)) as pdf:
        assert len(pdf.pages) == 1


def test_docx_is_stored_without_metadata_or_remote_template(report_app, reporter):
    reporter.fill(until="documents")
    assert reporter.upload("lettre.docx", bombs.docx(template=True)).status_code == 302
    reporter.send_from_documents()
    [(_mime, meta, data)] = _sent_attachments(report_app)
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        everything = b"".join(z.read(n) for n in z.namelist())
    assert meta["name"] == "lettre.docx" and b"Bonjour" in everything
    for marker in (b"Secret Author", b"Secret Company", b"evil.example"):
        assert marker not in everything


def test_parallel_uploads_never_pass_the_file_limit(report_app, reporter):
    """12 uploads at once to one draft whose limit is 5: exactly 5 are kept, the others are told why."""
    _parallel_uploads(report_app, reporter)


@pytest.mark.postgres
def test_parallel_uploads_never_pass_the_file_limit_postgresql(pg_app):
    """The same on PostgreSQL, where the draft's row lock (not a database-wide lock) serialises them."""
    assert pg_app.extensions["portal_engine"].dialect.name == "postgresql"
    _parallel_uploads(pg_app, Reporter(pg_app))


def _parallel_uploads(report_app, reporter):
    reporter.fill(until="documents")
    cookie = reporter.client.get_cookie("ipdraft")
    assert cookie is not None
    barrier = threading.Barrier(12)
    statuses = []

    def upload(i):
        client = report_app.test_client()
        client.set_cookie("ipdraft", cookie.value, domain=cookie.domain, path="/")
        barrier.wait()
        response = client.post(reporter.url("/etape/documents"),
                               data={"action": "upload", "file": (io.BytesIO(f"note {i}".encode()), f"n{i}.txt")},
                               content_type="multipart/form-data", headers={"Accept-Language": "en"})
        statuses.append((response.status_code, response.get_data(as_text=True)))

    threads = [threading.Thread(target=upload, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert count(report_app, DraftFile) == 5
    assert sorted(code for code, _ in statuses) == [302] * 5 + [400] * 7
    assert all("You can attach at most 5 files." in body for code, body in statuses if code == 400)
    assert len(_names(reporter.files_page())) == 5
