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


def test_a_duty_date_refused_links_to_its_field(crip_app, signed_in):
    c = signed_in("supervisor")
    ref = add_ip(crip_app, source_type="professional").reference
    r = c.post(f"/crip/ip/{ref}/retour-auteur", data={"feedback-on": ""})
    assert r.status_code == 302
    body = c.get(r.headers["Location"] + "&lang=en").get_data(as_text=True)
    assert title(body).startswith(f"Error: IP {ref}")
    assert [href for href, _text in summary_links(body)] == ["feedback-on"] and 'id="feedback-on"' in body


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

