"""A PDF copy of a professional's transmission, made on the fly from the one summary, never stored.

The PDF is tagged (a structure tree with headings and paragraphs, the document language, a title
shown by viewers) so that a screen reader reads it in order.
"""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

from fpdf import FPDF, ViewerPreferences
from fpdf.enums import MethodReturnValue

from ..domain import questionnaire

FONT_CANDIDATES = (
    (Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"), Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")),
    (Path("/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf"), Path("/usr/share/fonts/truetype/noto/NotoSans-Bold.ttf")),
)
SIZES = {"/H1": 15, "/H2": 13, "/P": 10.5}


class TaggedPDF(FPDF):
    """FPDF writing each block inside a marked-content sequence tied to a structure element."""

    def __init__(self, lang: str):
        super().__init__(format="A4")
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

    def _height(self, parts) -> float:
        total = 0.0
        for text, size, bold, line in parts:
            self.use(size, bold)
            total += len(self.multi_cell(self.epw, line, self.clean(text), dry_run=True, output=MethodReturnValue.LINES)) * line
        return total

    def block(self, struct_type: str, parts, space_before: float = 0.0):
        """One structure element (heading or paragraph) made of (text, size, bold, line height) parts,
        kept on one page (a block taller than a page goes out line by line, each line its own element)."""
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


def render_copy(reference: str, answers: dict, *, sent_at, profile, locale: str, gettext, files=None) -> bytes:
    """`gettext`: the translation function of the reader's language (the summary uses `locale`);
    `files`: the names of the attached files (None: no documents section)."""
    _ = gettext
    pdf = TaggedPDF(locale)
    title = _("Information préoccupante sent to %(cell)s", cell=profile.ip_cell)
    pdf.set_title(title)
    pdf.set_creator(profile.council)
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
        pdf.block("/H2", [(section.title, SIZES["/H2"], True, 7)], space_before=5)
        for row in section.rows:
            pdf.block("/P", [(row.label, SIZES["/P"], True, 5.5), (row.value, SIZES["/P"], False, 5.5)],
                      space_before=1.5)
    return bytes(pdf.output())
