"""The CRIP side in a real browser: an agent signs in with TOTP, finds an IP sent through the public
form, asks the sender a question, and the sender reads it with the follow-up code; axe on the
back-office pages."""
from __future__ import annotations

import re

import pyotp
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Portal, _serve

PASSWORD = "a long and private passphrase"
SECRET = pyotp.random_base32()


@pytest.fixture(scope="module")
def crip_server(tmp_path_factory, chromium_path):
    server = _serve(tmp_path_factory, "livecrip", PORTAL_DEPARTEMENTS=["31"])
    app = server.app
    from portal.domain import staff
    from portal.extensions import db
    with app.app_context():
        user = staff.create_user(db.session, email="agent@crip.test", name="Agent Test", role="agent",
                                 departement="31", password=PASSWORD,
                                 crip_private_key=app.config["TEST_CRIP_KEYS"]["31"])
        user.totp_secret = staff.encrypt_totp_secret(app.config["SECRET_KEY"], SECRET)
        user.totp_enrolled = True
        db.session.commit()
    yield server.url
    server.stop()


def _sign_in(page, base):
    page.goto(f"{base}/crip/connexion")
    page.locator("#email").fill("agent@crip.test")
    page.locator("#password").fill(PASSWORD)
    page.locator("button[type=submit]").last.click()
    expect(page).to_have_url(re.compile(r"/crip/connexion/code$"))
    page.locator("#code").fill(pyotp.TOTP(SECRET).now())
    page.locator("button[type=submit]").last.click()
    expect(page).to_have_url(re.compile(r"/crip/$"))


def test_agent_question_reaches_the_sender(browser, crip_server, assert_accessible):
    sender_ctx = browser.new_context(viewport={"width": 390, "height": 844})
    agent_ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        sender = sender_ctx.new_page()
        portal = Portal(sender, crip_server)
        portal.start()
        portal.who("public")
        portal.child(postcode="31000", first_name="Maëlys", age="4")
        portal.children()
        portal.adults()
        portal.concern("Elle reste seule le soir, souvent.")
        portal.sender(anonymous=True)
        portal.documents()
        reference, code = portal.send()

        agent = agent_ctx.new_page()
        _sign_in(agent, crip_server)
        assert_accessible(agent, "queue")
        agent.locator("#ref").fill(reference)
        agent.locator("form[role=search] button[type=submit]").click()
        expect(agent).to_have_url(re.compile(rf"/crip/ip/{reference}$"))
        expect(agent.locator("main")).to_contain_text("Maëlys")
        assert_accessible(agent, "case")
        agent.locator("#body").fill("Bonjour, depuis quand l'enfant est-elle seule le soir ?")
        agent.locator(f"form[action$='/crip/ip/{reference}/message'] button[type=submit]").click()
        expect(agent.locator("#messages ~ .message.from-crip")).to_have_count(1)

        sender.goto(f"{crip_server}/signaler/suivi")
        assert_accessible(sender, "follow-up sign-in")
        sender.locator("#reference").fill(reference)
        sender.locator("#code").fill(code.lower())
        sender.locator("main form button[type=submit]").first.click()
        expect(sender).to_have_url(re.compile(r"/signaler/suivi/messages"))
        expect(sender.locator(".message.from-crip")).to_contain_text("depuis quand")
        assert_accessible(sender, "follow-up messages")
        sender.locator("#body").fill("Depuis la rentrée, presque tous les soirs.")
        sender.locator("main form button[type=submit]").first.click()
        expect(sender.locator(".message")).to_have_count(2)

        agent.reload()
        expect(agent.locator("main")).to_contain_text("Depuis la rentrée")
        agent.goto(f"{crip_server}/crip/saisie")
        assert_accessible(agent, "record an IP")
        agent.locator("main form button[type=submit]").last.click()
        assert_accessible(agent, "record an IP with errors")
        agent.goto(f"{crip_server}/crip/mot-de-passe")
        assert_accessible(agent, "password")
    finally:
        sender_ctx.close()
        agent_ctx.close()


def test_back_office_sign_in_pages_are_accessible(browser, crip_server, assert_accessible):
    ctx = browser.new_context()
    try:
        page = ctx.new_page()
        for lang in ("fr", "ar"):
            page.goto(f"{crip_server}/crip/connexion?lang={lang}")
            assert page.locator("html").get_attribute("dir") == ("rtl" if lang == "ar" else "ltr")
            assert_accessible(page, f"sign-in {lang}")
        page.locator("button[type=submit]").last.click()   # empty: error summary
        assert_accessible(page, "sign-in errors")
    finally:
        ctx.close()
