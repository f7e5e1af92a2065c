"""Back office: out-of-range ids and cursors are a 404 on SQLite and PostgreSQL, never a 5xx; a TOTP
code works once."""
from __future__ import annotations

import pyotp
import pytest
from sqlalchemy import text

from portal.domain import staff
from portal.extensions import db

from tests.crip.conftest import PASSWORD, add_ip, sign_in


@pytest.fixture(params=["sqlite", "postgresql"])
def both_apps(request, tmp_path):
    from tests.conftest import make_app
    if request.param == "sqlite":
        yield make_app(tmp_path, PORTAL_DEPARTEMENTS=["31"])
        return
    pg_url = request.getfixturevalue("pg_url")
    app = make_app(tmp_path, PORTAL_DEPARTEMENTS=["31"], DATABASE_URL=pg_url)
    yield app
    from portal.models import Base
    engine = app.extensions["portal_engine"]
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(text(f'DROP TABLE IF EXISTS "{table.name}" CASCADE'))
    engine.dispose()


def _agent(app):
    secret = pyotp.random_base32()
    with app.app_context():
        u = staff.create_user(db.session, email="agent@crip.test", name="Agent", role="agent", departement="31",
                              password=PASSWORD, crip_private_key=app.config["TEST_CRIP_KEYS"]["31"])
        u.totp_secret = staff.encrypt_totp_secret(app.config["CRIP_SECRET_KEY"], secret)
        u.totp_enrolled = True
        db.session.commit()
    return sign_in(app.test_client(), "agent@crip.test", secret)


@pytest.mark.parametrize("path", [
    "/crip/ip/{ref}/piece/9223372036854775808",
    "/crip/ip/{ref}/piece/2147483648",
    "/crip/ip/{ref}/piece/0",
    "/crip/ip/{ref}/piece/99999999999999999999999999999999",
    "/crip/?after=3_2026-01-01T00:00:00%2B00:00_9223372036854775808",
    "/crip/?after=99999999999999999999_2026-01-01T00:00:00_1",
    "/crip/?after=1_9999-12-31T23:59:59_2147483648",
    "/crip/?after=1_not-a-date_1",
    "/crip/?after=%00",
])
def test_out_of_range_ids_and_cursors_are_not_found(both_apps, path):
    c = _agent(both_apps)
    ref = add_ip(both_apps).reference
    r = c.get(path.format(ref=ref))
    assert r.status_code == 404, (path, r.status_code)
    assert "Page not found" in c.get(path.format(ref=ref) + ("&" if "?" in path else "?") + "lang=en").get_data(as_text=True)


def test_a_valid_cursor_still_pages(both_apps):
    c = _agent(both_apps)
    assert c.get("/crip/?after=3_2000-01-01T00:00:00%2B00:00_1").status_code == 200


def test_a_totp_code_works_once(crip_app, users):
    _id, email, secret = users["agent"]
    code = pyotp.TOTP(secret).now()
    first = crip_app.test_client()
    first.post("/crip/connexion", data={"email": email, "password": PASSWORD})
    assert first.post("/crip/connexion/code", data={"code": code}).status_code == 302
    assert first.get("/crip/").status_code == 200
    second = crip_app.test_client()
    second.post("/crip/connexion", data={"email": email, "password": PASSWORD})
    r = second.post("/crip/connexion/code", data={"code": code, "lang": "en"})
    assert r.status_code == 400
    assert second.get("/crip/").status_code == 302


def test_totp_accepts_the_current_and_previous_step_only():
    from datetime import datetime, timedelta, timezone
    secret = pyotp.random_base32()
    now = datetime(2026, 11, 29, 12, 0, 10, tzinfo=timezone.utc)
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    assert staff.totp_step(secret, totp.at(now), now) == current
    assert staff.totp_step(secret, totp.at(now - timedelta(seconds=30)), now) == current - 1
    assert staff.totp_step(secret, totp.at(now - timedelta(seconds=60)), now) is None
    assert staff.totp_step(secret, totp.at(now + timedelta(seconds=30)), now) is None
    # once the current step is spent, neither it nor the previous one works again
    assert staff.totp_step(secret, totp.at(now), now, last_step=current) is None
    assert staff.totp_step(secret, totp.at(now - timedelta(seconds=30)), now, last_step=current) is None
    # the previous step spent, the current one still works (a phone a little late, then on time)
    assert staff.totp_step(secret, totp.at(now), now, last_step=current - 1) == current
