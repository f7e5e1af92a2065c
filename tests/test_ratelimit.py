"""Rate limits: shared counting in Redis across instances, fallback when Redis is away, no spoofing
through X-Forwarded-For, no raw address in Redis keys, and a 429 that keeps everything typed."""
from __future__ import annotations

import re
import time

import pytest

from portal.i18n import CODES
from tests.conftest import make_app


def fill_public_report(client, account="Un enfant seul le soir"):
    client.post("/signaler/commencer")
    client.post("/signaler/etape/qui", data={"source_type": "public"})
    client.post("/signaler/etape/enfant?n=0", data={"first_name": "Léa", "age": "6", "sex": "f", "postcode": "31000"})
    client.post("/signaler/etape/enfants", data={"action": "continue"})
    client.post("/signaler/etape/adultes", data={})
    client.post("/signaler/etape/inquietude", data={"categories": ["neglect"], "account": account, "danger_now": "no"})
    client.post("/signaler/etape/vous", data={"anonymous": "yes", "contact_language": "fr"})
    client.post("/signaler/etape/documents", data={"action": "continue"})


def send_public_report(client):
    fill_public_report(client)
    r = client.post("/signaler/envoyer", data={"confirm": "y"})
    assert r.status_code == 303, r.status_code
    page = client.get("/signaler/confirmation").data.decode()
    return {"reference": re.search(r"IP-[0-9A-Z]{4}-[0-9A-Z]{4}", page).group(0)}


def _start_draft(client):
    client.post("/signaler/commencer")
    client.post("/signaler/etape/qui", data={"source_type": "public"})


def test_two_instances_share_one_count_in_redis(tmp_path, redis_url):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    common = dict(PORTAL_DEPARTEMENTS=["31"], RATELIMIT_STORAGE_URI=redis_url,
                  RATELIMIT_FOLLOWUP_CHECK="4 per minute")
    a = make_app(tmp_path / "a", **common)
    b = make_app(tmp_path / "b", **common)
    codes = []
    for i in range(6):
        app = a if i % 2 == 0 else b
        r = app.test_client().post("/signaler/suivi", data={"reference": "IP-AAAA-BBBB", "code": "X" * 20})
        codes.append(r.status_code)
    assert codes[:4] == [400] * 4 and codes[4:] == [429, 429], codes
    import redis
    keys = [k.decode() for k in redis.Redis.from_url(redis_url).keys("*")]
    assert keys and not any("127.0.0.1" in k for k in keys)


@pytest.mark.settings(PORTAL_DEPARTEMENTS=["31"], RATELIMIT_STORAGE_URI="redis://127.0.0.1:1/0", RATELIMIT_FOLLOWUP_CHECK="2 per minute")
def test_redis_unreachable_falls_back_and_sending_works(app):
    c = app.test_client()
    start = time.monotonic()
    statuses = [c.post("/signaler/suivi", data={"reference": "IP-AAAA-BBBB", "code": "X" * 20}).status_code
                for _ in range(3)]
    assert statuses == [400, 400, 429]          # counted in this process's memory
    assert time.monotonic() - start < 5          # a dead Redis costs bounded time
    assert c.get("/").status_code == 200         # the generic ceiling does not fail closed
    receipt = send_public_report(c)
    assert re.fullmatch(r"IP-[0-9A-Z]{4}-[0-9A-Z]{4}", receipt["reference"])


@pytest.mark.settings(PORTAL_DEPARTEMENTS=["31"], RATELIMIT_FOLLOWUP_CHECK="2 per minute")
def test_spoofed_forwarded_for_is_ignored_without_trusted_proxy(app):
    c = app.test_client()
    statuses = [c.post("/signaler/suivi", data={"reference": "IP-AAAA-BBBB", "code": "X" * 20},
                       headers={"X-Forwarded-For": f"203.0.113.{i}"}).status_code for i in range(3)]
    assert statuses[-1] == 429


@pytest.mark.settings(PORTAL_DEPARTEMENTS=["31"], RATELIMIT_FOLLOWUP_CHECK="2 per minute", TRUSTED_PROXIES=1)
def test_forwarded_for_is_used_behind_a_trusted_proxy(app):
    c = app.test_client()
    statuses = [c.post("/signaler/suivi", data={"reference": "IP-AAAA-BBBB", "code": "X" * 20},
                       headers={"X-Forwarded-For": f"203.0.113.{i}"}).status_code for i in range(3)]
    assert 429 not in statuses


@pytest.mark.parametrize("lang", CODES)
@pytest.mark.settings(PORTAL_DEPARTEMENTS=["31"], RATELIMIT_FORM_STEP="2 per minute")
def test_limited_step_keeps_every_field_in_every_language(app, lang):
    c = app.test_client()
    c.get(f"/?lang={lang}")
    _start_draft(c)
    typed = {"first_name": "Anaïs-Ω", "last_name": "Dupont", "age": "7", "school": "École du Port, CE1",
             "postcode": "31000", "address": "12 rue des Lilas", "lives_with": "mother", "sex": "f"}
    r = c.post("/signaler/etape/enfant?n=0", data=typed)
    assert r.status_code == 429
    assert r.headers.get("Retry-After", "").isdigit()
    page = r.data.decode()
    assert f'lang="{lang}"' in page
    for field, value in typed.items():
        if field in ("lives_with", "sex"):
            assert re.search(rf'<(input|option)\b(?=[^>]*value="{value}")(?=[^>]*\b(checked|selected))', page), field
        else:
            from markupsafe import escape
            assert f'value="{escape(value)}"' in page, field
    assert "119" in page and "0 800 31 08 08" in page


@pytest.mark.settings(PORTAL_DEPARTEMENTS=["31"], RATELIMIT_SEND="0 per hour")
def test_limited_send_keeps_the_answers(app):
    c = app.test_client()
    fill_public_report(c, account="Texte gardé malgré la limite")
    r = c.post("/signaler/envoyer", data={"confirm": "y"})
    assert r.status_code == 429 and "Texte gardé malgré la limite" in r.data.decode()
    assert "Retry-After" in r.headers


@pytest.mark.settings(PORTAL_DEPARTEMENTS=["31"], FORM_MIN_SECONDS=3600)
def test_honeypot_and_speed_do_not_drop_a_report(app):
    from sqlalchemy import select
    from portal.extensions import db
    from portal.models import InformationPreoccupante
    c = app.test_client()
    fill_public_report(c)
    r = c.post("/signaler/envoyer", data={"confirm": "y", "website": "http://spam.example"})
    assert r.status_code == 303
    with app.app_context():
        ip = db.session.scalars(select(InformationPreoccupante)).one()
        assert ip.probably_automated is True


@pytest.mark.settings(PORTAL_DEPARTEMENTS=["31"], MAX_CONTENT_LENGTH=2048)
def test_oversized_request_gets_translated_413(app):
    c = app.test_client()
    r = c.post("/signaler/commencer", data={"x": "y" * 5000}, headers={"Accept-Language": "en"})
    assert r.status_code == 413 and b"119" in r.data


def test_information_pages_are_limited_in_each_process_without_a_redis_round_trip(tmp_path, redis_url):
    """Reading public information is neither a write nor a secret: its ceiling is counted in the
    worker's memory (a 429 with Retry-After over it), and nothing about it goes to Redis."""
    import redis
    store = redis.Redis.from_url(redis_url)
    app = make_app(tmp_path, PORTAL_DEPARTEMENTS=["31"], RATELIMIT_STORAGE_URI=redis_url,
                   RATELIMIT_DEFAULT="3 per hour")
    c = app.test_client()
    statuses = [c.get(path).status_code for path in ("/", "/contacts", "/le-119", "/", "/contacts")]
    assert statuses == [200, 200, 200, 429, 429]
    r = c.get("/", headers={"Accept-Language": "en"})
    assert r.status_code == 429 and "Too many attempts" in r.get_data(as_text=True)
    assert 1 <= int(r.headers["Retry-After"]) <= 3600
    assert c.get("/crip/connexion").status_code == 200    # signing in to the back office: counted in Redis
    # this test's keys only (other test runs may share the Redis database): those of its unusual limit
    keys = [k.decode() for k in store.keys("*/3/1/hour")]
    assert any("crip.signin" in k for k in keys) and not any("public." in k for k in keys), keys


def test_signed_in_staff_reads_are_limited_in_each_process_and_signing_in_in_redis(tmp_path, redis_url):
    """Back office: signing in (its pages and every POST) is counted in Redis, shared by the workers;
    the page reads of a session past both factors are counted in each worker's memory (a 429 over
    the ceiling all the same): they are neither a write nor a guessable secret, and Redis is shared
    with the public host, which then holds no count of the desk's reads."""
    import pyotp
    import redis

    from portal.domain import staff
    from portal.extensions import db
    from tests.crip.conftest import sign_in
    app = make_app(tmp_path, PORTAL_DEPARTEMENTS=["31"], RATELIMIT_STORAGE_URI=redis_url,
                   RATELIMIT_DEFAULT="6 per hour")
    secret = pyotp.random_base32()
    with app.app_context():
        user = staff.create_user(db.session, email="agent@crip.test", name="Agent", role="agent", departement="31",
                                 password="correct horse battery staple",
                                 crip_private_key=app.config["TEST_CRIP_KEYS"]["31"])
        user.totp_secret = staff.encrypt_totp_secret(app.config["CRIP_SECRET_KEY"], secret)
        user.totp_enrolled = True
        db.session.commit()
    c = app.test_client()
    assert c.get("/crip/connexion").status_code == 200
    sign_in(c, "agent@crip.test", secret)
    store = redis.Redis.from_url(redis_url)
    signing_in = sorted(k.decode() for k in store.keys("*/6/1/hour"))
    assert [k.split("/")[3] for k in signing_in] == ["crip.second_factor", "crip.signin"], signing_in
    statuses = [c.get(path).status_code for path in ["/crip/", "/crip/?view=all", "/crip/"] * 3]
    assert statuses == [200] * 6 + [429] * 3, statuses
    assert sorted(k.decode() for k in store.keys("*/6/1/hour")) == signing_in     # nothing more in Redis


@pytest.mark.settings(PORTAL_DEPARTEMENTS=["31"], RATELIMIT_DEFAULT="2 per minute")
def test_quick_exit_and_health_are_never_limited(app):
    c = app.test_client()
    assert [c.get("/").status_code for _ in range(3)][-1] == 429
    assert all(c.get("/sortie").status_code == 303 for _ in range(5))
    assert all(c.get("/healthz").status_code == 200 for _ in range(5))


@pytest.fixture
def throwaway_redis():
    """A redis-server of this test only (its own port), which the test stops and starts. Required under CI."""
    from tests.conftest import CI
    from tests.throwaway import ThrowawayRedis
    if not ThrowawayRedis.available():
        if CI:
            pytest.fail("redis-server is required under CI=true")
        pytest.skip("redis-server not installed")
    with ThrowawayRedis() as server:
        yield server


@pytest.mark.redis
class RateLimitClock:
    """time.monotonic() and time.time() as the portal's breaker and Flask-Limiter's back-off read them:
    the real clock plus what the test let pass with sleep(), so that a 16-second outage takes no
    16 seconds of the suite (Redis itself is really stopped and started)."""

    def __init__(self):
        self.passed = 0.0

    def monotonic(self):
        return time.monotonic() + self.passed

    def time(self):
        return time.time() + self.passed

    def sleep(self, seconds):
        self.passed += seconds


def test_limits_are_counted_in_redis_again_within_seconds_of_its_return(tmp_path, throwaway_redis, monkeypatch):
    """Redis stopped for 16 s under traffic, then started again: the form's own limits and the generic
    ones are counted in Redis again within 10 s (the portal's 5 s breaker decides, not Flask-Limiter's
    back-off, which after such an outage waits 16 s more before it looks at Redis again)."""
    import flask_limiter._extension
    import redis

    import portal.ratelimit
    clock = RateLimitClock()
    monkeypatch.setattr(portal.ratelimit, "time", clock)
    monkeypatch.setattr(flask_limiter._extension, "time", clock)
    app = make_app(tmp_path, PORTAL_DEPARTEMENTS=["31"], RATELIMIT_STORAGE_URI=throwaway_redis.url,
                   RATELIMIT_FORM_STEP="1000 per minute", RATELIMIT_DEFAULT="1000 per minute")
    c = app.test_client()
    _start_draft(c)
    store = redis.Redis.from_url(throwaway_redis.url)

    def counted():
        keys = [k.decode() for k in store.keys("*")]
        return any("/step/" in k for k in keys), any("/step/" not in k for k in keys)

    def traffic():   # a form step (its own limit) and a page under the generic ceiling in Redis (signing in)
        assert c.post("/signaler/etape/qui", data={"source_type": "public"}).status_code == 302
        assert c.get("/crip/connexion").status_code == 200

    traffic()
    assert counted() == (True, True)
    throwaway_redis.stop()
    down = clock.monotonic()
    while clock.monotonic() - down < 16:
        traffic()                       # counted in memory meanwhile, nothing refused
        clock.sleep(0.5)
    store.close()
    throwaway_redis.start()
    store = redis.Redis.from_url(throwaway_redis.url)
    assert counted() == (False, False)
    back = clock.monotonic()
    while counted() != (True, True) and clock.monotonic() - back < 20:
        traffic()
        clock.sleep(0.25)
    elapsed = clock.monotonic() - back
    assert counted() == (True, True)
    assert elapsed < 10, f"limits back in Redis after {elapsed:.1f} s"


@pytest.mark.settings(PORTAL_DEPARTEMENTS=["31"])
def test_refuse_answers_429_with_the_page_and_when_to_come_back(app):
    from portal.ratelimit import hit, refuse
    with app.test_request_context("/"):
        assert hit("unit", "1 per hour") and not hit("unit", "1 per hour")
        r = refuse("<p>kept</p>", "unit", "1 per hour")
        assert r.status_code == 429 and r.get_data(as_text=True) == "<p>kept</p>"
        assert 3500 <= int(r.headers["Retry-After"]) <= 3600
        r = refuse(("<p>check page</p>", 400), "unit", "1 per hour")   # a (body, status) pair: still 429
        assert r.status_code == 429 and r.get_data(as_text=True) == "<p>check page</p>"
