"""What every step shows: one H1, "Step n of total", the primary button first, "Error: " in the title
when the page comes back with errors; a chosen file is never dropped."""
from __future__ import annotations

import io
import re

import pytest

from portal.domain import questionnaire as Q

from .helpers import Page


def _title(page: Page) -> str:
    return re.search(r"<title>(.*?)</title>", page.body, re.S).group(1)


def _first_submit(page: Page, form_index: int = 0) -> str:
    forms = re.findall(r"<form\b.*?</form>", page.body, re.S)
    main_forms = [f for f in forms if 'name="action"' in f or "Continue" in f]
    return re.search(r"<button[^>]*>(.*?)</button>", main_forms[form_index], re.S).group(1)


@pytest.mark.parametrize("source", list(Q.PATHS))
def test_every_step_has_one_h1_a_counter_and_continue_first(reporter, source):
    reporter.fill(source, until="documents")
    visited = {}
    for slug in Q.steps_of({"source_type": source, "about": "self"}):
        page = reporter.page(f"/etape/{slug}" + ("?n=0" if slug == Q.CHILD else ""))
        visited[slug] = page
        assert page.body.count("<h1") == 1, slug
        n, total = Q.step_number(source, slug)
        assert f"Step {n} of {total}" in page.text, slug
        assert "Continue" in _first_submit(page), (slug, _first_submit(page))
    assert "Step 1 of" in visited[Q.WHO].text
    assert f"Step {len(Q.PATHS[source]) - 1} of {len(Q.PATHS[source])}" in visited[Q.FILES].text


def test_error_pages_say_so_in_the_title(reporter):
    reporter.fill(until="qui")
    page = reporter.step_page("qui", {})
    assert page.status == 400 and _title(page).startswith("Error: Who are you?")
    fine = reporter.page("/etape/qui")
    assert not _title(fine).startswith("Error")


def test_continue_with_a_chosen_file_attaches_it(reporter):
    reporter.fill(until="documents")
    response = reporter.post("/etape/documents", {"action": "continue", "file": (io.BytesIO(b"notes du jour"), "notes.txt")},
                             content_type="multipart/form-data")
    assert response.status_code == 302 and response.headers["Location"].split("?")[0].endswith("/verifier")
    check = reporter.page("/verifier")
    assert "notes.txt" in check.text


def test_continue_with_a_bad_file_stops_with_a_message(reporter):
    reporter.fill(until="documents")
    page = Page.of(reporter.post("/etape/documents", {"action": "continue", "file": (io.BytesIO(b"MZ\x90\x00"), "virus.exe")},
                                 content_type="multipart/form-data"))
    assert page.status == 400 and page.has_error_summary
    assert "This type of file is not accepted" in page.text
    assert _title(page).startswith("Error: ")


def test_postcode_lookup_lands_at_the_result(reporter):
    reporter.fill(until="enfant")
    page = reporter.page("/etape/enfant?n=0")
    assert 'formaction="' in page.body and '#where"' in page.body
    found = reporter.step_page("enfant", {"postcode": "31000", "action": "find_communes"}, n=0)
    assert found.status == 200 and "Commune: Toulouse" in found.text and 'id="where"' in found.body


def test_the_next_child_is_offered_the_previous_childs_commune(reporter):
    from .helpers import CHILD
    reporter.fill(until="enfant")
    reporter.step("enfant", CHILD, n=0, to="/etape/enfants")
    second = reporter.page("/etape/enfant?n=1")
    assert second.value("postcode") == "31000" and second.value("address") == CHILD["address"]
    assert second.value("first_name") == "" and second.checked("sex") == []


def test_young_person_reads_the_119_and_its_chat_first(reporter):
    reporter.fill("young", until="inquietude")
    page = reporter.page("/etape/inquietude")
    h1 = page.body.index("<h1")
    assert page.body.index("119", h1) < page.body.index('name="categories"')
    assert "allo119.gouv.fr" in page.text and "a place where you feel safe" in page.text
    assert "Are you in danger right now?" in page.text and "Is the child in danger" not in page.text
    assert "Someone hits me or hurts me" in page.text and "Unaccompanied minor" not in page.text


def test_no_step_slug_is_written_outside_the_declaration():
    from pathlib import Path
    root = Path(__file__).resolve().parents[2] / "portal"
    slugs = (Q.WHO, Q.CHILD, Q.CHILDREN, Q.ADULTS, Q.CONCERN, Q.PRO, Q.SENDER, Q.FILES, Q.URGENT)
    files = list((root / "report").glob("*.py")) + list((root / "templates" / "report").glob("*.html"))
    for path in files:
        text = path.read_text(encoding="utf-8")
        for slug in slugs:
            for quoted in (f'"{slug}"', f"'{slug}'"):
                assert quoted not in text, f"{quoted} in {path.name}: use portal.domain.questionnaire"
