"""Each path of the IP form end to end, and what it leaves in the CRIP's queue."""
from __future__ import annotations

from datetime import timedelta

import pytest

from portal.domain import codes, intake, sealing
from portal.domain.priority import paris_date
from portal.domain.routing import communes_for_postcode
from portal.models import FollowUp, InformationPreoccupante

from .helpers import (
    ADULTS, CHILD, CONCERN, PRO, PUBLIC_SENDER, Page, Reporter, crip_key, db_session, only_ip, years_ago,
)


def _sealed(app, ip):
    """The IP's sealed answers and children, opened with the CRIP's private key."""
    key = crip_key(app)
    return sealing.open_json(key, ip.sealed), [sealing.open_json(key, c.sealed) for c in ip.children]


# --- the three paths ---------------------------------------------------------------------------

def test_public_path(report_app):
    # A browser that states no language: the site speaks French.
    conf = Reporter(report_app, language=None).report("public")
    assert conf.reference.startswith("IP-") and len(conf.code) == codes.CODE_LENGTH
    with db_session(report_app) as s:
        ip = only_ip(s)
        assert ip.reference == conf.reference
        assert (ip.source_type, ip.received_by, ip.channel) == ("public", "31", "online")
        assert (ip.routing_status, ip.departement, ip.territory) == ("routed", "31", "toulouse")
        assert ip.urgency == 3 and ip.danger_now is False
        assert {c.category for c in ip.categories} == {"neglect", "psychological"}
        assert [(c.position, c.age_band, c.sex) for c in ip.children] == [(0, "6-10", "f")]
        assert (ip.child_count, ip.youngest_age_band) == (1, "6-10")
        assert ip.anonymous is False and ip.wants_feedback is True
        assert (ip.language, ip.contact_language) == ("fr", "fr")
        assert ip.probably_automated is False and ip.status == "new"
        # The follow-up code is stored only as a keyed hash.
        assert ip.followup.code_hash == codes.code_hash(report_app.config["SECRET_KEY"], conf.code)
        answers, children = _sealed(report_app, ip)
    assert answers["source_type"] == "public"
    assert answers["concern"]["account"] == CONCERN["account"]
    assert answers["concern"]["categories"] == CONCERN["categories"]
    assert answers["adults"]["adult1_name"] == ADULTS["adult1_name"]
    assert answers["sender"]["name"] == PUBLIC_SENDER["name"]
    assert answers["sender"]["phone"] == PUBLIC_SENDER["phone"]
    assert answers["sender"]["email"] == PUBLIC_SENDER["email"]
    assert "children" not in answers            # each child is sealed on its own row
    assert children[0]["first_name"] == "Léa" and children[0]["last_name"] == "Martin"
    assert children[0]["address"] == CHILD["address"]
    assert (children[0]["postcode"], children[0]["commune"], children[0]["commune_name"]) == ("31000", "31555", "Toulouse")


def test_young_path(report_app, reporter):
    reporter.fill("young", concern={"categories": ["psychological"], "account": "Mon beau-père me crie dessus.",
                                    "danger_now": "no"}, until="vous")
    sender = reporter.page("/etape/vous")
    assert sender.checked("anonymous") == ["yes"], "a young person is anonymous unless they choose otherwise"
    reporter.step("vous", {"anonymous": "yes", "contact_language": "fr"}, to="/etape/documents")
    reporter.send_from_documents()
    with db_session(report_app) as s:
        ip = only_ip(s)
        assert ip.source_type == "young" and ip.anonymous is True
        assert ip.urgency == 2 and "young_sender" in ip.urgency_reasons
        assert [c.age_band for c in ip.children] == ["unknown"]
        assert ip.routing_status == "routed" and ip.territory == "toulouse"
        answers, _children = _sealed(report_app, ip)
    assert answers["concern"]["account"] == "Mon beau-père me crie dessus."
    assert answers["sender"]["name"] == ""


def test_professional_path_and_pdf_copy(report_app, reporter, send_report):
    conf = send_report("professional", sector="health")
    assert "Download a PDF copy" in conf.page.text
    with db_session(report_app) as s:
        ip = only_ip(s)
        assert (ip.source_type, ip.source_sector) == ("professional", "health")
        assert ip.anonymous is False and ip.wants_feedback is True
        answers, _children = _sealed(report_app, ip)
    pro = answers["pro"]
    assert pro["establishment"] == PRO["establishment"] and pro["author_role"] == PRO["author_role"]
    assert pro["author_email"] == PRO["author_email"]
    facts = [(f["when"], f["what"]) for f in pro["facts"] if f["what"]]
    assert facts == [("2024-03-04", "Bleus sur les bras."), ("2024-03-11", "Absente trois jours.")]
    assert pro["child_words"] == PRO["child_words"]

    pdf = reporter.get("/confirmation/copie.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert pdf.headers["Content-Type"] == "application/pdf"
    assert conf.reference in pdf.headers["Content-Disposition"]


def test_no_pdf_copy_for_a_public_sender(reporter, send_report):
    conf = send_report("public")
    assert "Download a PDF copy" not in conf.page.text
    assert reporter.get("/confirmation/copie.pdf").status_code == 404


def test_no_pdf_copy_without_a_sent_report(reporter):
    assert reporter.get("/confirmation/copie.pdf").status_code == 404
    reporter.start()
    assert reporter.get("/confirmation/copie.pdf").status_code == 404


# --- routing -----------------------------------------------------------------------------------

@pytest.mark.parametrize("where, expected", [
    ({"postcode": "31000", "commune": "31555"}, ("routed", "31", "toulouse")),
    ({"postcode": "31 000"}, ("routed", "31", "toulouse")),
    ({"postcode": "31550", "commune": "31145"}, ("routed", "31", "muret")),         # Cintegabelle
    ({"postcode": "75001", "commune": "75101"}, ("transfer", "75", None)),           # Paris 1er
    ({"postcode": "01590", "commune": "01148"}, ("transfer", "01", None)),           # Dortan (Ain)
    ({"postcode": "", "postcode_unknown": "y"}, ("unrouted", None, None)),
], ids=["toulouse", "spaces", "muret", "paris", "postcode-over-two-departements", "unknown"])
def test_routing(report_app, send_report, where, expected):
    send_report("public", children=[dict(CHILD, **where)])
    with db_session(report_app) as s:
        ip = only_ip(s)
        assert (ip.routing_status, ip.departement, ip.territory) == expected
        assert ip.received_by == "31"       # whatever the routing, it is in the Haute-Garonne's queue


def test_postcode_shared_by_several_communes(report_app, reporter):
    assert len(communes_for_postcode("31550")) > 1
    reporter.fill("public", until="enfant")
    typed = dict(CHILD, postcode="31550", first_name="Noémie")

    # Continue without choosing: the form asks for the commune and keeps what was typed.
    page = reporter.step_page("enfant", typed, n=0)
    assert page.status in (200, 400)
    assert page.has_error_summary
    assert ("#commune", "This postcode covers several communes: choose one.") in page.error_links
    assert "commune" in page.ids
    assert page.value("first_name") == "Noémie" and page.value("postcode") == "31550"
    assert page.value("address") == CHILD["address"]
    assert set(page.options("commune")) == {"", *(c.insee for c in communes_for_postcode("31550"))}

    # "Find the communes" shows the choice, without judging the rest of the page.
    page = reporter.step_page("enfant", {"postcode": "31550", "action": "find_communes"}, n=0)
    assert page.status == 200
    assert not page.has_error_summary and not page.inline_errors
    assert "31145" in page.options("commune")

    # A commune that is not one of the postcode's is no choice either.
    page = reporter.step_page("enfant", dict(typed, commune="31555"), n=0)
    assert ("#commune", "This postcode covers several communes: choose one.") in page.error_links

    reporter.step("enfant", dict(typed, commune="31145"), n=0, to="/etape/enfants")
    again = reporter.page("/etape/enfant?n=0")
    assert again.value("commune") == "31145" and again.value("first_name") == "Noémie"


def test_single_commune_postcode_is_chosen_for_the_sender(reporter):
    reporter.fill("public", until="enfant")
    page = reporter.step_page("enfant", {"postcode": "31000", "action": "find_communes"}, n=0)
    assert page.status == 200 and not page.has_error_summary
    assert "Commune: Toulouse" in page.text
    assert not page.has_field("commune")


# --- urgency -------------------------------------------------------------------------------------

def test_child_under_2_is_high_urgency(report_app, send_report):
    baby = dict(CHILD, age="", birth_date=years_ago(1))
    send_report("public", children=[baby])
    with db_session(report_app) as s:
        ip = only_ip(s)
        assert ip.urgency == 2 and "under_2" in ip.urgency_reasons.split(",")
        assert ip.youngest_age_band == "0-1"
        days = report_app.config["PROFILES"][ip.received_by].deadlines.under_2_days
        assert ip.evaluation_due - paris_date(ip.received_at) == timedelta(days=days)


def test_danger_now_shows_the_emergency_page_then_continues(report_app, reporter):
    reporter.fill("public", until="inquietude")
    location = reporter.step("inquietude", dict(CONCERN, danger_now="yes"), to="/etape/urgence")
    emergency = Page.of(reporter.client.get(location))
    assert emergency.status == 200
    assert "Call now if the child is in danger" in emergency.text
    assert ("tel:17" in emergency.body) and ("tel:112" in emergency.body) and ("sms:114" in emergency.body)
    continue_links = [href for href, text in emergency.links if text == "Continue my report"]
    assert continue_links and continue_links[0].endswith("/etape/vous")
    reporter.step("vous", PUBLIC_SENDER)
    reporter.send_from_documents()
    with db_session(report_app) as s:
        ip = only_ip(s)
        assert ip.urgency == 1 and ip.danger_now is True
        assert ip.urgency_reasons.split(",")[0] == "danger_now"
        days = report_app.config["PROFILES"][ip.received_by].deadlines.urgent_days
        assert ip.evaluation_due - paris_date(ip.received_at) == timedelta(days=days)


# --- languages -----------------------------------------------------------------------------------

def test_language_of_the_form_and_contact_language(report_app, reporter):
    reporter.fill("public", lang="ar", until="vous")
    sender = reporter.page("/etape/vous")
    assert 'lang="ar" dir="rtl"' in sender.body
    assert sender.value("contact_language") == "ar", "the contact language defaults to the form's"
    reporter.step("vous", dict(PUBLIC_SENDER, contact_language="ar"))
    reporter.send_from_documents()
    with db_session(report_app) as s:
        ip = only_ip(s)
        assert (ip.language, ip.contact_language) == ("ar", "ar")


def test_contact_language_can_differ_from_the_form(report_app, send_report):
    send_report("public", sender=dict(PUBLIC_SENDER, contact_language="uk"))
    with db_session(report_app) as s:
        ip = only_ip(s)
        assert (ip.language, ip.contact_language) == ("en", "uk")


def test_anonymous_sender(report_app, send_report):
    # Contact details typed, then "stay anonymous": none of them is kept.
    send_report("public", sender=dict(PUBLIC_SENDER, anonymous="yes"))
    with db_session(report_app) as s:
        ip = only_ip(s)
        assert ip.anonymous is True
        answers, _children = _sealed(report_app, ip)
    assert (answers["sender"]["name"], answers["sender"]["phone"], answers["sender"]["email"]) == ("", "", "")


# --- professional step ---------------------------------------------------------------------------

def _to_professional_step(reporter):
    reporter.fill("professional", until="professionnel")


def test_add_fact_adds_a_row_and_keeps_what_was_typed(report_app, reporter):
    _to_professional_step(reporter)
    first = reporter.page("/etape/professionnel")
    assert first.has_field("facts-2-what") and not first.has_field("facts-3-what")
    typed = {"establishment": "Collège Pierre de Fermat", "facts-0-when": "2024-02-01",
             "facts-0-what": "Propos inquiétants en classe.", "child_words": "« J'ai peur de rentrer. »",
             "action": "add_fact"}
    page = reporter.step_page("professionnel", typed)
    assert page.status == 200
    assert page.has_field("facts-3-what") and page.has_field("facts-3-when")
    assert not page.has_error_summary, "adding a row does not judge the page yet"
    assert page.value("establishment") == "Collège Pierre de Fermat"
    assert page.value("facts-0-when") == "2024-02-01"
    assert page.value("facts-0-what") == "Propos inquiétants en classe."
    assert page.value("child_words") == "« J'ai peur de rentrer. »"
    # What was typed is in the draft: coming back to the step shows it, with the added row.
    again = reporter.page("/etape/professionnel")
    assert again.value("facts-0-what") == "Propos inquiétants en classe." and again.has_field("facts-3-what")

    data = dict(PRO, **{"facts-3-when": "2024-03-20", "facts-3-what": "Fait ajouté."})
    reporter.step("professionnel", data, to="/etape/vous")
    reporter.step("vous", {"contact_language": "fr"})
    check = reporter.to_check()
    # Dates as people write them in the page's language (English here), never ISO.
    assert "Mar 4, 2024 – Bleus sur les bras." in check.text
    assert "Mar 20, 2024 – Fait ajouté." in check.text
    assert "2024-03-04" not in check.text


def test_parents_not_told_needs_a_reason(reporter):
    _to_professional_step(reporter)
    # Without JavaScript the question was not on the page: "No" reveals it, without an error yet.
    revealed = reporter.step_page("professionnel", dict(PRO, parents_told="no"))
    assert revealed.status == 200 and not revealed.has_error_summary
    assert revealed.has_field("parents_not_told_why") and "A question was added below" in revealed.text
    # Seen and left empty: now it is judged.
    page = reporter.step_page("professionnel", dict(PRO, parents_told="no", parents_not_told_why="  ",
                                                    revealed="parents_told=no"))
    assert ("#parents_not_told_why", "Explain why the parents were not told.") in page.error_links
    assert "parents_not_told_why" in page.ids
    assert page.checked("parents_told") == ["no"]
    assert page.value("establishment") == PRO["establishment"]
    reporter.step("professionnel", dict(PRO, parents_told="no", parents_not_told_why="Risque pour l'enfant."),
                  to="/etape/vous")


def test_professional_step_is_only_for_professionals(reporter):
    reporter.fill("public", until="enfant")
    response = reporter.get("/etape/professionnel")
    assert response.status_code == 302 and response.headers["Location"].endswith("/etape/qui")


# --- several children ----------------------------------------------------------------------------

def test_several_children_add_and_remove(report_app, reporter):
    reporter.fill("public", until="enfant")
    kids = [CHILD,
            dict(CHILD, first_name="Noé", age="", birth_date=years_ago(1), sex="m", school=""),
            dict(CHILD, first_name="Zoé", age="", age_estimate="11-14", school="")]
    for i, kid in enumerate(kids):
        if i:
            location = reporter._moved(reporter.post("/etape/enfants", {"action": "add"}), "/etape/enfant")
            assert f"n={i}" in location
        reporter.step("enfant", kid, n=i, to="/etape/enfants")
    listing = reporter.page("/etape/enfants")
    assert all(name in listing.text for name in ("Léa", "Noé", "Zoé"))
    assert listing.buttons_with("remove-") == ["remove-0", "remove-1", "remove-2"]

    reporter._moved(reporter.post("/etape/enfants", {"action": "remove-1"}), "/etape/enfants")
    listing = reporter.page("/etape/enfants")
    assert "Noé" not in listing.text and "Léa" in listing.text and "Zoé" in listing.text
    # Editing a child keeps the others.
    reporter.step("enfant", dict(kids[2], first_name="Zoélie"), n=1, to="/etape/enfants")
    reporter._moved(reporter.post("/etape/enfants", {"action": "continue"}), "/etape/adultes")
    reporter.step("adultes", ADULTS)
    reporter.concern(CONCERN)
    reporter.step("vous", PUBLIC_SENDER)
    reporter.send_from_documents()
    with db_session(report_app) as s:
        ip = only_ip(s)
        assert ip.child_count == 2
        assert [(c.position, c.age_band) for c in ip.children] == [(0, "6-10"), (1, "11-14")]
        assert ip.urgency == 3, "the baby was removed: no under-2 urgency left"
        _answers, children = _sealed(report_app, ip)
    assert [c["first_name"] for c in children] == ["Léa", "Zoélie"]


def test_the_last_child_cannot_be_removed(reporter):
    reporter.fill("public", until="adultes")
    listing = reporter.page("/etape/enfants")
    assert listing.buttons_with("remove-") == []
    reporter.post("/etape/enfants", {"action": "remove-0"})
    assert "Léa" in reporter.page("/etape/enfants").text


# --- check your answers --------------------------------------------------------------------------

def test_check_page_shows_the_answers(reporter):
    check = reporter.fill("public")
    for typed in ("Léa Martin", CHILD["address"], "31000 Toulouse", CONCERN["account"], ADULTS["adult1_name"],
                  PUBLIC_SENDER["name"], PUBLIC_SENDER["phone"], PUBLIC_SENDER["email"], "Neglect (food, care, hygiene, supervision)"):
        assert typed in check.text, typed
    changes = [href for href, text in check.links if text.startswith("Change")]
    assert changes and all("retour=verifier" in href for href in changes)


@pytest.mark.parametrize("step, data, shown", [
    ("inquietude", dict(CONCERN, account="Récit corrigé après relecture."), "Récit corrigé après relecture."),
    ("enfant", dict(CHILD, first_name="Lélia"), "Lélia Martin"),
    ("adultes", dict(ADULTS, adult1_name="Karim Père"), "Karim Père"),
    ("vous", dict(PUBLIC_SENDER, name="Jeanne Corrigée"), "Jeanne Corrigée"),
])
def test_change_links_come_back_to_the_check_page(reporter, step, data, shown):
    check = reporter.fill("public")
    link = next(href for href, text in check.links
                if text.startswith("Change") and f"/etape/{step}?" in href)
    form = Page.of(reporter.client.get(link))
    assert form.status == 200
    if step != "enfant":        # the child step carries retour in its form's address instead
        assert form.value("retour") == "verifier"
    response = reporter.client.post(link, data=dict(data, retour="verifier"))
    assert response.status_code == 302 and response.headers["Location"].endswith("/verifier")
    assert shown in reporter.page("/verifier").text


def test_change_to_danger_now_shows_the_emergency_page_then_the_check_page(reporter):
    reporter.fill("public")
    response = reporter.post("/etape/inquietude?retour=verifier", dict(CONCERN, danger_now="yes", retour="verifier"))
    assert response.status_code == 302 and "/etape/urgence" in response.headers["Location"]
    emergency = Page.of(reporter.client.get(response.headers["Location"]))
    continue_links = [href for href, text in emergency.links if text == "Continue my report"]
    assert continue_links[0].endswith("/verifier")


def test_check_page_sends_back_to_a_missing_step(reporter):
    reporter.fill("public", until="enfant")
    response = reporter.get("/verifier")
    assert response.status_code == 302 and "/etape/enfant" in response.headers["Location"]


def test_followup_code_opens_the_followup_key(report_app, send_report):
    """The confirmation's code derives the key pair whose public half is stored."""
    conf = send_report("public")
    with db_session(report_app) as s:
        fu = s.query(FollowUp).one()
        _sk, pk = sealing.derive_keypair(conf.code, fu.kdf_salt)
        assert pk == fu.public_key
        access = intake.check_followup(s, reference=conf.reference, code=conf.code,
                                       secret_key=report_app.config["SECRET_KEY"], now=fu.ip.received_at,
                                       lock_after=5, lock_seconds=60)
        assert access is not None


@pytest.mark.settings(PORTAL_DEPARTEMENTS=["31", "38"])
def test_a_draft_is_only_sent_where_it_says(app):
    profiles = app.config["PROFILES"]
    reporter = Reporter(app)                      # /31/signaler/...
    reporter.fill()
    elsewhere = Page.of(reporter.client.get("/38/signaler/verifier"))
    assert f"your report goes to {profiles['38'].ip_cell}" not in elsewhere.text
    response = reporter.client.post("/38/signaler/envoyer", data={"confirm": "y"})
    landing = Page.of(reporter.client.get(response.headers["Location"]))
    with db_session(app) as s:
        ips = s.query(InformationPreoccupante).all()
        if not ips:
            return                                 # not sent from the wrong site: fine too
        received_by = ips[0].received_by
    assert profiles[received_by].ip_cell in landing.text
    other = "38" if received_by == "31" else "31"
    assert profiles[other].ip_cell not in landing.text
