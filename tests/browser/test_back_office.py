"""The back office in a real browser: an agent's working session at 1280×800 (the "new" filter, a
sender's reply flagged unread, a change of status with its notice, a message sent), and axe-core on
every back-office page in French and English; no page carries the public quick exit or language list."""
from __future__ import annotations

import re
from datetime import datetime, timezone

import pyotp
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import _serve

PASSWORD = "a long and private passphrase"
ACCOUNTS = {"agent1": "agent", "agent2": "agent", "sup": "supervisor", "admin": "admin"}
SECRETS = {name: pyotp.random_base32() for name in ACCOUNTS}
REPLY = "Depuis la rentrée, presque tous les soirs."


_APPS = {}


@pytest.fixture(scope="module")
def office(tmp_path_factory, chromium_path):
    server = _serve(tmp_path_factory, "liveoffice", PORTAL_DEPARTEMENTS=["31"])
    app = server.app
    from portal.domain import intake, keys, staff
    from portal.extensions import db
    refs = []
    with app.app_context():
        for name, role in ACCOUNTS.items():
            user = staff.create_user(db.session, email=f"{name}@crip.test", name=f"{name.title()} Test", role=role,
                                     departement="31", password=PASSWORD,
                                     crip_private_key=app.config["TEST_CRIP_KEYS"]["31"])
            user.totp_secret = staff.encrypt_totp_secret(app.config["SECRET_KEY"], SECRETS[name])
            user.totp_enrolled = True
        for i, first in enumerate(("Maëlys", "Noé", "Inès")):
            answers = {"source_type": "public",
                       "children": [{"first_name": first, "age": 4 + i, "sex": "f", "postcode": "31000"}],
                       "concern": {"categories": ["neglect"], "account": "Seule le soir.", "danger_now": "no"},
                       "sender": {"anonymous": "yes", "contact_language": "fr"}}
            receipt = intake.submit(db.session, answers=answers, files=[], received_by="31",
                                    served=app.config["PROFILES"], crip_key=keys.active_key(db.session, "31"),
                                    secret_key=app.config["SECRET_KEY"], submission_token=None, language="fr",
                                    probably_automated=False, now=datetime.now(timezone.utc))
            refs.append(receipt)
        from portal.models import InformationPreoccupante as IP
        first_ip = db.session.get(IP, refs[0].ip_id)
        intake.post_sender_message(db.session, ip=first_ip, crip_public_key=keys.active_key(db.session, "31").public_key,
                                   text=REPLY, now=datetime.now(timezone.utc))
        db.session.commit()
    _APPS[server.url] = app
    yield server.url, [r.reference for r in refs]
    server.stop()


def _forget_last_code(base, name):
    """A TOTP code works once per account: several sign-ins of one account within 30 s would reuse it."""
    from sqlalchemy import select

    from portal.extensions import db
    from portal.models import StaffUser
    with _APPS[base].app_context():
        user = db.session.scalar(select(StaffUser).where(StaffUser.email == f"{name}@crip.test"))
        user.totp_last_step = None
        db.session.commit()


def _sign_in(page, base, name):
    _forget_last_code(base, name)
    page.goto(f"{base}/crip/connexion")
    page.locator("#email").fill(f"{name}@crip.test")
    page.locator("#password").fill(PASSWORD)
    page.locator("main button[type=submit]").last.click()
    expect(page).to_have_url(re.compile(r"/crip/connexion/code$"))
    page.locator("#code").fill(pyotp.TOTP(SECRETS[name]).now())
    page.locator("main button[type=submit]").last.click()
    expect(page).not_to_have_url(re.compile(r"/connexion"))


def _no_public_clothes(page):
    assert page.locator("[data-quick-exit], .quick-exit-bar, .lang-switch, .site-footer").count() == 0, page.url
    assert page.locator(".staff-header").count() == 1


def test_an_agents_working_session(new_page, office):
    base, refs = office
    page = new_page(viewport={"width": 1280, "height": 800})
    _sign_in(page, base, "agent1")
    _no_public_clothes(page)
    page.locator("a[href$='/crip/?view=new']").click()
    expect(page).to_have_url(re.compile(r"view=new"))
    row = page.locator(f"#queue-table tbody tr:has(a[href$='/crip/ip/{refs[0]}'])")
    expect(row).to_be_visible()
    box = page.locator("#queue-table tbody tr").first.bounding_box()
    assert box["y"] + box["height"] <= 800, box            # the first rows are above the fold
    expect(row.locator(".tag-unread")).to_be_visible()      # the sender's reply is flagged
    row.locator("a").first.click()
    expect(page).to_have_url(re.compile(rf"/crip/ip/{refs[0]}$"))
    _no_public_clothes(page)
    expect(page.locator(".message.unread")).to_contain_text(REPLY)
    details = page.locator("details:has(input[name=to][value=analysis])")
    details.locator("summary").click()
    details.locator("button[type=submit]").click()
    expect(page.locator(".notice-ok")).to_be_visible()
    expect(page.locator(".notice-ok")).to_contain_text(refs[0])
    page.locator("#body").fill("Bonjour, depuis quand l'enfant est-elle seule le soir ?")
    page.locator(f"form[action$='/crip/ip/{refs[0]}/message'] button[type=submit]").click()
    expect(page.locator(".notice-ok")).to_be_visible()
    expect(page.locator(".message.from-crip")).to_have_count(1)
    expect(page.locator(".message.unread")).to_have_count(0)   # read now
    page.set_viewport_size({"width": 320, "height": 640})
    page.goto(f"{base}/crip/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 320   # no page-wide overflow


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_every_back_office_page_is_accessible(new_page, office, assert_accessible, lang):
    base, refs = office
    q = "" if lang == "fr" else "?lang=en"
    page = new_page(viewport={"width": 1280, "height": 800})
    page.goto(f"{base}/crip/connexion{q}")
    _no_public_clothes(page)
    assert_accessible(page, f"sign-in {lang}")
    sessions = {"agent2": [f"/crip/{q}", "/crip/?view=new" + ("&lang=en" if q else ""), f"/crip/ip/{refs[1]}{q}",
                           f"/crip/saisie{q}", f"/crip/compte{q}", f"/crip/mot-de-passe{q}", f"/crip/arrivees{q}",
                           f"/crip/page-inconnue{q}", f"/crip/comptes{q}"],
                "sup": [f"/crip/statistiques{q}"], "admin": [f"/crip/comptes{q}"]}
    for name, paths in sessions.items():
        if lang == "en" and name == "agent2":
            name = "agent1"                 # another account: a TOTP code is accepted once
        ctx_page = new_page(viewport={"width": 1280, "height": 800})
        _sign_in(ctx_page, base, name)
        for path in paths:
            ctx_page.goto(base + path)
            _no_public_clothes(ctx_page)
            assert ctx_page.locator("html").get_attribute("lang") == lang, path
            assert ctx_page.locator("h1").count() == 1, path
            assert_accessible(ctx_page, f"{path} ({name})")
