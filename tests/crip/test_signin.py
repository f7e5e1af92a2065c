"""Sign-in with and without the second factor, lockout, enrolment, idle timeout, sign-out everywhere."""
from __future__ import annotations


import pyotp
from sqlalchemy import select

from portal.domain import staff
from portal.extensions import db
from portal.models import AuditEntry, StaffUser

from tests.crip.conftest import PASSWORD, sign_in


def test_password_alone_does_not_open_the_queue(crip_app, users):
    c = crip_app.test_client()
    _id, email, _secret = users["agent"]
    r = c.post("/crip/connexion", data={"email": email, "password": PASSWORD})
    assert r.headers["Location"].endswith("/crip/connexion/code")
    r = c.get("/crip/")
    assert r.status_code == 302 and "/crip/connexion" in r.headers["Location"]


def test_wrong_second_factor_is_refused(crip_app, users):
    c = crip_app.test_client()
    _id, email, secret = users["agent"]
    c.post("/crip/connexion", data={"email": email, "password": PASSWORD})
    r = c.post("/crip/connexion/code", data={"code": "000000"})
    assert r.status_code == 400
    assert c.get("/crip/").status_code == 302


def test_full_sign_in_opens_the_queue_and_is_audited(crip_app, users):
    _id, email, secret = users["agent"]
    c = sign_in(crip_app.test_client(), email, secret)
    assert c.get("/crip/").status_code == 200
    with crip_app.app_context():
        actions = [a.action for a in db.session.scalars(select(AuditEntry))]
    assert "signin" in actions and "queue_view" in actions


def test_wrong_password_same_message_as_unknown_account(crip_app, users):
    c = crip_app.test_client()
    r1 = c.post("/crip/connexion", data={"email": users["agent"][1], "password": "wrong password!!"})
    r2 = c.post("/crip/connexion", data={"email": "nobody@crip.test", "password": "wrong password!!"})
    assert r1.status_code == r2.status_code == 400
    assert _message(r1) == _message(r2)


def _message(r):
    import re
    return re.search(rb'class="error-summary".*?<li><a href="#[^"]+">(.*?)</a>', r.data, re.S).group(1)


def test_twenty_wrong_passwords_from_other_addresses_do_not_stop_the_right_password(crip_app, users):
    crip_app.config.update(SIGNIN_DELAY_BASE_MS=1, SIGNIN_DELAY_MAX_MS=5)
    _id, email, secret = users["agent"]
    attacker = crip_app.test_client()
    for i in range(20):
        r = attacker.post("/crip/connexion", data={"email": email, "password": f"guess number {i}"},
                          environ_base={"REMOTE_ADDR": f"10.0.{i}.1"})
        assert r.status_code == 400
    with crip_app.app_context():
        user = db.session.get(StaffUser, users["agent"][0])
        assert user.locked_until is None and user.failed_logins == 20
    owner = crip_app.test_client()
    r = owner.post("/crip/connexion", data={"email": email, "password": PASSWORD},
                   environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert r.status_code == 302 and r.headers["Location"].endswith("/crip/connexion/code")
    r = owner.post("/crip/connexion/code", data={"code": pyotp.TOTP(secret).now()},
                   environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert r.status_code == 302 and r.headers["Location"].endswith("/crip/")
    assert owner.get("/crip/").status_code == 200


def test_failures_slow_the_account_down_whatever_the_answer(crip_app, users):
    import time
    crip_app.config.update(SIGNIN_FREE_FAILURES=2, SIGNIN_DELAY_BASE_MS=150, SIGNIN_DELAY_MAX_MS=300)
    email = users["supervisor"][1]
    c = crip_app.test_client()

    def attempt(mail, password, n):
        t = time.monotonic()
        r = c.post("/crip/connexion", data={"email": mail, "password": password},
                   environ_base={"REMOTE_ADDR": f"10.9.0.{n}"})
        return r, time.monotonic() - t

    first = [attempt(email, "wrong password!!", n)[1] for n in range(2)]
    assert min(first) < 0.15                       # the first failures cost nothing extra
    r, slow = attempt(email, "wrong password!!", 3)
    assert r.status_code == 400 and slow >= 0.15   # then every attempt waits
    r, slow = attempt(email, PASSWORD, 4)
    assert r.status_code == 302 and slow >= 0.3    # the right password too: slowed, never refused
    for n in range(3):                            # an unknown account is slowed the same way
        attempt("nobody@crip.test", "wrong password!!", 10 + n)
    r, slow = attempt("nobody@crip.test", "wrong password!!", 20)
    assert r.status_code == 400 and slow >= 0.15


def test_unknown_wrong_and_throttled_answers_are_the_same(crip_app, users):
    crip_app.config.update(SIGNIN_FREE_FAILURES=1, SIGNIN_DELAY_BASE_MS=1, SIGNIN_DELAY_MAX_MS=2)
    c = crip_app.test_client()
    email = users["agent"][1]
    wrong = c.post("/crip/connexion?lang=en", data={"email": email, "password": "wrong password!!"})
    unknown = c.post("/crip/connexion?lang=en", data={"email": "nobody@crip.test", "password": "wrong password!!"})
    for _ in range(5):
        throttled = c.post("/crip/connexion?lang=en", data={"email": email, "password": "wrong password!!"})
    assert wrong.status_code == unknown.status_code == throttled.status_code == 400
    assert _message(wrong) == _message(unknown) == _message(throttled) == b"The e-mail address or the password is wrong."


def test_signin_rate_limited_per_address_only(crip_app, users):
    crip_app.config["RATELIMIT_SIGNIN_ADDRESS"] = "3 per minute"
    crip_app.config.update(SIGNIN_DELAY_BASE_MS=1, SIGNIN_DELAY_MAX_MS=2)
    c = crip_app.test_client()
    email = users["supervisor"][1]
    codes = [c.post("/crip/connexion", data={"email": email, "password": "nope nope nope"},
                    environ_base={"REMOTE_ADDR": "10.0.0.1"}).status_code for _ in range(5)]
    assert codes[:3] == [400, 400, 400] and codes[-1] == 429
    assert "Retry-After" in c.post("/crip/connexion", data={"email": email, "password": "x" * 12},
                                   environ_base={"REMOTE_ADDR": "10.0.0.1"}).headers
    r = c.post("/crip/connexion", data={"email": email, "password": PASSWORD}, environ_base={"REMOTE_ADDR": "10.0.0.2"})
    assert r.status_code == 302


def test_recovery_code_is_single_use(crip_app, users):
    uid, email, _secret = users["agent"]
    with crip_app.app_context():
        user = db.session.get(StaffUser, uid)
        codes = staff.new_recovery_codes(crip_app.config["SECRET_KEY"], user)
        db.session.commit()
    c = crip_app.test_client()
    c.post("/crip/connexion", data={"email": email, "password": PASSWORD})
    assert c.post("/crip/connexion/code", data={"code": codes[0]}).status_code == 302
    c2 = crip_app.test_client()
    c2.post("/crip/connexion", data={"email": email, "password": PASSWORD})
    assert c2.post("/crip/connexion/code", data={"code": codes[0]}).status_code == 400


def test_enrolment_with_qr_then_recovery_codes(crip_app):
    from portal.extensions import db as _db
    with crip_app.app_context():
        staff.create_user(_db.session, email="new@crip.test", name="New", role="agent", departement="31",
                          password=PASSWORD, crip_private_key=crip_app.config["TEST_CRIP_KEYS"]["31"])
        _db.session.commit()
    c = crip_app.test_client()
    r = c.post("/crip/connexion", data={"email": "new@crip.test", "password": PASSWORD})
    assert r.headers["Location"].endswith("/crip/enrolement")
    r = c.get("/crip/enrolement")
    assert b"data:image/svg+xml" in r.data
    import re
    secret = re.search(r'<code class="code-box" dir="ltr">([A-Z2-7]{16,})</code>', r.get_data(as_text=True)).group(1)
    assert c.get("/crip/enrolement").get_data(as_text=True).count(secret) == 1   # the same secret until enrolled
    r = c.post("/crip/enrolement", data={"code": pyotp.TOTP(secret).now()})
    assert r.status_code == 200 and r.data.count(b"<code>") == 10
    assert c.get("/crip/").status_code == 200


def test_idle_timeout(crip_app, users):
    _id, email, secret = users["agent"]
    c = sign_in(crip_app.test_client(), email, secret)
    from datetime import datetime, timedelta, timezone
    from portal.models import StaffSession
    with crip_app.app_context():
        row = db.session.scalars(select(StaffSession)).one()
        row.seen_at = datetime.now(timezone.utc) - timedelta(seconds=crip_app.config["STAFF_IDLE_TIMEOUT"] + 5)
        db.session.commit()
    assert c.get("/crip/").status_code == 302
    with crip_app.app_context():   # the idle session is deleted, not just refused
        assert db.session.scalars(select(StaffSession)).all() == []


def test_sign_out_everywhere_ends_other_sessions(crip_app, users):
    _id, email, secret = users["agent"]
    a = sign_in(crip_app.test_client(), email, secret)
    b = sign_in(crip_app.test_client(), email, secret)
    assert b.get("/crip/").status_code == 200
    a.post("/crip/deconnexion-partout")
    assert b.get("/crip/").status_code == 302


def test_deactivated_account_cannot_sign_in_and_loses_its_key(crip_app, users):
    uid, email, secret = users["agent"]
    with crip_app.app_context():
        user = db.session.get(StaffUser, uid)
        staff.deactivate(user)
        db.session.commit()
        assert user.wrapped_key is None and user.active is False
    r = crip_app.test_client().post("/crip/connexion", data={"email": email, "password": PASSWORD})
    assert r.status_code == 400


def test_password_change_rewraps_the_key(crip_app, users, sample_ip):
    uid, email, secret = users["agent"]
    c = sign_in(crip_app.test_client(), email, secret)
    r = c.post("/crip/mot-de-passe", data={"old": PASSWORD, "new": "another long passphrase"})
    assert r.status_code == 302
    c = sign_in(crip_app.test_client(), email, secret, password="another long passphrase")
    r = c.get(f"/crip/ip/{sample_ip.reference}")
    assert r.status_code == 200 and "Zéphyrine".encode() in r.data
