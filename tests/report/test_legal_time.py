"""What the sender is promised matches what the code computes (the Département's deadlines)."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from portal.domain.priority import add_working_days, paris_date

from .helpers import db_session, only_ip


def test_confirmation_promises_the_first_analysis_delay_the_code_sets(report_app, send_report):
    conf = send_report("public")
    deadlines = report_app.config["PROFILES"]["31"].deadlines
    assert deadlines.analysis_working_days == 1
    assert "analyses your report, the most urgent ones first, within 1 working day." in conf.page.text
    with db_session(report_app) as s:
        ip = only_ip(s)
        received = paris_date(ip.received_at)
        assert ip.analysis_due == add_working_days(received, deadlines.analysis_working_days, "31")


def test_sent_at_half_past_midnight_in_paris_is_dated_in_paris(app, reporter, clock):
    clock.at(datetime(2026, 11, 28, 23, 30, tzinfo=timezone.utc))     # 29 Nov 2026, 00:30 in Paris
    reporter.report("public")
    with db_session(app) as s:
        ip = only_ip(s)
        assert ip.evaluation_due.isoformat() == "2027-02-28"           # 3 calendar months from 29/11
        assert ip.analysis_due.isoformat() == "2026-11-30"             # Sunday 29 → Monday 30


# --- routing between CRIPs ------------------------------------------------------------------------

def _send_about(app, place):
    from .helpers import CHILD, Reporter
    reporter = Reporter(app)
    return reporter.report("public", children=[dict(CHILD, **place)])


@pytest.mark.settings(PORTAL_DEPARTEMENTS=["31", "38"])
def test_haute_garonne_site_child_in_grenoble_goes_to_iseres_crip(app):
    from portal.domain import sealing
    conf = _send_about(app, {"postcode": "38000", "commune": "38185"})
    isere = app.config["PROFILES"]["38"]
    assert (f"The child lives in {isere.name}: your report has been passed to that département's CRIP "
            f"({isere.ip_cell}), which will read it.") in conf.page.text
    assert f"{isere.ip_cell} analyses your report" in conf.page.text
    with db_session(app) as s:
        ip = only_ip(s)
        assert (ip.received_by, ip.received_via, ip.routing_status) == ("38", "31", "routed")
        child = sealing.open_json(app.config["TEST_CRIP_KEYS"]["38"], ip.children[0].sealed)
        assert child["first_name"] == "Léa"


@pytest.mark.settings(PORTAL_DEPARTEMENTS=["31", "38"])
def test_the_other_crips_departement_enters_the_sentence_as_a_phrase_of_the_reader_language(app):
    """The département's name enters "The child lives …" through the profile's whole phrase for the
    language (French "en Isère" only in French), as the headings do."""
    import dataclasses

    from .helpers import CHILD, Reporter
    isere = app.config["PROFILES"]["38"]
    app.config["PROFILES"]["38"] = dataclasses.replace(isere, in_names={**isere.in_names, "en": "in the Isère"})
    conf = Reporter(app).report("public", children=[dict(CHILD, postcode="38000", commune="38185")])
    assert "The child lives in the Isère: your report has been passed to that département's CRIP" in conf.page.text
    for lang in ("ar", "uk"):
        conf = Reporter(app, language=lang).report("public", children=[dict(CHILD, postcode="38000", commune="38185")])
        assert isere.in_name not in conf.page.text, lang


@pytest.mark.settings(PORTAL_DEPARTEMENTS=["31", "38"])
def test_child_in_paris_is_accepted_flagged_for_transfer_and_the_confirmation_says_so(app):
    conf = _send_about(app, {"postcode": "75001", "commune": "75101"})
    assert ("The child lives in a département this site does not serve (Paris). Your report has been received: "
            "the team here will forward it to the CRIP of Paris.") in conf.page.text
    assert "call the 119" in conf.page.text
    with db_session(app) as s:
        ip = only_ip(s)
        assert (ip.received_by, ip.received_via, ip.routing_status, ip.departement) == ("31", None, "transfer", "75")


@pytest.mark.settings(PORTAL_DEPARTEMENTS=["31", "38"])
def test_child_in_haute_garonne_names_no_other_crip(app):
    conf = _send_about(app, {"postcode": "31000", "commune": "31555"})
    assert "The child lives in" not in conf.page.text
    with db_session(app) as s:
        assert only_ip(s).received_by == "31"


# --- an elected official (mayor…) is owed feedback like a professional (L226-5) --------------------

def test_an_elected_official_is_offered_and_owed_feedback_within_3_months(report_app, reporter):
    from portal.domain.priority import add_months

    from .helpers import PUBLIC_SENDER, Page
    reporter.start()
    who = Page.of(reporter.get("/etape/qui"))
    assert "An elected official (mayor, deputy mayor…)" in who.text
    reporter.report("elected", sender=PUBLIC_SENDER)
    with db_session(report_app) as s:
        ip = only_ip(s)
        assert ip.source_type == "elected"
        assert ip.feedback_due == add_months(paris_date(ip.received_at), 3)
        assert ip.wants_feedback is True and ip.anonymous is False


def test_the_after_page_states_who_is_owed_feedback_and_under_which_article(report_app):
    import html as _html
    body = _html.unescape(report_app.test_client().get("/apres-une-information-preoccupante?lang=en").data.decode())
    assert ("Professionals and elected officials (for example a mayor) who sent an information préoccupante are "
            "told what followed, within 3 months of sending it (CASF, article L226-5") in body
    assert "(CASF, article D226-2-8)" in body
    assert "Since the law of 7 February 2022 (loi n° 2022-140), anyone else" not in body


def test_an_elected_official_is_named_by_default(report_app):
    from .helpers import Page, Reporter
    reporter = Reporter(report_app)
    reporter.fill("elected", until="vous")
    page = Page.of(reporter.get("/etape/vous"))
    assert page.status == 200
    assert page.checked("anonymous") == ["no"]
