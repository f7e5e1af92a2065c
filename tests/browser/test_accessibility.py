"""axe-core (WCAG 2.0/2.1 A and AA) finds nothing on every public page in every language, nor on
every step of the form (with its error states, and the confirmation) in French and in Arabic.

Every page must also say its language and direction: <html lang=xx dir=ltr|rtl>.
The language is chosen once with ?lang=xx and kept in the session for the next pages.
Failures are collected over all the pages of a test, so that one run reports them all.
"""
from __future__ import annotations

import pytest

pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed (pip install -e '.[test]')")
from playwright.sync_api import expect

from portal.i18n import LANGUAGES
from portal.public.views import PAGES

DIRECTION = {code: d for code, _name, d in LANGUAGES}
PUBLIC_PATHS = ["/"] + [path for path, _template in PAGES.values()] + ["/signaler/", "/signaler/suivi"]
NOT_FOUND = "/cette-page-n-existe-pas"


@pytest.fixture
def audit(axe_check, describe_violations):
    """audit(page, lang, where, failures): checks <html lang dir> and axe; appends what is wrong."""
    def run(page, lang, where, failures):
        html = page.locator("html")
        actual = (html.get_attribute("lang"), html.get_attribute("dir"))
        if actual != (lang, DIRECTION[lang]):
            failures.append(f"{where}: <html lang={actual[0]} dir={actual[1]}>, "
                            f"expected lang={lang} dir={DIRECTION[lang]}")
        expect(page.locator("main")).to_have_count(1)
        violations = axe_check(page)
        if violations:
            failures.append(describe_violations(violations, f"{where} [{lang}]"))
    return run


@pytest.mark.parametrize("lang", list(DIRECTION))
def test_public_pages_have_no_axe_violation(page, live_server, audit, lang):
    failures: list[str] = []
    for i, path in enumerate(PUBLIC_PATHS):
        response = page.goto(live_server + path + (f"?lang={lang}" if i == 0 else ""))
        assert response.status == 200, (path, response.status)
        audit(page, lang, path, failures)
    response = page.goto(live_server + NOT_FOUND)
    assert response.status == 404
    audit(page, lang, f"{NOT_FOUND} (404)", failures)
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("lang", ["fr", "ar"])
def test_every_step_of_the_public_form_has_no_axe_violation(page, portal_factory, audit, tmp_path, lang):
    from PIL import Image
    portal = portal_factory(page)
    failures: list[str] = []

    def here(name):
        audit(page, lang, name, failures)

    portal.goto(f"/signaler/?lang={lang}")
    here("start")
    portal.submit()
    portal.expect_path("/signaler/etape/qui")
    here("qui")
    portal.submit()                                     # nothing chosen
    portal.expect_error_summary()
    here("qui (errors)")
    portal.who("public")
    portal.expect_path("/signaler/etape/enfant")
    here("enfant")
    portal.fill("postcode", "310")
    portal.fill("age", "40")
    portal.submit("[name=action][value=save]")          # a bad postcode and age
    portal.expect_error_summary()
    expect(page.locator("main [aria-invalid=true]")).to_have_count(2)
    here("enfant (errors)")
    portal.fill("postcode", "31000")
    portal.submit("[name=action][value=find_communes]")
    expect(page.locator("main [role=status]")).to_have_count(1)
    here("enfant (commune found)")
    portal.fill("first_name", "Léa")
    portal.fill("age", "6")
    portal.submit("[name=action][value=save]")
    portal.expect_path("/signaler/etape/enfants")
    here("enfants")
    portal.children()
    portal.expect_path("/signaler/etape/adultes")
    here("adultes")
    portal.adults()
    portal.expect_path("/signaler/etape/inquietude")
    here("inquietude")
    portal.submit()                                     # nothing filled in
    portal.expect_error_summary()
    here("inquietude (errors)")
    portal.concern("Des cris et des coups la nuit.", categories=(0, 3), danger="yes")
    portal.expect_path("/signaler/etape/urgence")
    here("urgence")
    with page.expect_navigation():
        page.locator("main a.button").click()
    portal.expect_path("/signaler/etape/vous")
    here("vous")
    portal.submit()                                     # neither anonymous nor named
    portal.expect_error_summary()
    here("vous (errors)")
    portal.sender(anonymous=True)
    portal.expect_path("/signaler/etape/documents")
    here("documents")
    response = portal.submit("[name=action][value=upload]")   # no file chosen
    assert response.status == 400
    portal.expect_error_summary()
    here("documents (errors)")
    png = tmp_path / "photo.png"
    Image.new("RGB", (8, 8), (200, 40, 40)).save(png)
    portal.field("file").set_input_files(str(png))
    portal.submit("[name=action][value=upload]")
    expect(page.locator("main [name=action][value^=remove-]")).to_have_count(1)
    here("documents (one file)")
    portal.documents()
    here("verifier")
    response = portal.submit("button[type=submit]")     # the box is not ticked
    assert response.status == 400
    portal.expect_error_summary()
    here("verifier (errors)")
    reference, code = portal.send()
    here("confirmation")

    portal.goto("/signaler/suivi")
    response = portal.submit()
    assert response.status == 400
    portal.expect_error_summary()
    here("suivi (errors)")
    portal.fill("reference", reference)
    portal.fill("code", code)
    portal.submit()
    portal.expect_path("/signaler/suivi/messages")
    here("suivi/messages")
    assert not failures, "\n".join(failures)


def test_professional_and_young_steps_have_no_axe_violation(page, portal_factory, audit):
    """The pages only these paths show, in Arabic (right to left)."""
    lang = "ar"
    portal = portal_factory(page)
    failures: list[str] = []

    def here(name):
        audit(page, lang, name, failures)

    portal.start(lang)
    portal.who("professional", sector="school")
    portal.child(postcode="31000", age="9")
    portal.children()
    portal.adults()
    portal.concern("Marques de coups.", categories=(0,))
    portal.expect_path("/signaler/etape/professionnel")
    here("professionnel")
    portal.submit("[name=action][value=save]")          # nothing filled in
    portal.expect_error_summary()
    here("professionnel (errors)")
    portal.submit("[name=action][value=add_fact]")
    here("professionnel (fact added)")
    page.context.clear_cookies()

    portal.start(lang)
    portal.who("young")
    portal.expect_path("/signaler/etape/enfant")
    here("enfant (young)")
    portal.child(postcode="31000")
    portal.children()
    portal.expect_path("/signaler/etape/inquietude")
    here("inquietude (young)")
    portal.concern("Mon ami a peur de rentrer chez lui.")
    portal.expect_path("/signaler/etape/vous")
    here("vous (young)")
    assert not failures, "\n".join(failures)


def test_axe_is_really_running(page, axe_check):
    """Guards the checks above against passing vacuously: a known-bad page has violations."""
    page.set_content("<html><body><img src='data:,'><input type=text></body></html>")
    ids = {v["id"] for v in axe_check(page)}
    assert {"html-has-lang", "image-alt", "label"} <= ids, ids


@pytest.mark.parametrize("lang", ["fr", "ar"])
def test_departement_choice_has_no_axe_violation(page, multi_live_server, audit, lang):
    """With several départements served, / asks which one: as asked, unserved, shared postcode,
    overseas collectivity, typo, nothing found, many matches."""
    failures: list[str] = []
    queries = ["", "?q=75001&change=1", "?q=01590&change=1", "?q=975&change=1", "?q=Tolouse&change=1",
               "?q=zzzzqx&change=1", "?q=a&change=1"]
    for i, query in enumerate(queries):
        sep = "&" if query else "?"
        response = page.goto(multi_live_server + "/" + query + (f"{sep}lang={lang}" if i == 0 else ""))
        assert response.status == 200
        expect(page.locator("#q")).to_have_count(1)
        expect(page.locator("main ul.cards li")).to_have_count(4)          # the départements served
        if query.startswith("?q=a"):
            assert page.locator("main ul.places li").count() >= 3
        audit(page, lang, f"/{query or ''} (choice)", failures)
    assert not failures, "\n".join(failures)
