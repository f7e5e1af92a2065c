"""One reading of a report everywhere: the check page, the CRIP's case page and the PDF copy show every
answer of a fully filled report in words, never a field key, a code, True/False/None or an ISO date."""
from __future__ import annotations

import html
import io
import re

import pytest

from portal.domain import questionnaire as Q

from .helpers import ADULTS, CHILD, CONCERN, PRO, db_session, signed_in_agent

ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
SECOND_CHILD = {"first_name": "Tom", "birth_date": "2020-05-06", "sex": "m", "postcode": "31000",
                "lives_with": "both_parents"}
ADULTS_FULL = dict(ADULTS, adult2_name="Marc Martin", adult2_relation="stepparent", adult2_contact="Toulouse")
PRO_FULL = dict(PRO, head_name="Anne Cheffe", child_spoke_on="2024-03-05", child_spoke_how="Seule avec l'infirmière.",
                parental_authority="both_parents", other_services="PMI de Toulouse")
CONCERN_FULL = dict(CONCERN, account="Elle arrive seule.\r\n\r\n\r\n\r\nElle a faim.")

# (label, answer) pairs a reader must find, in English (the tests' language).
EXPECTED_COMMON = [
    ("Name", "Léa Martin"), ("Age in years", "8"), ("Sex", "Girl"), ("School and class", CHILD["school"]),
    ("Where the child lives", "31000 Toulouse"), ("Address", CHILD["address"]),
    ("Who does the child live with?", "Mother"), ("Name", "Tom"), ("Date of birth", "May 6, 2020"), ("Sex", "Boy"),
    ("Who does the child live with?", "Both parents"),
    ("First adult", "Sandrine Martin – Mother – 06 11 22 33 44"),
    ("Second adult", "Marc Martin – Step-parent or partner of a parent – Toulouse"),
    ("Other adults or children in the household", "Un petit frère"),
    ("Since when?", "A few weeks"),
]
EXPECTED = {
    "public": EXPECTED_COMMON + [
        ("What worries you?", "Neglect (food, care, hygiene, supervision), Psychological violence (threats, humiliation…)"),
        ("Is the child in danger right now?", "No"),
        ("Who are you?", "A member of the public or of the family (neighbour, relative, friend…)"),
        ("Do you want to give your name?", "Yes, the CRIP may contact me"), ("Your name", "Jeanne Voisine"),
        ("Your relation to the child", "Neighbour"), ("Phone", "0611223344"), ("E-mail", "jeanne@example.org"),
        ("Language you prefer to be contacted in", "Français"),
        ("I would like to know what follows my report", "Yes"),
    ],
    "professional": EXPECTED_COMMON + [
        ("Your sector", "School (Éducation nationale, private school)"),
        ("Establishment or service", PRO["establishment"]), ("Name of the head of the school", "Anne Cheffe"),
        ("Your role", PRO["author_role"]), ("Fact 1", "Mar 4, 2024 – Bleus sur les bras."),
        ("Fact 2", "Mar 11, 2024 – Absente trois jours."), ("When did the child speak?", "Mar 5, 2024"),
        ("How did the child speak, and to whom?", "Seule avec l'infirmière."),
        ("The child's own words", PRO["child_words"]), ("Who holds parental authority?", "Both parents"),
        ("Other services already involved", "PMI de Toulouse"),
        ("Were the parents told about this report?", "Yes"),
        ("Has a signalement been sent to the procureur de la République?", "No"),
        ("Language you prefer to be contacted in", "Français"),
    ],
}


def _forbidden():
    keys = {q.key for step in Q.STEPS.values() for q in step.questions}
    codes = {code for v in Q.VOCABULARIES for code in v.codes}
    return keys | codes


def _rows(body: str) -> list:
    """(label, answer) of every <dt>/<dd> pair, as text."""
    out = []
    for dt, dd in re.findall(r"<dt>(.*?)</dt>\s*<dd[^>]*>(.*?)</dd>", body, re.S):
        clean = [" ".join(html.unescape(re.sub(r"<[^>]+>", " ", x)).split()) for x in (dt, dd)]
        out.append(tuple(clean))
    return out


def _assert_words(rows, expected, where):
    for pair in expected:
        assert pair in rows, f"{pair} not on the {where}: {rows}"
    forbidden = _forbidden()
    for label, value in rows:
        assert label not in forbidden and value not in forbidden, (where, label, value)
        assert not ISO_DATE.search(value), (where, label, value)
        for bad in ("True", "False", "None"):
            assert bad not in value.split(), (where, label, value)


def _fill(reporter, source):
    return reporter.fill(source, children=[CHILD, SECOND_CHILD], adults=ADULTS_FULL, concern=CONCERN_FULL,
                         pro=PRO_FULL, files=[("note.txt", b"hello")])


@pytest.mark.parametrize("source", ["public", "professional"])
def test_check_page_reads_every_answer_in_words(reporter, source):
    check = _fill(reporter, source)
    rows = _rows(check.body)
    _assert_words(rows, EXPECTED[source] + [("Attached files", "note.txt")], "check page")
    assert "Elle arrive seule.<br>" not in check.body and "<p>Elle arrive seule.</p><p>Elle a faim.</p>" in check.body



@pytest.mark.parametrize("source", ["public", "professional"])
def test_case_page_reads_every_answer_in_words(report_app, reporter, source):
    _fill(reporter, source)
    reporter.send()
    with db_session(report_app) as s:
        from .helpers import only_ip
        reference = only_ip(s).reference
    agent = signed_in_agent(report_app)
    page = agent.get(f"/crip/ip/{reference}?lang=en")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    answers = body[body.index('<div id="answers">'):body.index('id="messages"')]
    _assert_words(_rows(answers), EXPECTED[source], "case page")


def test_pdf_copy_reads_every_answer_and_is_tagged(reporter):
    from pypdf import PdfReader
    _fill(reporter, "professional")
    reporter.send()
    conf = reporter.confirmation()
    response = reporter.get("/confirmation/copie.pdf")
    assert response.status_code == 200 and response.headers["Content-Type"] == "application/pdf"
    pdf = PdfReader(io.BytesIO(response.data))
    text = " ".join(" ".join(page.extract_text().split()) for page in pdf.pages)
    for label, value in EXPECTED["professional"]:
        assert label in text and value in text, (label, value)
    assert conf.reference in text and "Sent on" in text and "CRIP de la Haute-Garonne" in text
    assert not ISO_DATE.search(text) and "None" not in text.split()
    root = pdf.trailer["/Root"]
    assert root["/Lang"] == "en" and "/StructTreeRoot" in root and root["/MarkInfo"]["/Marked"]
    kinds = [kid.get_object()["/S"] for kid in root["/StructTreeRoot"]["/K"][0].get_object()["/K"]]
    assert kinds.count("/H1") == 1 and "/H2" in kinds and "/P" in kinds


def test_pdf_copy_in_french_writes_french_dates(report_app):
    from pypdf import PdfReader
    from .helpers import Reporter
    reporter = Reporter(report_app, language="fr")
    _fill(reporter, "professional")
    reporter.send()
    pdf = PdfReader(io.BytesIO(reporter.get("/confirmation/copie.pdf").data))
    text = " ".join(" ".join(page.extract_text().split()) for page in pdf.pages)
    assert "04/03/2024 – Bleus sur les bras." in text and "06/05/2020" in text
    assert re.search(r"\d{2}/\d{2}/\d{4} \d{2}:\d{2}", text), "the date and time it was sent"
    assert pdf.trailer["/Root"]["/Lang"] == "fr"
