"""Every back-office form page that comes back with something to correct says so first in its title
("Error: …", set once in the layout) and has one error summary whose every link reaches a control
of the page; the same page without errors has neither."""
from __future__ import annotations

import html
import re

import pyotp
import pytest

from tests.crip.conftest import PASSWORD, add_ip, forget_totp_step


def title(body: str) -> str:
    return html.unescape(re.search(r"<title>(.*?)</title>", body, re.S).group(1))


def summary_links(body: str) -> list[tuple[str, str]]:
    found = re.findall(r'<div class="error-summary"(.*?)</div>', body, re.S)
    assert len(found) == 1, f"{len(found)} error summaries"
    return [(href, html.unescape(text)) for href, text in re.findall(r'<a href="#([^"]+)">(.*?)</a>', found[0], re.S)]


def assert_error_page(response, page_title: str, messages: list[str]):
    body = response.get_data(as_text=True)
    assert response.status_code == 400, response.status_code
    assert title(body) == f"Error: {page_title} – CRIP back office"
    links = summary_links(body)
    assert [text for _href, text in links] == messages
    for href, _text in links:
        assert re.search(rf'\bid="{re.escape(href)}"', body), f"the summary's link #{href} reaches nothing"


def assert_fine(response, page_title: str):
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert title(body) == f"{page_title} – CRIP back office" and "error-summary" not in body


def test_sign_in_empty_and_refused(crip_app, users):
    c = crip_app.test_client()
    assert_fine(c.get("/crip/connexion?lang=en"), "Staff sign-in")
    assert_error_page(c.post("/crip/connexion?lang=en", data={}), "Staff sign-in",
                      ["Enter your e-mail address.", "Enter your password."])
    r = c.post("/crip/connexion?lang=en", data={"email": users["agent"][1], "password": "not the password"})
    assert_error_page(r, "Staff sign-in", ["The e-mail address or the password is wrong."])
    assert '<a href="#email">' in r.get_data(as_text=True)


def test_second_factor_refused(crip_app, users):
    c = crip_app.test_client()
    _id, email, secret = users["agent"]
    forget_totp_step(crip_app, email)
    c.post("/crip/connexion", data={"email": email, "password": PASSWORD})
    assert_fine(c.get("/crip/connexion/code?lang=en"), "Second factor")
    r = c.post("/crip/connexion/code?lang=en", data={"code": "000000"})
    assert_error_page(r, "Second factor", ["This code is not valid. Codes change every 30 seconds."])
    assert '<a href="#code">' in r.get_data(as_text=True)
    assert c.post("/crip/connexion/code", data={"code": pyotp.TOTP(secret).now()}).status_code == 302


def test_password_change_refused(signed_in):
    c = signed_in("agent")
    assert_fine(c.get("/crip/mot-de-passe?lang=en"), "Change password")
    r = c.post("/crip/mot-de-passe?lang=en", data={"old": "not my password", "new": "a new long password"})
    assert_error_page(r, "Change password",
                      ["The current password is wrong, or the new one is too short (12 characters at least)."])


def test_decision_and_message_refused_on_the_case_page(signed_in, sample_ip):
    c = signed_in("supervisor")
    ref = sample_ip.reference
    assert_fine(c.get(f"/crip/ip/{ref}?lang=en"), f"IP {ref}")
    r = c.post(f"/crip/ip/{ref}/statut?lang=en", data={"to": "closed", "closed-reason": ""})
    assert_error_page(r, f"IP {ref}", ["This change of status is not possible from the current status."])
    assert c.post(f"/crip/ip/{ref}/statut", data={"to": "analysis"}).status_code == 303
    r = c.post(f"/crip/ip/{ref}/statut?lang=en", data={"to": "closed", "closed-reason": ""})
    assert_error_page(r, f"IP {ref}", ["Give a reason for this decision."])
    assert '<a href="#closed-reason">' in r.get_data(as_text=True)
    r = c.post(f"/crip/ip/{ref}/message?lang=en", data={"body": ""})
    assert_error_page(r, f"IP {ref}", ["Write your message before sending it: it is empty."])


def assert_kept_at_its_field(body: str, field_id: str, typed: str | None, message: str):
    """The control `field_id` shows what was typed (or chosen; None: a value the page does not offer)
    and says what is wrong right at it: its error message, which it points to with aria-describedby,
    and a summary link to it."""
    control = re.search(rf'<(input|select|textarea)\b[^>]*\bid="{re.escape(field_id)}"[^>]*>', body)
    assert control, f"no control #{field_id}"
    tag, attrs = control.group(1), control.group(0)
    if typed is None:
        pass
    elif tag == "input":
        assert html.unescape(re.search(r'\bvalue="([^"]*)"', attrs).group(1)) == typed
    elif tag == "select":
        options = body[control.end():body.index("</select>", control.end())]
        assert re.search(rf'<option selected value="{re.escape(typed)}"|<option value="{re.escape(typed)}" selected',
                         options), options
    else:
        assert html.unescape(body[control.end():body.index("</textarea>", control.end())]).strip() == typed
    described = re.search(r'aria-describedby="([^"]*)"', attrs).group(1).split()
    assert f"{field_id}-error" in described and 'aria-invalid="true"' in attrs
    inline = re.search(rf'<p class="error-message" id="{re.escape(field_id)}-error">(.*?)</p>', body, re.S)
    assert inline and html.unescape(re.sub(r"<[^>]+>", "", inline.group(1))).split() == ["Error:", *message.split()]
    assert (field_id, message) in summary_links(body)


def test_a_duty_date_refused_comes_back_as_typed_with_its_error(crip_app, signed_in):
    from datetime import datetime, timedelta, timezone

    from portal.domain.priority import paris_date
    c = signed_in("agent")
    ref = add_ip(crip_app, source_type="professional").reference
    tomorrow = (paris_date(datetime.now(timezone.utc)) + timedelta(days=1)).isoformat()
    for typed, message in (("31/02/2026", "Not a valid date value."), ("", "Give the date."),
                           (tomorrow, "The date cannot be in the future."), ("2001-01-01",
                            "The date cannot be before the IP was received.")):
        r = c.post(f"/crip/ip/{ref}/retour-auteur?lang=en", data={"feedback-on": typed})
        assert_error_page(r, f"IP {ref}", [message])
        assert_kept_at_its_field(r.get_data(as_text=True), "feedback-on", typed, message)
    assert "Record the feedback" in c.get(f"/crip/ip/{ref}?lang=en").get_data(as_text=True)   # nothing recorded
    r = c.post(f"/crip/ip/{ref}/retour-auteur", data={"feedback-on": paris_date(datetime.now(timezone.utc)).isoformat()})
    assert r.status_code == 303 and r.headers["Location"].endswith(f"/crip/ip/{ref}#duties")


def test_a_duty_no_longer_on_the_page_is_explained_in_the_summary(crip_app, signed_in):
    """Feedback already recorded (by a colleague, in another tab): the form is gone, the summary says why."""
    c = signed_in("agent")
    ref = add_ip(crip_app).reference          # a member of the public: no feedback is owed
    r = c.post(f"/crip/ip/{ref}/retour-auteur?lang=en", data={"feedback-on": "2001-01-01"})
    assert_error_page(r, f"IP {ref}", ["No feedback is owed to this sender."])
    assert summary_links(r.get_data(as_text=True)) == [("duties", "No feedback is owed to this sender.")]


def test_a_transfer_refused_is_explained(signed_in, sample_ip):
    c = signed_in("supervisor")
    ref = sample_ip.reference                 # one CRIP on this site: no transfer form on the page
    r = c.post(f"/crip/ip/{ref}/transferer?lang=en", data={"transfer-destination": "38"})
    assert_error_page(r, f"IP {ref}", ["Choose a CRIP of this site."])
    assert summary_links(r.get_data(as_text=True)) == [("duties", "Choose a CRIP of this site.")]
    assert c.get(f"/crip/ip/{ref}").status_code == 200                     # still here


def test_a_decision_refused_keeps_what_was_typed_at_each_field(signed_in, sample_ip):
    c = signed_in("supervisor")
    ref = sample_ip.reference
    assert c.post(f"/crip/ip/{ref}/statut", data={"to": "analysis"}).status_code == 303
    r = c.post(f"/crip/ip/{ref}/statut?lang=en", data={"to": "evaluation", "evaluation-team": "toulouse",
                                                       "evaluation-due": "le 3 mars"})
    assert_error_page(r, f"IP {ref}", ["Not a valid date value."])
    body = r.get_data(as_text=True)
    assert_kept_at_its_field(body, "evaluation-due", "le 3 mars", "Not a valid date value.")
    assert re.search(r'<option selected value="toulouse"', body)
    assert re.search(r'<details class="action-group" open>\s*<summary>Send for evaluation', body)
    r = c.post(f"/crip/ip/{ref}/statut?lang=en", data={"to": "evaluation", "evaluation-team": "",
                                                       "evaluation-due": "2030-03-03"})
    assert_error_page(r, f"IP {ref}", ["Choose the territory or team that evaluates."])
    body = r.get_data(as_text=True)
    assert_kept_at_its_field(body, "evaluation-team", "", "Choose the territory or team that evaluates.")
    assert 'id="evaluation-due"' in body and 'value="2030-03-03"' in body
    r = c.post(f"/crip/ip/{ref}/statut?lang=en", data={"to": "closed", "closed-reason": "Pas de danger",
                                                       "closed-due": "garbage"})
    assert r.status_code == 303                # a change checks only the fields it shows


def test_a_message_refused_keeps_its_text(signed_in, sample_ip):
    c = signed_in("agent")
    ref = sample_ip.reference
    typed = "Bonjour, " + "x" * 20000
    r = c.post(f"/crip/ip/{ref}/message?lang=en", data={"body": typed})
    assert_error_page(r, f"IP {ref}", ["Field cannot be longer than 20000 characters."])
    assert_kept_at_its_field(r.get_data(as_text=True), "body", typed, "Field cannot be longer than 20000 characters.")


def test_accounts_form_refused(signed_in):
    c = signed_in("admin")
    assert_fine(c.get("/crip/comptes?lang=en"), "Accounts")
    r = c.post("/crip/comptes?lang=en", data={"name": "", "email": "", "role": ""})
    body = r.get_data(as_text=True)
    assert r.status_code == 400 and title(body).startswith("Error: Accounts")
    links = summary_links(body)
    assert "Enter the name." in [text for _h, text in links]
    for href, _text in links:
        assert f'id="{href}"' in body, href


def test_record_form_refused(signed_in):
    c = signed_in("agent")
    r = c.post("/crip/saisie?lang=en", data={"ip-channel": "phone"})
    body = r.get_data(as_text=True)
    assert r.status_code == 400 and title(body).startswith("Error: Record an IP received by another channel")
    links = summary_links(body)
    assert links
    for href, _text in links:
        assert f'id="{href}"' in body, href


@pytest.mark.parametrize("path", ["/crip/", "/crip/compte", "/crip/arrivees"])
def test_pages_without_errors_have_a_plain_title(signed_in, path):
    body = signed_in("agent").get(f"{path}?lang=en").get_data(as_text=True)
    assert not title(body).startswith("Error")


def test_enrolment_code_refused(crip_app, users):
    from portal.extensions import db
    from portal.models import StaffUser
    _id, email, _secret = users["evaluator"]
    with crip_app.app_context():
        user = db.session.get(StaffUser, _id)
        user.totp_enrolled = False
        db.session.commit()
    c = crip_app.test_client()
    c.post("/crip/connexion", data={"email": email, "password": PASSWORD})
    r = c.post("/crip/enrolement?lang=en", data={"code": "000000"})
    body = r.get_data(as_text=True)
    assert r.status_code == 400 and title(body).startswith("Error: ")
    assert [href for href, _text in summary_links(body)] == ["code"]

