"""Back-office fixtures: staff of every role, a signed-in client per role, and a sample IP."""
from __future__ import annotations

from datetime import datetime, timezone

import pyotp
import pytest
from sqlalchemy import select

from portal.domain import intake, keys, staff
from portal.extensions import db

PASSWORD = "correct horse battery staple"
ROLES = ("agent", "supervisor", "evaluator", "admin")


@pytest.fixture
def settings(settings):
    """The back office's tests serve the Haute-Garonne only, unless a test says otherwise
    (`@pytest.mark.settings(...)`); `app`, `client` and `runner` are tests/conftest.py's."""
    return {"PORTAL_DEPARTEMENTS": ["31"], **settings}


@pytest.fixture
def crip_app(app):
    """Older name of `app`, kept for the tests written with it."""
    return app


@pytest.fixture
def users(crip_app):
    """One account per role, enrolled in TOTP; returns {role: (id, email, totp_secret)}."""
    out = {}
    with crip_app.app_context():
        private = crip_app.config["TEST_CRIP_KEYS"]["31"]
        for role in ROLES:
            email = f"{role}@crip.test"
            u = staff.create_user(db.session, email=email, name=f"{role.title()} Test", role=role,
                                  departement="31", password=PASSWORD, crip_private_key=private,
                                  territory="toulouse" if role == "evaluator" else None)
            secret = pyotp.random_base32()
            u.totp_secret = staff.encrypt_totp_secret(crip_app.config["CRIP_SECRET_KEY"], secret)
            u.totp_enrolled = True
            db.session.flush()
            out[role] = (u.id, email, secret)
        db.session.commit()
    return out


def forget_totp_step(app, email):
    """Stand for "30 seconds later": a TOTP code works once per account, and these tests sign the
    same account in several times within one 30-second step."""
    from portal.models import StaffUser
    with app.app_context():
        user = db.session.scalar(select(StaffUser).where(StaffUser.email == email))
        user.totp_last_step = None
        db.session.commit()


def sign_in(client, email, secret, password=PASSWORD):
    forget_totp_step(client.application, email)
    r = client.post("/crip/connexion", data={"email": email, "password": password})
    assert r.status_code == 302, r.status_code
    r = client.post("/crip/connexion/code", data={"code": pyotp.TOTP(secret).now()})
    assert r.status_code == 302 and r.headers["Location"].endswith("/crip/"), r.headers.get("Location")
    return client


@pytest.fixture
def signed_in(crip_app, users):
    def make(role):
        _id, email, secret = users[role]
        return sign_in(crip_app.test_client(), email, secret)
    return make


def add_ip(app, *, name="Zéphyrine", account="XYLOPHONE", age=5, postcode="31000", categories=("neglect",),
           source_type="public", territory=None):
    with app.app_context():
        answers = {"source_type": source_type,
                   "children": [{"first_name": name, "age": age, "sex": "f", "postcode": postcode}],
                   "concern": {"categories": list(categories), "account": account, "danger_now": "no"},
                   "sender": {"anonymous": "yes", "contact_language": "fr"}}
        receipt = intake.submit(db.session, answers=answers, files=[], received_by="31",
                                served=app.config["PROFILES"], crip_key=keys.active_key(db.session, "31"),
                                secret_key=app.config["SECRET_KEY"], submission_token=None, language="fr",
                                probably_automated=False, now=datetime.now(timezone.utc))
        if territory:
            from portal.models import InformationPreoccupante
            ip = db.session.get(InformationPreoccupante, receipt.ip_id)
            ip.assigned_team = territory
        db.session.commit()
        return receipt


@pytest.fixture
def sample_ip(crip_app):
    return add_ip(crip_app)
