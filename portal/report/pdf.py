"""A PDF copy of a professional's transmission, made on the fly and never stored."""
from __future__ import annotations

from pathlib import Path

from flask_babel import gettext as _
from fpdf import FPDF

FONT_CANDIDATES = (
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
    Path("/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf"),
)


def _pdf():
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_page()
    font = next((p for p in FONT_CANDIDATES if p.exists()), None)
    if font is not None:
        pdf.add_font("body", "", str(font))
        pdf.set_font("body", size=11)
        return pdf, lambda s: s
    pdf.set_font("helvetica", size=11)
    return pdf, lambda s: s.encode("latin-1", "replace").decode("latin-1")


def render_copy(reference: str, answers: dict, labels: dict, profile) -> bytes:
    pdf, clean = _pdf()
    width = pdf.w - pdf.l_margin - pdf.r_margin

    def line(label, value=""):
        text = f"{label}: {value}" if value not in (None, "") else str(label)
        pdf.multi_cell(width, 6, clean(str(text)), new_x="LMARGIN", new_y="NEXT")

    def title(text):
        pdf.ln(3)
        pdf.set_font(size=13)
        pdf.multi_cell(width, 8, clean(str(text)), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(size=11)

    title(_("Information préoccupante sent to %(cell)s", cell=profile.ip_cell))
    line(_("Reference"), reference)
    pro = answers.get("pro") or {}
    title(_("Establishment and author"))
    for key, label in (("establishment", _("Establishment or service")), ("author_name", _("Your name")),
                       ("author_role", _("Your role")), ("author_phone", _("Professional phone")),
                       ("author_email", _("Professional e-mail"))):
        line(label, pro.get(key))
    for i, c in enumerate(answers.get("children") or [], 1):
        title(_("Child %(n)s", n=i))
        line(_("Name"), f"{c.get('first_name') or ''} {c.get('last_name') or ''}".strip())
        line(_("Date of birth"), c.get("birth_date"))
        line(_("Age in years"), c.get("age"))
        line(_("School and class"), c.get("school"))
        line(_("Where the child lives"), f"{c.get('postcode') or ''} {c.get('commune_name') or ''}".strip())
        line(_("Address"), c.get("address"))
    concern = answers.get("concern") or {}
    title(_("What worries you"))
    line(_("What worries you?"), ", ".join(str(labels["category"].get(k, k)) for k in concern.get("categories", [])))
    line(_("Describe what you saw, heard or were told"), concern.get("account"))
    title(_("Facts observed, each with its date"))
    for fact in pro.get("facts") or []:
        if fact.get("what"):
            line(fact.get("when") or "—", fact.get("what"))
    line(_("The child's own words"), pro.get("child_words"))
    line(_("Family and social context"), pro.get("context"))
    line(_("Actions already taken"), pro.get("actions"))
    line(_("Were the parents told about this report?"), labels["yes_no"].get(pro.get("parents_told"), ""))
    line(_("If not, why?"), pro.get("parents_not_told_why"))
    line(_("Is a copy sent to your hierarchy (for schools: IEN or DASEN)?"), labels["yes_no"].get(pro.get("hierarchy_copy"), ""))
    line(_("Has a signalement been sent to the procureur de la République?"), labels["signalement"].get(pro.get("signalement"), ""))
    return bytes(pdf.output())
