"""Accounts from the web: an administrator creates, deactivates, re-enables and resets a second factor;
a colleague who holds the key approves a newcomer, whose one-time secret opens the key until they choose
their password; the newcomer enrols TOTP and opens a sealed IP. The recovery key is never typed."""
from __future__ import annotations

import re

import pyotp
from sqlalchemy import select

from portal.domain import audit
from portal.extensions import db
from portal.models import AuditEntry, StaffUser

NEW_PASSWORD = "a brand new passphrase for Léa"


def _actions(app):
    with app.app_context():
        assert audit.verify(db.session, key=app.config["AUDIT_KEY"]) == []
        return [a.action for a in db.session.scalars(select(AuditEntry).order_by(AuditEntry.id))]


def test_admin_creates_holder_approves_newcomer_signs_in_and_reads(crip_app, users, signed_in, sample_ip):
    admin = signed_in("admin")
    r = admin.post("/crip/comptes?lang=en", data={"name": "Léa Nouvelle", "email": "Lea.Nouvelle@crip.test",
                                                  "role": "agent", "territory": ""}, follow_redirects=True)
    assert "The account of Léa Nouvelle was created." in r.data.decode()
    listing = admin.get("/crip/comptes?lang=en").data.decode()
    assert "Waiting for a key holder&#39;s approval" in listing or "Waiting for a key holder's approval" in listing
    with crip_app.app_context():
        lea = db.session.scalar(select(StaffUser).where(StaffUser.email == "lea.nouvelle@crip.test"))
        assert lea.wrapped_key is None and lea.password_must_change
        lea_id = lea.id
    # a key holder (an agent, signed in: their session holds the key) approves
    holder = signed_in("agent")
    page = holder.get("/crip/arrivees?lang=en").data.decode()
    assert "Léa Nouvelle" in page
    r = holder.post(f"/crip/arrivees/{lea_id}/cle?lang=en")
    assert r.status_code == 200
    secret = re.search(r'id="enrolment-secret" dir="ltr">([0-9A-Z-]+)<', r.data.decode()).group(1)
    assert len(secret) == 23
    assert "Nobody is waiting." in r.data.decode()
    # the newcomer signs in with the secret, chooses a password, enrols TOTP
    new = crip_app.test_client()
    r = new.post("/crip/connexion", data={"email": "lea.nouvelle@crip.test", "password": secret})
    assert r.status_code == 302 and r.headers["Location"].endswith("/crip/premier-mot-de-passe")
    assert new.get("/crip/connexion/code").status_code == 302          # no way around the new password
    r = new.post("/crip/premier-mot-de-passe?lang=en", data={"new": NEW_PASSWORD, "confirm": "something else"})
    assert r.status_code == 400 and "The two passwords are not the same." in r.data.decode()
    r = new.post("/crip/premier-mot-de-passe", data={"new": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert r.status_code == 303 and r.headers["Location"].endswith("/crip/enrolement")
    page = new.get("/crip/enrolement").data.decode()
    totp_secret = re.search(r'<code class="code-box" dir="ltr">([A-Z2-7]+)</code>', page).group(1)
    r = new.post("/crip/enrolement", data={"code": pyotp.TOTP(totp_secret).now()})
    assert r.status_code == 200
    page = new.get(f"/crip/ip/{sample_ip.reference}").data.decode()
    assert "Zéphyrine" in page and "XYLOPHONE" in page            # the sealed IP opens
    # the secret no longer works; the password does
    other = crip_app.test_client()
    assert other.post("/crip/connexion", data={"email": "lea.nouvelle@crip.test", "password": secret}).status_code == 400
    r = other.post("/crip/connexion", data={"email": "lea.nouvelle@crip.test", "password": NEW_PASSWORD})
    assert r.status_code == 302 and r.headers["Location"].endswith("/crip/connexion/code")
    actions = _actions(crip_app)
    for step in ("account_created", "key_granted", "first_password_set", "totp_enrolled"):
        assert step in actions, step
    assert actions.index("account_created") < actions.index("key_granted") < actions.index("first_password_set")


def test_deactivate_reenable_and_reset_second_factor(crip_app, users, signed_in):
    admin = signed_in("admin")
    agent_id = users["agent"][0]
    r = admin.post(f"/crip/comptes/{agent_id}/second-facteur?lang=en", follow_redirects=True)
    assert "The second factor of Agent Test was reset" in r.data.decode()
    with crip_app.app_context():
        assert not db.session.get(StaffUser, agent_id).totp_enrolled
    r = admin.post(f"/crip/comptes/{agent_id}/desactiver?lang=en", follow_redirects=True)
    assert "is deactivated; its copy of the CRIP key was deleted." in r.data.decode()
    with crip_app.app_context():
        u = db.session.get(StaffUser, agent_id)
        assert not u.active and u.wrapped_key is None
    r = admin.post(f"/crip/comptes/{agent_id}/reactiver?lang=en", follow_redirects=True)
    assert "is active again" in r.data.decode()
    with crip_app.app_context():
        assert db.session.get(StaffUser, agent_id).active
    assert "Agent Test" in signed_in("supervisor").get("/crip/arrivees").data.decode()   # waits for the key
    actions = _actions(crip_app)
    for step in ("second_factor_reset", "account_deactivated", "account_reenabled"):
        assert step in actions


def test_only_admins_manage_accounts_and_only_holders_approve(crip_app, users, signed_in):
    assert signed_in("agent").post("/crip/comptes", data={"name": "X", "email": "x@y.fr", "role": "agent"}).status_code == 403
    assert signed_in("admin").get("/crip/arrivees").status_code == 403
    r = signed_in("admin").post("/crip/comptes?lang=en", data={"name": "", "email": "nope", "role": ""})
    assert r.status_code == 400 and 'href="#name"' in r.data.decode()
