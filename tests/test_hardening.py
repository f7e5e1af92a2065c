"""Smaller holes closed: language links from the route only, trusted hosts and relative redirects,
undecodable cookies as a fresh start, seed-demo refused in production."""
from __future__ import annotations

import re

import pytest

from tests.conftest import make_app


def _lang_links(body: str) -> list[str]:
    return re.findall(r'href="([^"]*lang=[^"]*)"', body)


@pytest.mark.parametrize("deps", [["31"], ["31", "38"]])
@pytest.mark.parametrize("path", ["/%5Cevil.example/", "/%5C%5Cevil.example/x", "/nothing/here/at/all"])
def test_language_links_on_an_unrouted_path_stay_on_the_site(tmp_path, deps, path):
    r = make_app(tmp_path, PORTAL_DEPARTEMENTS=deps).test_client().get(path)
    assert r.status_code == 404
    links = _lang_links(r.get_data(as_text=True))
    assert len(links) >= 10   # one per language
    for href in links:
        assert href.startswith("?lang="), href
        assert "evil" not in href


@pytest.mark.parametrize("deps", [["31"], ["31", "38"]])
def test_language_links_on_a_protocol_relative_path_stay_on_the_site(tmp_path, deps):
    app = make_app(tmp_path, PORTAL_DEPARTEMENTS=deps)
    r = app.test_client().get("/", environ_overrides={"PATH_INFO": "//evil.example/"})
    links = _lang_links(r.get_data(as_text=True))
    assert links and all(not h.startswith("//") and "evil" not in h for h in links), links


@pytest.mark.settings(PORTAL_DEPARTEMENTS=["31"])
def test_language_links_of_a_page_come_from_its_route(app):
    body = app.test_client().get("/contacts?_external=1&_scheme=https&x=1",
                                 headers={"Host": "evil.example"}).get_data(as_text=True)
    links = _lang_links(body)
    assert "/contacts?x=1&amp;lang=en" in links
    assert all(h.startswith("/contacts?") and "evil" not in h and "_external" not in h for h in links)


@pytest.mark.settings(TRUSTED_HOSTS=["portal.example"], TRUSTED_PROXIES=1)
def test_trusted_hosts_refuse_a_forged_host(app):
    c = app.test_client()
    assert c.get("/", headers={"Host": "portal.example"}).status_code == 200
    assert c.get("/", headers={"Host": "evil.example"}).status_code == 400
    r = c.get("/crip", headers={"Host": "portal.example", "X-Forwarded-Host": "evil.example"})
    assert r.status_code == 400 and "evil" not in r.headers.get("Location", "")


def test_trusted_hosts_setting_from_the_environment():
    from portal.config import from_env
    cfg = from_env({"TRUSTED_HOSTS": "ip.haute-garonne.fr, .crip.example", "SECRET_KEY": "k" * 40,
                    "CRIP_SECRET_KEY": "c" * 40})
    assert cfg["TRUSTED_HOSTS"] == ["ip.haute-garonne.fr", ".crip.example"]
    assert from_env({"SECRET_KEY": "k" * 40, "CRIP_SECRET_KEY": "c" * 40})["TRUSTED_HOSTS"] is None


def test_redirects_are_relative_whatever_the_host(app):
    r = app.test_client().get("/crip", headers={"Host": "evil.example"})
    assert r.status_code in (301, 308)
    assert r.headers["Location"] == "/crip/"


@pytest.mark.parametrize("cookie", ["abc\x00def.xyz", "\x00" * 80, "a" * 32 + "." + "\x00" * 43, "é" * 40,
                                    "%ZZ.%00", "A" * 32 + "." + "B" * 43, "x" * 4000])
def test_undecodable_draft_cookie_is_a_fresh_start(any_app, cookie):
    c = any_app.test_client()
    c.set_cookie("ipdraft", cookie)
    r = c.get("/31/signaler/")
    assert r.status_code == 200
    c.get("/31/signaler/etape/qui")   # a step with that cookie: back to the start, never a 5xx
    r = c.post("/31/signaler/commencer", data={"resume": "1"})
    assert r.status_code in (302, 303) and r.headers["Location"].endswith("/31/signaler/etape/qui")
    fresh = c.get_cookie("ipdraft").value
    assert fresh != cookie and re.fullmatch(r"[A-Za-z0-9_-]{32}\.[A-Za-z0-9_-]{43}", fresh)


def test_seed_demo_refuses_to_run_in_production(tmp_path):
    from portal import create_app
    from tests.conftest import base_config
    app = create_app(base_config(tmp_path, PORTAL_DEPARTEMENTS=["31"]), env={})
    app.config["ENV_NAME"] = "production"   # what PORTAL_ENV=production sets (a full production profile aside)
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 2
    assert "refuses to run with PORTAL_ENV=production" in result.output
    assert not list((tmp_path / "instance").glob("crip-*.key"))
