"""Key custody: the unwrapped CRIP key lives server-side, encrypted with a per-session key only the
cookie carries; sign-out kills every copy of the cookie; the public site, with only its own
settings, opens neither a staff session nor a sealed report, even given a captured staff cookie."""
from __future__ import annotations

import base64
import hashlib

import pytest
from sqlalchemy import func, select

from portal.domain import sealing, staff
from portal.extensions import db
from portal.models import StaffSession

from tests.crip.conftest import PASSWORD


def _cookies(client) -> dict[str, str]:
    out = {}
    for name in ("crip_sid", "crip_session"):
        ck = client.get_cookie(name, path="/crip")
        if ck is not None:
            out[name] = ck.value
    return out


def _copy(app, cookies: dict[str, str]):
    thief = app.test_client()
    for name, value in cookies.items():
        thief.set_cookie(name, value, path="/crip")
    return thief


def _sessions(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(StaffSession))


def test_a_copied_staff_cookie_opens_nothing_after_sign_out(crip_app, users, signed_in, sample_ip):
    agent = signed_in("agent")
    stolen = _cookies(agent)
    assert "crip_sid" in stolen
    thief = _copy(crip_app, stolen)
    case = f"/crip/ip/{sample_ip.reference}"
    assert "Zéphyrine" in thief.get(case).get_data(as_text=True)   # while the session lives, the copy works
    assert _sessions(crip_app) == 1
    r = agent.post("/crip/deconnexion")
    assert r.status_code == 302
    assert _sessions(crip_app) == 0     # the server-side session is gone, with the encrypted key
    for path in ("/crip/", case, "/crip/mot-de-passe"):
        r = thief.get(path)
        assert r.status_code == 302 and "/crip/connexion" in r.headers["Location"], path
    # and the copy is not refreshed into a new session by being used
    assert _sessions(crip_app) == 0
    assert thief.get(case).status_code == 302


def test_idle_timeout_deletes_the_session_for_every_copy(crip_app, users, signed_in, sample_ip):
    from datetime import datetime, timedelta, timezone
    agent = signed_in("agent")
    thief = _copy(crip_app, _cookies(agent))
    with crip_app.app_context():
        row = db.session.scalars(select(StaffSession)).one()
        row.seen_at = datetime.now(timezone.utc) - timedelta(seconds=crip_app.config["STAFF_IDLE_TIMEOUT"] + 1)
        db.session.commit()
    assert thief.get(f"/crip/ip/{sample_ip.reference}").status_code == 302
    assert _sessions(crip_app) == 0
    assert agent.get("/crip/").status_code == 302


def test_password_change_and_deactivation_end_every_session(crip_app, users, signed_in):
    a, b = signed_in("agent"), signed_in("agent")
    assert _sessions(crip_app) == 2
    r = a.post("/crip/mot-de-passe", data={"old": PASSWORD, "new": "another long passphrase"})
    assert r.status_code == 302
    assert _sessions(crip_app) == 0 and b.get("/crip/").status_code == 302
    sup = signed_in("supervisor")
    with crip_app.app_context():
        from portal.models import StaffUser
        staff.deactivate(db.session.get(StaffUser, users["supervisor"][0]))
        db.session.commit()
    assert _sessions(crip_app) == 0 and sup.get("/crip/").status_code == 302


def test_the_store_holds_no_key_in_clear_and_no_server_secret_opens_it(crip_app, users, signed_in):
    signed_in("agent")
    private = crip_app.config["TEST_CRIP_KEYS"]["31"]
    candidates = [hashlib.blake2b(s.encode(), digest_size=32, person=p).digest()
                  for s in (crip_app.config["SECRET_KEY"], crip_app.config["CRIP_SECRET_KEY"])
                  for p in (b"staff-session", b"crip-staff-cook", b"")] + [
                  staff.session_key_box(crip_app.config["SECRET_KEY"]),
                  staff.session_key_box(crip_app.config["CRIP_SECRET_KEY"])]
    with crip_app.app_context():
        row = db.session.scalars(select(StaffSession)).one()
        assert private not in row.sealed_key and private.hex().encode() not in row.sealed_key
        assert len(row.id) == 64   # a hash of the session id, not the id the cookie carries
        for key in candidates:
            with pytest.raises(sealing.SealError):
                sealing.decrypt(key, row.sealed_key)


def test_enrolment_secret_is_kept_server_side(crip_app):
    with crip_app.app_context():
        staff.create_user(db.session, email="new@crip.test", name="New", role="agent", departement="31",
                          password=PASSWORD, crip_private_key=crip_app.config["TEST_CRIP_KEYS"]["31"])
        db.session.commit()
    c = crip_app.test_client()
    c.post("/crip/connexion", data={"email": "new@crip.test", "password": PASSWORD})
    import re
    page = c.get("/crip/enrolement").get_data(as_text=True)
    secret = re.search(r'<code class="code-box" dir="ltr">([A-Z2-7]{16,})</code>', page).group(1)
    for value in _cookies(c).values():
        raw = value.lstrip(".").split(".")[0]
        try:
            payload = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))
        except Exception:
            payload = b""
        assert secret.encode() not in payload and secret not in value
    with crip_app.app_context():
        row = db.session.scalars(select(StaffSession)).one()
        assert row.stage == "enrol" and row.sealed_enrol is not None and secret.encode() not in row.sealed_enrol


def test_public_site_with_its_own_settings_opens_neither_a_staff_session_nor_a_report(tmp_path, crip_app, users,
                                                                                      signed_in, sample_ip):
    """The attack of the issue: the public host's secrets, its database access, and a captured
    staff cookie of a live session."""
    from portal import create_app
    from tests.conftest import base_config
    agent = signed_in("agent")
    captured = _cookies(agent)
    cfg = base_config(tmp_path / "public", PORTAL_DEPARTEMENTS=["31"], PORTAL_SERVES=["public"],
                      DATABASE_URL=crip_app.config["DATABASE_URL"])
    cfg.pop("CRIP_SECRET_KEY")
    public = create_app(cfg, env={})
    assert public.config["CRIP_SECRET_KEY"] is None and public.config["AUDIT_KEY"] is None
    secret = public.config["SECRET_KEY"]
    # 1. no staff route answers there, cookie or not
    thief = _copy(public, captured)
    assert thief.get("/crip/").status_code == 404
    assert thief.get(f"/crip/ip/{sample_ip.reference}").status_code == 404
    # 2. what the public site's secret derives opens neither the cookie nor the stored session
    cookie = base64.urlsafe_b64decode(captured["crip_sid"] + "=" * (-len(captured["crip_sid"]) % 4))
    derived = [staff.session_key_box(secret)] + [
        hashlib.blake2b(secret.encode(), digest_size=32, person=p).digest()
        for p in (b"crip-staff-cook", b"staff-session", b"")] + [hashlib.sha256(secret.encode()).digest()]
    with public.app_context():
        rows = list(db.session.scalars(select(StaffSession)))
        assert rows
        for key in derived:
            with pytest.raises(sealing.SealError):
                sealing.decrypt(key, cookie)
            for row in rows:
                with pytest.raises(sealing.SealError):
                    sealing.decrypt(key, row.sealed_key)
        # 3. the cookie's bytes themselves, however cut, are no key to the stored session
        for row in rows:
            for start in range(len(cookie) - 31):
                with pytest.raises(sealing.SealError):
                    sealing.decrypt(cookie[start:start + 32], row.sealed_key)
        # 4. so the sealed report stays sealed: no key the public host holds opens it
        from portal.models import InformationPreoccupante
        ip = db.session.scalar(select(InformationPreoccupante).where(
            InformationPreoccupante.reference == sample_ip.reference))
        for key in derived:
            with pytest.raises(sealing.SealError):
                sealing.open_json(key, ip.sealed)
    # Control: the back office's own secret with the same cookie and row does open it, so the
    # checks above would have caught a leak.
    crip_box = hashlib.blake2b(crip_app.config["CRIP_SECRET_KEY"].encode(), digest_size=32,
                               person=b"crip-staff-cook").digest()
    plain = sealing.decrypt(crip_box, cookie)
    with crip_app.app_context():
        row = db.session.get(StaffSession, hashlib.sha256(plain[:32]).hexdigest())
        key = sealing.decrypt(plain[32:], row.sealed_key)
        assert sealing.open_json(key, db.session.get(InformationPreoccupante, sample_ip.ip_id).sealed)


def test_back_office_flask_session_is_signed_with_its_own_secret(crip_app, users, signed_in):
    from flask.sessions import SecureCookieSessionInterface
    from itsdangerous import BadSignature
    agent = signed_in("agent")
    agent.get("/crip/mot-de-passe")   # a form: its CSRF token lives in the back office's session
    value = agent.get_cookie("crip_session", path="/crip")
    assert value is not None
    public_serializer = SecureCookieSessionInterface().get_signing_serializer(crip_app)
    with pytest.raises(BadSignature):
        public_serializer.loads(value.value)


@pytest.mark.parametrize("cookie", ["", "x", "\x00" * 60, "é" * 50, "A" * 300,
                                    base64.urlsafe_b64encode(b"\0" * 104).decode()])
def test_undecodable_staff_cookie_is_a_fresh_start(crip_app, cookie):
    c = crip_app.test_client()
    c.set_cookie("crip_sid", cookie, path="/crip")
    r = c.get("/crip/")
    assert r.status_code == 302 and "/crip/connexion" in r.headers["Location"]
    assert c.get("/crip/connexion").status_code == 200
