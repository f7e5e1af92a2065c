"""What the public pages say is exactly what the profiles give: each phone with its own label, the
119 and the Jura's ASE line never as the CRIP's number, no unsourced territory, the legal content
(L226-2-2, L226-4 II, 114, 15), the département's name in whole phrases of each language."""
from __future__ import annotations

import html
import re

import pytest

from portal.departements import load_profiles
from portal.public.views import PAGES
from tests.conftest import make_app


PROFILES = load_profiles()
CODES = list(PROFILES)
PATHS = ["/"] + [path for path, _template in PAGES.values()]


@pytest.fixture(scope="module")
def apps(tmp_path_factory):
    return {code: make_app(tmp_path_factory.mktemp(f"truth{code}"), PORTAL_DEPARTEMENTS=[code])
            for code in CODES}


def pages(apps, code, lang="en"):
    client = apps[code].test_client()
    for path in PATHS:
        r = client.get(f"{path}?lang={lang}")
        assert r.status_code == 200, path
        yield path, r.get_data(as_text=True)


def blocks(body):
    """Innermost list items and paragraphs, as (text, tel numbers)."""
    for m in re.finditer(r"<(li|p)\b[^>]*>((?:(?!<(?:li|p)\b).)*?)</\1>", body, re.S):
        inner = m.group(2)
        text = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", inner)).split())
        yield text, re.findall(r'href="tel:([^"]+)"', inner)


@pytest.mark.parametrize("code", CODES)
def test_only_the_cells_own_line_is_presented_as_the_cells(apps, code):
    profile = PROFILES[code]
    own = {profile.crip_phone.tel} if profile.crip_phone else set()
    seen = 0
    for path, body in pages(apps, code):
        for text, tels in blocks(body):
            if tels and (profile.ip_cell in text or "CRIP" in text):
                assert set(tels) <= own, (path, text)
                seen += 1
    assert seen > 0 if own else seen == 0


@pytest.mark.parametrize("code", ["38", "44"])
def test_without_a_number_of_its_own_the_119_is_only_the_119(apps, code):
    body = apps[code].test_client().get("/contacts?lang=en").get_data(as_text=True)
    text = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())
    assert f"No phone number of {PROFILES[code].ip_cell} is listed on this site." in text
    by_phone = body.split("By phone", 1)[1].split("<h2", 1)[0]
    assert "<h3>" not in by_phone                       # no line listed as the Département's
    assert "Allô Enfance en Danger (national line)" not in body


def test_the_jura_ase_line_shows_its_own_label(apps):
    for path, body in pages(apps, "39"):
        for text, tels in blocks(body):
            if "+33384874183" in tels and path != "/contacts":     # contacts: under its own heading
                assert "Child welfare service (ASE)" in text, (path, text)
                assert "Jura Enfance à protéger" not in text and "CRIP" not in text, (path, text)
    body = apps["39"].test_client().get("/contacts?lang=en").get_data(as_text=True)
    assert re.search(r'<h3>Child welfare service \(ASE\)</h3>\s*<p><a href="tel:\+33384874183"', body)
    assert ("This is the line of the child welfare service (ASE), for questions and requests. "
            "It is not the line of Jura Enfance à protéger.") in html.unescape(body)


def test_haute_garonne_crip_line_keeps_its_label(apps):
    body = apps["31"].test_client().get("/?lang=en").get_data(as_text=True)
    assert any("+33800310808" in tels and "CRIP line (Enfance en danger)" in text
               for text, tels in blocks(body))


@pytest.mark.parametrize("code", CODES)
def test_no_page_shows_an_unsourced_territory(apps, code):
    names = [t.name for t in PROFILES[code].territories if not t.source]
    assert names
    for lang in ("fr", "en"):
        for path, body in pages(apps, code, lang):
            for name in names:
                assert name not in html.unescape(body), (path, name)


@pytest.mark.settings(PORTAL_DEPARTEMENTS=["31"])
def test_a_sourced_territory_is_shown_with_its_source(app):
    import dataclasses
    p = app.config["PROFILES"]["31"]
    sourced = dataclasses.replace(p.territories[1], name="MDS de Muret", source="Département, carte 2025")
    app.config["PROFILES"]["31"] = dataclasses.replace(p, territories=(p.territories[0], sourced))
    body = html.unescape(app.test_client().get("/contacts?lang=en").get_data(as_text=True))
    assert "MDS de Muret (source: Département, carte 2025)" in " ".join(re.sub(r"<[^>]+>", " ", body).split())
    assert p.territories[0].name not in body


@pytest.mark.parametrize("code", CODES)
def test_emergency_numbers_on_every_page(apps, code):
    for path, body in pages(apps, code):
        assert 'href="tel:15"' in body, path
        assert 'href="sms:114"' in body, path
        assert "aphasic or dysphasic" in body, path


def test_legal_content_for_professionals(apps):
    body = html.unescape(apps["31"].test_client().get("/information-preoccupante?lang=en").get_data(as_text=True))
    text = " ".join(re.sub(r"<[^>]+>", " ", body).split())
    assert "Shared professional secrecy" in text and "(CASF, article L226-2-2)" in text
    assert "sends a copy to the president of the Département's council (président du conseil départemental)" in text
    assert "(CASF, article L226-4 II)" in text
    assert "SAMU on 15" in text
    assert "114 by SMS, with its app or by video" in text and "aphasic or dysphasic" in text


# The département's name in whole phrases ------------------------------------------------------

def h1(body):
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", re.search(r"<h1>(.*?)</h1>", body, re.S).group(1))).split())


def title(body):
    return html.unescape(re.search(r"<title>(.*?)</title>", body, re.S).group(1))


@pytest.mark.parametrize("code, english", [("31", "in Haute-Garonne"), ("39", "in Jura"), ("38", "in Isère")])
def test_the_name_enters_sentences_as_a_phrase_of_the_language(apps, code, english):
    client = apps[code].test_client()
    french = PROFILES[code].in_name
    en = client.get("/?lang=en").get_data(as_text=True)
    assert h1(en) == f"Worried about a child {english}?"
    assert english in title(en) and french not in title(en)
    fr = client.get("/?lang=fr").get_data(as_text=True)
    assert french in h1(fr)
    for lang in ("ar", "es", "pt", "uk", "tr", "ro", "fa", "ps"):
        for path in ("/", "/contacts", "/protection-de-l-enfance", "/signaler/"):
            body = client.get(f"{path}?lang={lang}").get_data(as_text=True)
            assert french not in html.unescape(body), (lang, path)


@pytest.mark.settings(PORTAL_DEPARTEMENTS=["39"])
def test_a_profile_can_give_the_phrase_for_a_language(app):
    import dataclasses
    p = app.config["PROFILES"]["39"]
    app.config["PROFILES"]["39"] = dataclasses.replace(p, in_names={**p.in_names, "en": "in the Jura"})
    body = app.test_client().get("/?lang=en").get_data(as_text=True)
    assert h1(body) == "Worried about a child in the Jura?"


def test_information_preoccupante_and_crip_are_explained_on_the_home_page(apps):
    body = apps["38"].test_client().get("/?lang=en").get_data(as_text=True)
    text = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())
    first_crip = text.index("CRIP")
    assert "the CRIP, the Département's team that receives every \"information préoccupante\", that is, every worry about a child" in text
    assert text.index("the Département's team") > first_crip - 10


# Quick exit -----------------------------------------------------------------------------------

def test_escape_hint_is_hidden_until_javascript_shows_it(apps):
    body = apps["31"].test_client().get("/?lang=en").get_data(as_text=True)
    hint = re.search(r'<span class="quick-exit-hint"[^>]*>', body).group(0)
    assert "hidden" in hint and "data-js-only" in hint
    assert 'href="/sortie"' in body


def test_safety_page_says_what_works_without_javascript(apps):
    body = html.unescape(apps["31"].test_client().get("/naviguer-en-securite?lang=en").get_data(as_text=True))
    assert "This works when JavaScript is turned on in your browser." in body
    # Only the page being read leaves the history (location.replace); the pages opened before it stay.
    assert ("When JavaScript is turned on, the button also takes the page you were reading out of your browser's history: "
            "the Back button does not bring you back to it. The Back button can still bring you back to the pages of this "
            "site that you opened before it, and, without JavaScript, to the page you left too.") in body


def test_site_script_binds_escape_only_where_the_quick_exit_is():
    from pathlib import Path
    js = (Path(__file__).resolve().parents[2] / "portal" / "static" / "js" / "site.js").read_text()
    assert "location.replace(link.href)" in js
    body = js[js.index("if (link) {"):js.index("// Move focus")]
    assert 'addEventListener("keydown"' in body        # the Escape shortcut lives inside `if (link)`
    assert "[data-js-only]" in js


def test_after_page_states_the_feedback_duties(apps):
    body = html.unescape(apps["44"].test_client().get("/apres-une-information-preoccupante?lang=en").get_data(as_text=True))
    text = " ".join(re.sub(r"<[^>]+>", " ", body).split())
    assert ("Professionals and elected officials (for example a mayor) who sent an information préoccupante are "
            "told what followed, within 3 months of sending it") in text
    assert "When the situation is passed to the judicial authority, the parents are told in writing" in text
    assert "décret n° 2016-1476" in text
