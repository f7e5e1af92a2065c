"""Words, not codes: every page a sender or a CRIP agent reads about a fully filled report — the check
page, the confirmation, the CRIP queue, the case page and the PDF copy — in French and in English,
shows no questionnaire code, no field key, no True/False/None and no ISO date in its visible text."""
from __future__ import annotations

import html
import io
import re
from pathlib import Path

import pytest

from portal.domain import questionnaire as Q
from portal.languages import CODES as LANGUAGE_CODES

from .helpers import CHILD, Reporter, db_session, only_ip, signed_in_agent
from .test_summary import ADULTS_FULL, CONCERN_FULL, PRO_FULL, SECOND_CHILD

ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
SOURCES = [s for s in ("public", "professional", "young", "elected") if s in Q.SOURCES.codes]
KEYS = {q.key for step in Q.STEPS.values() for q in step.questions}
CODES = {code for v in Q.VOCABULARIES for code in v.codes}
# Codes and keys that cannot be words of a sentence in any language: snake_case, age bands.
TECHNICAL = {w for w in KEYS | CODES if "_" in w or re.fullmatch(r"\d+-\d+|\w+\d", w)}
# English codes that are no French words: on a French page they are a code shown raw.
NOT_FRENCH = {w for w in KEYS | CODES if len(w) > 2 and w not in {"placement", "public", "social", "actions",
                                                                       "context", "account", "age", "adresse",
                                                                       "signalement", "establishment", "sexual"}}
RAW = {"True", "False", "None"}
SNAKE = re.compile(r"[a-z]+(?:_[a-z0-9]+)+")      # any stored key or code: young_sender, both_parents…


def visible(body: str) -> str:
    """The text a reader sees: no script, style, tag or attribute."""
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", body, flags=re.S | re.I)
    body = re.sub(r"<!--.*?-->", " ", body, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


def tokens(text: str) -> list:
    out = []
    for raw in text.split():
        if "@" in raw or "://" in raw or "/" in raw:
            continue                        # e-mail addresses, URLs, paths typed by the sender
        out.append(raw.strip(".,;:!?()«»\"'’“”[]…–—"))
    return out


def _untranslated(lang: str) -> list:
    """The questionnaire's texts the catalog of `lang` does not translate yet (new ones wait for the
    translation pass): shown in English meanwhile, they are words, not codes. Longest first."""
    source = (Path(Q.__file__)).read_text(encoding="utf-8")
    t = Q.translations(lang)
    return sorted({m for m in re.findall(r'N_\("((?:[^"\\]|\\.)*)"\)', source) if t.gettext(m) == m},
                  key=len, reverse=True)


def assert_words(text: str, lang: str, where: str):
    if lang != "en":
        for msgid in _untranslated(lang):
            text = text.replace(msgid, " ")
    found = ISO_DATE.findall(text)
    assert not found, f"ISO date {found} on the {where} ({lang})"
    words = tokens(text)
    bad = sorted({w for w in words if w in TECHNICAL or w in RAW or SNAKE.fullmatch(w)
                  or (w in LANGUAGE_CODES and w != "en")})  # "en": French word, "Enfance en Danger"
    if lang == "fr":
        bad += sorted({w for w in words if w in NOT_FRENCH})
    assert not bad, f"codes or keys {bad} on the {where} ({lang}): …{_around(text, bad[0])}…"


def _around(text, word, width=80):
    i = re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text)
    i = i.start() if i else 0
    return text[max(0, i - width):i + width]


def _pdf_text(data: bytes) -> str:
    from pypdf import PdfReader
    return " ".join(" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(data)).pages)


def _fill(reporter, source):
    return reporter.fill(source, children=[CHILD, SECOND_CHILD], adults=ADULTS_FULL, concern=CONCERN_FULL,
                         pro=PRO_FULL, files=[("note.txt", b"hello")])


@pytest.mark.parametrize("lang", ["fr", "en"])
@pytest.mark.parametrize("source", SOURCES)
def test_every_page_of_a_report_reads_in_words(report_app, source, lang):
    reporter = Reporter(report_app, language=lang)
    check = _fill(reporter, source)
    assert_words(visible(check.body), lang, "check page")
    reporter.send()
    confirmation = reporter.page("/confirmation")
    assert_words(visible(confirmation.body), lang, "confirmation")
    pdf = reporter.get("/confirmation/copie.pdf")
    if source == "professional":            # only a professional gets a copy of the report
        assert pdf.status_code == 200
        assert_words(_pdf_text(pdf.data), lang, "PDF copy")
    else:
        assert pdf.status_code == 404

    with db_session(report_app) as s:
        reference = only_ip(s).reference
    agent = signed_in_agent(report_app)
    queue = agent.get(f"/crip/?lang={lang}")
    assert queue.status_code == 200 and reference in queue.get_data(as_text=True)
    assert_words(visible(queue.get_data(as_text=True)), lang, "CRIP queue")
    case = agent.get(f"/crip/ip/{reference}?lang={lang}")
    assert case.status_code == 200
    case_text = visible(case.get_data(as_text=True))
    assert_words(case_text, lang, "case page")
    if lang == "en":
        assert "Written in Français" in case_text or "Written in English" in case_text
        if source == "young":
            assert "Urgency: High (written by a young person)" in case_text
            # the CRIP reads a young person's report in the third person, not as the questions spoke to them
            assert "Where the child lives" in case_text and "About yourself" not in case_text
            assert "Your date of birth" not in case_text and "How old are they?" not in case_text
