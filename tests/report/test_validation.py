"""What each step of the IP form refuses, how it says so, and what happens to a lost or stale draft."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from portal.models import Draft, InformationPreoccupante

from .helpers import (
    CHILD, CONCERN, PRO, PUBLIC_SENDER, Page, assert_error_page, count, years_ago,
)


def refused(reporter, step, data, n=None, *messages) -> Page:
    """POST a step that must be refused: an error page whose summary links to fields of the page."""
    page = reporter.step_page(step, data, n=n)
    assert page.status in (200, 400), page.describe()
    assert_error_page(page, *messages)
    for message in messages:
        assert any(message in e for e in page.inline_errors), f"no inline error {message!r}: {page.inline_errors}"
    return page


# --- each step ------------------------------------------------------------------------------------

def test_who_step_requires_an_answer(reporter):
    reporter.fill(until="qui")
    page = refused(reporter, "qui", {}, None, "Choose who you are.")
    assert ("#source_type-0", "Choose who you are.") in page.error_links


def test_professional_must_give_a_sector(reporter):
    reporter.fill(until="qui")
    # Without JavaScript the sector is not on the page yet: choosing "professional" reveals it.
    revealed = reporter.step_page("qui", {"source_type": "professional", "sector": ""})
    assert revealed.status == 200 and not revealed.has_error_summary and revealed.has_field("sector")
    assert "(optional)" not in revealed.text
    page = refused(reporter, "qui", {"source_type": "professional", "sector": "", "revealed": "source_type=professional"},
                   None, "Choose your sector.")
    assert page.checked("source_type") == ["professional"]


@pytest.mark.parametrize("postcode", ["3100", "ABCDE", "310000", "31-00"])
def test_invalid_postcode(reporter, postcode):
    reporter.fill(until="enfant")
    page = refused(reporter, "enfant", dict(CHILD, postcode=postcode), 0,
                   "Enter a postcode of 5 digits, for example 31000.")
    assert ("#postcode", "Enter a postcode of 5 digits, for example 31000.") in page.error_links
    assert page.value("postcode") == postcode
    assert page.value("first_name") == CHILD["first_name"] and page.value("address") == CHILD["address"]
    assert page.value("lives_with") == CHILD["lives_with"] and page.checked("sex") == [CHILD["sex"]]


def test_future_birth_date(reporter):
    reporter.fill(until="enfant")
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    page = refused(reporter, "enfant", dict(CHILD, age="", birth_date=tomorrow), 0, "The date cannot be in the future.")
    assert ("#birth_date", "The date cannot be in the future.") in page.error_links
    assert page.value("birth_date") == tomorrow and page.value("last_name") == CHILD["last_name"]


@pytest.mark.parametrize("fields, message", [
    ({"age": "30"}, "Enter an age between 0 and 21."),
    ({"age": "3", "birth_date": years_ago(10)}, "The age does not match the date of birth."),
])
def test_age_checks(reporter, fields, message):
    reporter.fill(until="enfant")
    page = refused(reporter, "enfant", dict(CHILD, **fields), 0, message)
    assert page.value("age") == fields["age"]


def test_where_the_child_lives_is_required(reporter):
    reporter.fill(until="enfant")
    refused(reporter, "enfant", dict(CHILD, postcode=""), 0,
            "Enter the postcode, or tick “I don't know where the child lives”.")


def test_adults_step_is_optional(reporter):
    reporter.fill(until="adultes")
    reporter.step("adultes", {}, to="/etape/inquietude")


def test_too_long_text_is_refused_with_a_message(reporter):
    reporter.fill(until="adultes")
    page = reporter.step_page("adultes", {"adult1_name": "N" * 121, "others": "Deux cousins."})
    assert page.status in (200, 400), page.describe()
    assert_error_page(page)
    assert [href for href, _t in page.error_links] == ["#adult1_name"] and page.inline_errors
    assert page.value("others") == "Deux cousins." and page.value("adult1_name") == "N" * 121


def test_concern_step(reporter):
    reporter.fill(until="inquietude")
    page = refused(reporter, "inquietude", {"since": "months"}, None,
                   "Choose at least one kind of worry.", "Describe what worries you.",
                   "Answer whether the child is in danger right now.")
    assert {href for href, _t in page.error_links} == {"#categories-0", "#account", "#danger_now-0"}
    assert page.value("since") == "months"
    page = refused(reporter, "inquietude", {"account": "Ce que j'ai vu <b>hier</b>.", "danger_now": "unknown"}, None,
                   "Choose at least one kind of worry.")
    assert page.value("account") == "Ce que j'ai vu <b>hier</b>."
    assert page.checked("danger_now") == ["unknown"]
    assert "<b>hier</b>" not in page.body, "typed text is escaped"


def test_professional_step(reporter):
    reporter.fill("professional", until="professionnel")
    page = refused(reporter, "professionnel", {"context": "Contexte saisi.", "facts-1-when": "2024-01-02"}, None,
                   "Enter your establishment or service.", "Enter your name.", "Enter your role.",
                   "Say whether the parents were told.", "Say whether a copy is sent to your hierarchy.",
                   "Say whether a signalement was sent to the procureur.")
    assert page.value("context") == "Contexte saisi." and page.value("facts-1-when") == "2024-01-02"


@pytest.mark.parametrize("facts, message", [
    pytest.param({"facts-0-when": "", "facts-0-what": " ", "facts-1-when": "", "facts-1-what": ""},
                 "Describe at least one fact, with its date if you know it.", id="no-fact"),
    pytest.param({"facts-1-when": "2024-01-02", "facts-1-what": ""},
                 "Each date needs the fact observed that day.", id="date-without-fact"),
    pytest.param({"facts-0-when": (date.today() + timedelta(days=3)).isoformat()},
                 "The date cannot be in the future.", id="future-date"),
])
def test_professional_facts(reporter, facts, message):
    reporter.fill("professional", until="professionnel")
    page = refused(reporter, "professionnel", dict(PRO, **facts), None, message)
    assert page.value("establishment") == PRO["establishment"]


def test_professional_must_give_a_phone_or_an_email(reporter):
    reporter.fill("professional", until="professionnel")
    refused(reporter, "professionnel", dict(PRO, author_phone="", author_email=""), None,
            "Give a phone number or an e-mail address so the CRIP can reach you.")


def test_sender_step_requires_a_choice(reporter):
    reporter.fill(until="vous")
    page = refused(reporter, "vous", {"phone": "0600000000", "contact_language": "es"}, None,
                   "Choose whether you give your name.")
    assert page.value("phone") == "0600000000" and page.value("contact_language") == "es"


def test_named_sender_gives_a_name_and_a_contact(reporter):
    reporter.fill(until="vous")
    page = refused(reporter, "vous", {"anonymous": "no", "relation": "family", "contact_language": "fr",
                                      "revealed": "anonymous=no"}, None,
                   "Enter your name, or choose to stay anonymous.",
                   "Give a phone number or an e-mail address, or choose to stay anonymous.")
    assert page.value("relation") == "family"


def test_bad_email_of_a_sender(reporter):
    reporter.fill(until="vous")
    page = refused(reporter, "vous", dict(PUBLIC_SENDER, email="jeanne-at-example"), None,
                   "Enter a valid e-mail address.")
    assert page.value("email") == "jeanne-at-example"


def test_bad_email_of_a_professional(reporter):
    reporter.fill("professional", until="professionnel")
    refused(reporter, "professionnel", dict(PRO, author_email="direction@"), None, "Enter a valid e-mail address.")


def test_a_valid_email_is_accepted(reporter):
    reporter.fill(until="vous")
    reporter.step("vous", dict(PUBLIC_SENDER, email="jeanne@example.org"), to="/etape/documents")


def test_documents_step_without_a_file(reporter):
    reporter.fill(until="documents")
    page = Page.of(reporter.post("/etape/documents", {"action": "upload"}, content_type="multipart/form-data"))
    assert page.status == 400
    assert_error_page(page, "Choose a file first.")
    assert page.inline_errors == ["Choose a file first."]


def test_send_without_confirming(reporter):
    reporter.fill()
    page = Page.of(reporter.send(confirm=""))
    assert page.status == 400
    assert_error_page(page, "Tick the box to confirm.")
    assert ("#confirm", "Tick the box to confirm.") in page.error_links
    assert CONCERN["account"] in page.text, "the answers are still on the page"
    assert count(reporter.app, InformationPreoccupante) == 0


# --- the young person's path ----------------------------------------------------------------------

def test_young_person_needs_only_where_the_child_lives(reporter):
    reporter.fill("young", until="enfant")
    page = reporter.page("/etape/enfant?n=0")
    labels = [label for label in page.body.split("<label")[1:] if "</label>" in label]
    required = [label for label in labels if 'for="postcode' not in label and "(optional)" not in label
                and 'for="sex-' not in label and 'for="postcode_unknown' not in label]
    assert required == [], "only the postcode is shown as required"
    assert 'for="school"' not in page.body
    # Writing about themself, a young person has no list of children: on to what is happening.
    reporter.step("enfant", {"postcode": "31000"}, n=0, to="/etape/inquietude")
    # And "I don't know my postcode" is enough too.
    reporter.step("enfant", {"postcode": "", "postcode_unknown": "y"}, n=0, to="/etape/inquietude")


def test_young_person_empty_child_step_asks_only_where(reporter):
    reporter.fill("young", until="enfant")
    page = refused(reporter, "enfant", {}, 0, "Enter your postcode, or tick “I don't know my postcode”.")
    assert [href for href, _t in page.error_links] == ["#postcode"]


@pytest.mark.settings(RATELIMIT_FORM_STEP="4 per minute")
def test_step_rate_limit_keeps_what_was_typed_without_saving_it(reporter):
    reporter.fill(until="enfant")                                   # 2 POSTs: start and "who"
    reporter.step("enfant", dict(CHILD, first_name="Un"), n=0)
    reporter.step("enfant", dict(CHILD, first_name="Deux"), n=0)
    response = reporter.post("/etape/enfant?n=0", dict(CHILD, first_name="Trois"))
    page = Page.of(response)
    assert page.status == 429 and int(response.headers["Retry-After"]) > 0
    assert "Please wait a moment" in page.text
    assert page.value("first_name") == "Trois", "what was typed is still on the page"
    assert reporter.page("/etape/enfant?n=0").value("first_name") == "Deux", "but it was not saved"


# --- lost, stale or forged drafts -----------------------------------------------------------------

STEPS = ["qui", "enfant", "enfants", "adultes", "inquietude", "professionnel", "vous", "documents", "urgence"]


def _sent_to_start(response, expired=True):
    assert response.status_code == 302, response.status_code
    location = response.headers["Location"]
    assert location.split("?")[0].endswith("/signaler/")
    assert ("expire=1" in location) is expired, location
    return location


@pytest.mark.parametrize("method", ["get", "post"])
def test_steps_without_a_draft_go_back_to_the_start(reporter, method):
    for step in STEPS:
        _sent_to_start(getattr(reporter, method)(f"/etape/{step}"))
    _sent_to_start(reporter.get("/verifier"))
    _sent_to_start(reporter.post("/envoyer", {"confirm": "y"}))
    start = reporter.page("/?expire=1")
    assert "Your form was closed after a long pause" in start.text


def test_unknown_step_is_404(reporter):
    assert reporter.get("/etape/inconnue").status_code == 404
    reporter.fill(until="enfant")
    assert reporter.get("/etape/inconnue").status_code == 404
    assert reporter.post("/etape/inconnue", {}).status_code == 404


@pytest.mark.parametrize("n", ["1", "5", "-1", "abc", "12", "1.5"])
def test_child_number_out_of_range_is_404(reporter, n):
    reporter.fill(until="enfant")
    assert reporter.get(f"/etape/enfant?n={n}").status_code == 404
    assert reporter.post(f"/etape/enfant?n={n}", CHILD).status_code == 404


def test_child_number_next_free_slot_is_allowed(reporter):
    reporter.fill(until="adultes")            # one child
    assert reporter.get("/etape/enfant?n=1").status_code == 200
    assert reporter.get("/etape/enfant?n=2").status_code == 404


@pytest.mark.settings(DRAFT_TTL_SECONDS=60)
def test_expired_draft_goes_back_to_the_start(reporter, clock):
    app = reporter.app
    reporter.fill(until="inquietude")
    clock.ahead(seconds=61)
    _sent_to_start(reporter.get("/etape/inquietude"))
    assert count(app, Draft) == 0, "an expired draft is deleted when met"
    start = reporter.page("/")
    assert "Continue my report" not in start.text


@pytest.mark.settings(DRAFT_TTL_SECONDS=60)
def test_draft_is_kept_while_active(reporter, clock):
    reporter.fill(until="inquietude")
    clock.ahead(seconds=50)
    assert reporter.get("/etape/inquietude").status_code == 200


@pytest.mark.parametrize("tamper", [
    lambda v: v[:-2] + ("AA" if not v.endswith("AA") else "BB"),     # another key
    lambda v: "x" + v,                                                   # another draft id
    lambda v: v.split(".")[0] + ".",                                    # no key
    lambda v: v.split(".")[0] + ".!!!not-base64!!!",
    lambda v: v.replace(".", ""),
], ids=["key", "id", "empty-key", "garbage-key", "no-dot"])
def test_tampered_draft_cookie_goes_back_to_the_start(reporter, tamper):
    reporter.fill(until="inquietude")
    value = reporter.client.get_cookie("ipdraft").value
    reporter.client.set_cookie("ipdraft", tamper(value))
    _sent_to_start(reporter.get("/etape/inquietude"))
    _sent_to_start(reporter.get("/verifier"))
    assert reporter.page("/").status == 200
    reporter.client.set_cookie("ipdraft", value)
    assert reporter.get("/etape/inquietude").status_code == 200, "the real cookie still opens the draft"


def test_resume_a_draft_from_the_start_page(reporter):
    reporter.fill(until="inquietude")
    start = reporter.page("/")
    assert "Continue my report" in start.text
    response = reporter.post("/commencer", {"resume": "1"})
    assert response.headers["Location"].endswith("/etape/qui")
    assert reporter.page("/etape/enfants").status == 200, "the draft and its child are still there"


# --- caching ---------------------------------------------------------------------------------------

def _no_store(response, what):
    assert response.headers.get("Cache-Control") == "no-store", f"{what}: {response.headers.get('Cache-Control')}"


def test_no_store_on_every_page(report_app, reporter, send_report):
    _no_store(reporter.get("/"), "start")
    reporter.fill("professional", until="qui")
    for step in STEPS:
        _no_store(reporter.get(f"/etape/{step}"), step)
    conf = send_report("professional")
    for path in ("/confirmation", "/confirmation/copie.pdf", "/suivi"):
        _no_store(reporter.get(path), path)
    signin = reporter.followup_signin(conf.reference, conf.code)
    _no_store(signin, "follow-up sign-in")
    _no_store(reporter.client.get(signin.headers["Location"]), "follow-up messages")
    _no_store(reporter.post("/suivi", {"reference": conf.reference, "code": "wrong"}), "wrong code")
    # Refusals and redirects too.
    _no_store(reporter.post("/etape/inconnue"), "404")
