"""A PDF copy of a professional's transmission, made on the fly from the one summary, never stored.

Made as close to PDF/UA-1 (ISO 14289-1) as fpdf2 allows, so that a screen reader reads it in order:
every word on a page sits in a structure element (H1, H2, P, under one Document) through marked
content whose MCIDs the structure tree references, and the page footer (reference, page numbers)
is marked as an /Artifact; the document language (/Lang), a title that viewers show
(/DisplayDocTitle), XMP metadata with dc:title and pdfuaid:part 1, /MarkInfo /Marked, /Tabs /S on
every page, and an embedded Unicode font (DejaVu Sans from Debian's fonts-dejavu-core, or Noto Sans).
tests/report/test_pdf_ua.py checks each of these with pikepdf; no veraPDF run is part of the tests.
"""
from __future__ import annotations

import io
import logging
from contextlib import contextmanager
from datetime import datetime, timezone
from html import escape
from pathlib import Path

import pikepdf
from fpdf import FPDF, ViewerPreferences
from fpdf.enums import MethodReturnValue

from ..domain import questionnaire

log = logging.getLogger(__name__)

FONT_CANDIDATES = (
    (Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"), Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")),
    (Path("/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf"), Path("/usr/share/fonts/truetype/noto/NotoSans-Bold.ttf")),
)
SIZES = {"/H1": 15, "/H2": 13, "/P": 10.5}


def xmp_metadata(*, title: str, lang: str, created: datetime, creator: str) -> str:
    """The XMP packet's body (fpdf2 wraps it in <?xpacket?>): the same title, creator and date as the
    document information dictionary, the language, and the PDF/UA-1 identification."""
    when = created.astimezone(timezone.utc).isoformat(timespec="seconds")
    t, la, c = escape(title), escape(lang), escape(creator)
    return f"""<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about=""
    xmlns:dc="http://purl.org/dc/elements/1.1/"
    xmlns:xmp="http://ns.adobe.com/xap/1.0/"
    xmlns:pdfuaid="http://www.aiim.org/pdfua/ns/id/">
   <pdfuaid:part>1</pdfuaid:part>
   <dc:title><rdf:Alt><rdf:li xml:lang="x-default">{t}</rdf:li><rdf:li xml:lang="{la}">{t}</rdf:li></rdf:Alt></dc:title>
   <dc:language><rdf:Bag><rdf:li>{la}</rdf:li></rdf:Bag></dc:language>
   <dc:format>application/pdf</dc:format>
   <xmp:CreatorTool>{c}</xmp:CreatorTool>
   <xmp:CreateDate>{when}</xmp:CreateDate>
   <xmp:ModifyDate>{when}</xmp:ModifyDate>
   <xmp:MetadataDate>{when}</xmp:MetadataDate>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>"""


class TaggedPDF(FPDF):
    """FPDF writing each block inside a marked-content sequence tied to a structure element."""

    def __init__(self, lang: str, footer_text: str = ""):
        super().__init__(format="A4")
        self.footer_text = footer_text      # "{page}" and "{nb}" become the page number and count
        self.set_auto_page_break(True, margin=15)
        self.set_lang(lang)
        self.set_display_mode("fullpage")
        self.viewer_preferences = ViewerPreferences(display_doc_title=True)
        self.unicode = False
        for regular, bold in FONT_CANDIDATES:
            if regular.exists():
                self.add_font("body", "", str(regular))
                self.add_font("body", "B", str(bold if bold.exists() else regular))
                self.unicode = True
                break
        else:
            # Helvetica is not embedded: the copy still reads, but is no longer PDF/UA.
            log.warning("no DejaVu or Noto Sans font found: the PDF copy uses Helvetica, not embedded (install fonts-dejavu-core)")

    def use(self, size: float, bold: bool = False):
        if self.unicode:
            self.set_font("body", "B" if bold else "", size=size)
        else:
            self.set_font("helvetica", "B" if bold else "", size=size)

    def clean(self, text: str) -> str:
        return text if self.unicode else text.encode("latin-1", "replace").decode("latin-1")

    @contextmanager
    def tagged(self, struct_type: str):
        mcid = self.struct_builder.next_mcid_for_page(self.page)
        _elem, spid = self.struct_builder.add_marked_content(page_number=self.page, struct_type=struct_type, mcid=mcid)
        self.pages[self.page].struct_parents = spid
        self._set_min_pdf_version("1.4")
        self._out(f"{struct_type} <</MCID {mcid}>> BDC")
        yield
        self._out("EMC")

    def footer(self):
        """The footer repeats on every page: an artifact, outside the structure tree."""
        if not self.footer_text:
            return
        self._out("/Artifact <</Type /Pagination /Subtype /Footer>> BDC")
        self.set_y(-11)
        self.use(8)
        self.cell(0, 5, self.clean(self.footer_text.replace("{page}", str(self.page_no()))), align="C")
        self._out("EMC")

    def _height(self, parts) -> float:
        total = 0.0
        for text, size, bold, line in parts:
            self.use(size, bold)
            total += len(self.multi_cell(self.epw, line, self.clean(text), dry_run=True, output=MethodReturnValue.LINES)) * line
        return total

    def block(self, struct_type: str, parts, space_before: float = 0.0):
        """One structure element (heading or paragraph) made of (text, size, bold, line height) parts,
        kept on one page (a block taller than a page goes out line by line, each line its own element).
        Empty parts are left out, and a block with no text at all makes no element (no empty heading)."""
        parts = [part for part in parts if part[0] and part[0].strip()]
        if not parts:
            return
        room = self.h - self.b_margin - self.y - space_before
        height = self._height(parts)
        usable = self.h - self.t_margin - self.b_margin
        if height > usable:
            for text, size, bold, line in parts:
                self.use(size, bold)
                for chunk in self.multi_cell(self.epw, line, self.clean(text), dry_run=True, output=MethodReturnValue.LINES):
                    self.block(struct_type, [(chunk, size, bold, line)])
            return
        if height > room:
            self.add_page()
        else:
            self.ln(space_before)
        with self.tagged(struct_type):
            for text, size, bold, line in parts:
                self.use(size, bold)
                self.multi_cell(self.epw, line, self.clean(text), new_x="LMARGIN", new_y="NEXT")


def _finish(data: bytes) -> bytes:
    """What fpdf2 cannot write itself: /Tabs /S (tab order follows the structure) on every page."""
    with pikepdf.open(io.BytesIO(data)) as pdf:
        for page in pdf.pages:
            page.obj.Tabs = pikepdf.Name.S
        out = io.BytesIO()
        pdf.save(out, compress_streams=False, min_version="1.7")   # PDF/UA-1 is based on PDF 1.7
        return out.getvalue()


def render_copy(reference: str, answers: dict, *, sent_at, profile, locale: str, gettext, files=None) -> bytes:
    """`gettext`: the translation function of the reader's language (the summary uses `locale`);
    `files`: the names of the attached files (None: no documents section)."""
    _ = gettext
    title = _("Information préoccupante sent to %(cell)s", cell=profile.ip_cell)
    footer = _("%(reference)s – page %(page)s of %(pages)s", reference=reference, page="{page}", pages="{nb}")
    pdf = TaggedPDF(locale, footer_text=footer)
    created = datetime.now(timezone.utc)
    pdf.set_title(title)
    pdf.set_creator(profile.council)
    pdf.set_creation_date(created)
    pdf.set_xmp_metadata(xmp_metadata(title=title, lang=locale, created=created, creator=profile.council))
    pdf.add_page()
    pdf.block("/H1", [(title, SIZES["/H1"], True, 8)])
    head = [(_("Reference"), reference)]
    if sent_at is not None:
        head.append((_("Sent on"), questionnaire.format_moment(sent_at, locale)))
    head.append((_("Sent to"), ", ".join(p for p in (profile.ip_cell, profile.council, profile.postal_address) if p)))
    if profile.crip_phone:
        head.append((_("Phone"), profile.crip_phone.number))
    if profile.email:
        head.append((_("E-mail"), profile.email))
    for label, value in head:
        pdf.block("/P", [(label, SIZES["/P"], True, 5.5), (value, SIZES["/P"], False, 5.5)], space_before=1.5)
    for section in questionnaire.summary(answers, None, locale, files=files):
        if not section.rows:
            continue
        pdf.block("/H2", [(section.title, SIZES["/H2"], True, 7)], space_before=5)
        for row in section.rows:
            pdf.block("/P", [(row.label, SIZES["/P"], True, 5.5), (row.value, SIZES["/P"], False, 5.5)],
                      space_before=1.5)
    return _finish(bytes(pdf.output()))
