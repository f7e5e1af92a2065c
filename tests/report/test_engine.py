"""The step engine serves every step from the one declaration (portal/domain/questionnaire.py): a label,
a code, a required-when or a shown-when rule changed there is changed on the form, in what the form
refuses and in what the summary reads, with nothing else to edit. And the paths it serves: the young
person's, in their words, and the professional's, asked once."""
from __future__ import annotations

import pytest

from portal.domain import questionnaire as Q
from portal.forms import report as F

from .helpers import CONCERN, PRO, PUBLIC_SENDER, Page, Reporter, assert_error_page


@pytest.fixture
def reporter(app):
    return Reporter(app)


@pytest.fixture(autouse=True)
def _forms_rebuilt():
    """These tests edit the declaration: the step forms, built once per process from it, are rebuilt."""
    F.step_form.cache_clear()
    yield
    F.step_form.cache_clear()


def _main(page: Page) -> str:
    return page.text[page.text.index("<main"):page.text.index("</main>")]


# --- one edit -------------------------------------------------------------------------------------

def test_a_code_added_to_a_vocabulary_is_offered_and_read_back(reporter, monkeypatch):
    monkeypatch.setattr(Q.SINCE, "items", (*Q.SINCE.items, ("decade", "For ten years or more")))
    reporter.fill(until="inquietude")
    page = reporter.page("/etape/inquietude")
    assert "decade" in page.options("since") and "For ten years or more" in page.text
    reporter.step("inquietude", dict(CONCERN, since="decade"), to="/etape/vous")
    reporter.step("vous", PUBLIC_SENDER, to="/etape/documents")
    check = reporter.to_check()
    assert "For ten years or more" in check.text and ">decade<" not in check.body
    rows = {r.key: r.value for s in Q.summary({"concern": dict(CONCERN, since="decade")}, Q.PUBLIC, "en")
            for r in s.rows}
    assert rows["since"] == "For ten years or more"


def test_a_label_changed_in_the_declaration_is_the_forms_and_the_summarys(reporter, monkeypatch):
    monkeypatch.setattr(Q.question(Q.CONCERN, "since"), "label", "How long has it been going on?")
    reporter.fill(until="inquietude")
    assert '<label for="since">How long has it been going on?' in reporter.page("/etape/inquietude").body
    labels = [r.label for s in Q.summary({"concern": CONCERN}, Q.PUBLIC, "en") for r in s.rows]
    assert "How long has it been going on?" in labels and "Since when?" not in labels


def test_what_is_required_comes_from_the_declaration(reporter, monkeypatch):
    reporter.fill(until="adultes")
    before = reporter.page("/etape/adultes")
    assert "(optional)</span></h1>" in before.body.replace("\n", "")
    monkeypatch.setattr(Q.question(Q.ADULTS, "others"), "required", Q.always)
    monkeypatch.setattr(Q.question(Q.ADULTS, "others"), "missing", "Say who else lives there.")
    page = reporter.page("/etape/adultes")
    assert "(optional)</span></h1>" not in page.body.replace("\n", ""), "the step is no longer optional"
    refused = reporter.step_page("adultes", {"adult1_name": "Sandrine Martin"})
    assert refused.status == 400
    assert_error_page(refused, "Say who else lives there.")
    assert refused.error_links == [("#others", "Say who else lives there.")]
    assert refused.value("adult1_name") == "Sandrine Martin"
    reporter.step("adultes", {"others": "Un oncle."}, to="/etape/inquietude")


def test_what_is_shown_comes_from_the_declaration(reporter):
    """The head of school is asked of a school only (a condition on an earlier page: absent, not hidden)."""
    reporter.fill("professional", sector="health", until="professionnel")
    assert not reporter.page("/etape/professionnel").has_field("head_name")
    reporter.page("/etape/qui")
    reporter.step("qui", {"source_type": "professional", "sector": "school"}, to="/etape/enfant")
    page = reporter.page("/etape/professionnel")
    assert page.has_field("head_name")
    assert '<label for="head_name">Name of the head of the school <span class="optional">(optional)</span>' in page.body


def test_no_step_form_has_rules_of_its_own():
    """Required-when rules and checks live in the declaration only: no validate_<field> in a form."""
    for step in Q.STEPS.values():
        for variant in (*Q.PATHS, Q.YOUNG_FRIEND):
            if step.kind == "questions":
                form = F.step_form(step, variant)
                own = [n for n in dir(form) if n.startswith("validate_") and n != "validate_on_submit"]
                assert not own, (step.slug, variant)
                assert {q.key for q in step.asked(variant)} <= set(dir(form))


# --- the young person's path ----------------------------------------------------------------------

def test_a_young_person_says_who_they_write_about(reporter):
    reporter.fill(until="qui")
    revealed = reporter.step_page("qui", {"source_type": "young"})
    assert revealed.status == 200 and not revealed.has_error_summary and revealed.has_field("about")
    assert "Who are you writing about?" in revealed.text and "(optional)" not in _main(revealed)
    refused = reporter.step_page("qui", {"source_type": "young", "revealed": "source_type=young"})
    assert_error_page(refused, "Choose who you are writing about.")
    assert refused.checked("source_type") == ["young"]


def test_a_young_person_writing_about_themself_has_no_list_of_children(reporter):
    reporter.fill("young", until="enfant")
    child = reporter.page("/etape/enfant?n=0")
    main = _main(child)
    assert "About yourself" in main and "Your postcode" in main and "How old are you?" in main
    assert "I don't know my postcode" in main
    assert "the child" not in main and "Approximate age" not in main and "Sex" not in main
    assert reporter.step("enfant", {"postcode": "31000", "age": "12"}, n=0, to="/etape/inquietude")
    assert reporter.get("/etape/enfants").status_code == 302, "no list of children"
    assert reporter.get("/etape/enfant?n=1").status_code == 404, "no second child"
    concern = reporter.page("/etape/inquietude")
    assert [href for href, text in concern.links if text == "Back"][0].endswith("/etape/enfant?n=0")
    assert "Step 3 of 6" in concern.text
    main = _main(concern)
    assert main.index("allo119.gouv.fr") < main.index('name="categories"')
    assert "What is happening to you?" in main and "Someone hits me or hurts me" in main
    assert "the child" not in main


def test_a_young_person_writing_about_friends_lists_them(reporter):
    reporter.fill("young", about="other", until="enfant")
    child = reporter.page("/etape/enfant?n=0")
    main = _main(child)
    assert "About your friend, brother or sister" in main and "Their first name" in main
    assert "Where they live" in main and "I don't know where they live" in main and "the child" not in main
    reporter.step("enfant", {"first_name": "Noa", "postcode": "31000"}, n=0, to="/etape/enfants")
    listing = reporter.page("/etape/enfants")
    assert "The young people you are writing about" in listing.text and "Noa" in listing.text
    assert "Add another friend, brother or sister" in listing.text
    reporter._moved(reporter.post("/etape/enfants", {"action": "add"}), "/etape/enfant")
    second = reporter.page("/etape/enfant?n=1")
    assert "Another friend, brother or sister (2)" in second.text
    reporter.step("enfant", {"first_name": "Lou", "postcode": "31000"}, n=1, to="/etape/enfants")
    reporter._moved(reporter.post("/etape/enfants", {"action": "continue"}), "/etape/inquietude")
    concern = reporter.page("/etape/inquietude")
    assert "What is happening to them?" in concern.text and "Someone hits them or hurts them" in concern.text
    assert "Are they in danger right now?" in concern.text


def test_a_young_person_who_then_writes_about_themself_keeps_one_child(reporter):
    reporter.fill("young", about="other", children=[{"first_name": "Noa", "postcode": "31000"},
                                                    {"first_name": "Lou", "postcode": "31000"}])
    reporter.page("/etape/qui")
    reporter.step("qui", {"source_type": "young", "about": "self"}, to="/etape/enfant")
    assert reporter.get("/etape/enfant?n=1").status_code == 404
    check = reporter.page("/verifier")
    assert "Noa" in check.text and "Lou" not in check.text and "Child 2" not in check.text


def test_the_young_persons_check_page_reads_their_words(reporter):
    check = reporter.fill("young", concern={"categories": ["physical"], "account": "Il me tape.", "danger_now": "no"})
    assert "About me" in check.text and "Someone hits me or hurts me" in check.text
    assert "Where you live" in check.text
    assert "Add or remove a child" not in check.text, "no list of children to go to"
    assert "Check what you wrote before sending" in check.text and "your message goes to" in check.text
    assert "Who is writing?" in check.text and "Who are you?" not in check.text
    reporter.send()
    confirmation = reporter.page("/confirmation")
    assert "Your message has been sent" in confirmation.text and "Your secret follow-up code" in confirmation.text
    assert "the person you are worried about" not in confirmation.text
    # what happens next, in the young person's words too
    assert "reads your message, the most urgent ones first, within 1 working day." in confirmation.text
    assert "analyses your report" not in confirmation.text and "elected officials" not in confirmation.text
    assert "the team answers within 3 months of your question" in confirmation.text


# --- the professional's path ----------------------------------------------------------------------

def test_a_professional_writes_the_facts_once(reporter):
    """The dated facts are the account: the free text is optional and says so."""
    reporter.fill("professional", until="inquietude")
    page = reporter.page("/etape/inquietude")
    assert ('<label for="account">Anything the dated facts do not say <span class="optional">(optional)</span>'
            in page.body)
    reporter.step("inquietude", {"categories": ["physical"], "danger_now": "no"}, to="/etape/professionnel")
    refused = reporter.step_page("professionnel", dict(PRO, **{"facts-0-what": "", "facts-1-what": "",
                                                                "facts-0-when": "", "facts-1-when": ""}))
    assert_error_page(refused, "Describe at least one fact, with its date if you know it.")


def test_the_public_must_describe_what_worries_them(reporter):
    reporter.fill(until="inquietude")
    page = reporter.page("/etape/inquietude")
    assert '<label for="account">Describe what you saw, heard or were told</label>' in page.body.replace("\n", "")


def test_a_young_person_in_danger_reads_it_in_their_words(reporter):
    reporter.fill("young", until="inquietude")
    location = reporter.step("inquietude", {"categories": ["physical"], "account": "Il me tape.", "danger_now": "yes"},
                             to="/etape/urgence")
    page = Page.of(reporter.client.get(location))
    assert "Call now if you are in danger" in page.text and "If you are in danger right now" in page.text
    assert "tel:17" in page.body and "the child" not in _main(page)


def test_the_young_persons_own_words_on_the_sender_step(reporter):
    reporter.fill("young", until="vous")
    page = reporter.page("/etape/vous")
    main = _main(page)
    assert "How to reach you" in main and "Do you want to tell us your name?" in main
    assert "How can we reach you?" in main and "What should we call you?" in main
    assert not page.has_field("relation") and "the child" not in main
    assert page.checked("anonymous") == ["yes"]
    refused = reporter.step_page("vous", {"anonymous": "no", "revealed": "anonymous=no", "contact_language": "fr"})
    assert_error_page(refused, "Write your name, or choose not to give it.",
                      "Give a phone number or an e-mail address, or choose not to give your name.")
