"""Public pages: every page for every shipped profile, languages, the département chooser, headers."""
from __future__ import annotations

import html
import re
from datetime import datetime, timezone

import pytest

from portal.departements import load_profiles
from portal.public.views import PAGES
from tests.conftest import make_app


PROFILES = load_profiles()
CODES = list(PROFILES)
PATHS = ["/"] + [path for path, _template in PAGES.values()]
UTC = timezone.utc

# <script src>, <link href>, <img src> … pointing off-site (absolute or protocol-relative URL).
EXTERNAL_RESOURCE = re.compile(
    r"<(?:script|link|img|iframe|source|video|audio|embed|object)\b[^>]*?\b(?:src|href|srcset|data)\s*=\s*"
    r"[\"']?\s*(?:https?:)?//", re.I)


@pytest.fixture(scope="module")
def single_apps(tmp_path_factory):
    """One app per shipped profile, serving that département alone (pages at /path)."""
    return {code: make_app(tmp_path_factory.mktemp(f"single{code}"), PORTAL_DEPARTEMENTS=[code])
            for code in CODES}


@pytest.fixture(scope="module")
def multi(tmp_path_factory):
    """All shipped profiles (pages at /<code>/path)."""
    return make_app(tmp_path_factory.mktemp("multi"), PORTAL_DEPARTEMENTS=CODES)


def html_lang(body):
    m = re.search(r"<html\b[^>]*>", body)
    assert m, "no <html> tag"
    tag = m.group(0)
    lang = re.search(r'\blang="([^"]*)"', tag)
    direction = re.search(r'\bdir="([^"]*)"', tag)
    return (lang and lang.group(1)), (direction and direction.group(1))


def assert_numbers(body, profile):
    for num in ("119", "17", "112"):
        assert f'href="tel:{num}"' in body, num
    phone = profile.crip_phone
    if phone is not None:
        assert phone.number in body
        assert f'href="tel:{phone.tel}"' in body


def get_ok(client, url, **kw):
    r = client.get(url, **kw)
    assert r.status_code == 200, (url, r.status_code)
    assert r.mimetype == "text/html"
    return r.get_data(as_text=True)


# Every page, every profile ---------------------------------------------------------------------------

@pytest.mark.parametrize("code", CODES)
@pytest.mark.parametrize("path", PATHS)
def test_every_page_single_departement(single_apps, code, path):
    body = get_ok(single_apps[code].test_client(), path)
    assert html_lang(body) == ("fr", "ltr")
    assert_numbers(body, PROFILES[code])
    assert PROFILES[code].council in html.unescape(body)


@pytest.mark.parametrize("code", CODES)
@pytest.mark.parametrize("path", PATHS)
def test_every_page_multi_departement(multi, code, path):
    body = get_ok(multi.test_client(), f"/{code}{path}")
    assert html_lang(body) == ("fr", "ltr")
    assert_numbers(body, PROFILES[code])
    assert PROFILES[code].council in html.unescape(body)
    # Links inside a département stay inside it.
    assert f'href="/{code}/contacts"' in body
    assert 'href="/contacts"' not in body


def test_lowercase_code_in_url_is_accepted(multi):
    body = get_ok(multi.test_client(), "/31/contacts")
    assert "0 800 31 08 08" in body


@pytest.mark.parametrize("code", CODES)
def test_home_shows_each_figure_with_its_year(single_apps, code):
    body = get_ok(single_apps[code].test_client(), "/?lang=en")
    values = re.findall(r'<span class="figure-value"[^>]*>([^<]*)</span>', body)
    sources = re.findall(r'<span class="figure-source"[^>]*>([^<]*)</span>', body)
    profile = PROFILES[code]
    assert len(values) == len(sources) == len(profile.figures)
    for fig, shown, source in zip(profile.figures, values, sources):
        digits = re.sub(r"\D", "", str(fig.value).removesuffix(".0"))
        assert re.sub(r"\D", "", shown) == digits, (fig, shown)
        assert str(fig.year) in source


def test_haute_garonne_figures_in_french(single_apps):
    body = get_ok(single_apps["31"].test_client(), "/")
    values = [re.sub(r"\s", "", v) for v in
              re.findall(r'<span class="figure-value"[^>]*>([^<]*)</span>', body)]
    assert values[0] == "7450"
    assert values[-1].startswith("36,9")       # French decimal comma
    assert body.count("2021") >= 6


@pytest.mark.parametrize("code", CODES)
def test_contacts_page_shows_the_profile_numbers(single_apps, code):
    body = get_ok(single_apps[code].test_client(), "/contacts")
    for phone in PROFILES[code].phones:
        assert phone.number in body
        assert f'href="tel:{phone.tel}"' in body
    # The demo territories carry no source: not one is shown to the public.
    for territory in PROFILES[code].territories:
        assert territory.name not in html.unescape(body)
    assert "Territoire" not in body


def test_contacts_haute_garonne_hours(single_apps):
    body = get_ok(single_apps["31"].test_client(), "/contacts?lang=en")
    assert "0 800 31 08 08" in body
    assert body.count("8:30") >= 7 and body.count("5:00") >= 7    # every day 8:30–17:00


# Languages ---------------------------------------------------------------------------------------

def test_default_language_is_french(single_apps):
    r = single_apps["31"].test_client().get("/")
    assert html_lang(r.get_data(as_text=True)) == ("fr", "ltr")
    assert r.headers["Content-Language"] == "fr"


@pytest.mark.parametrize("code, direction", [("ar", "rtl"), ("fa", "rtl"), ("ps", "rtl"), ("en", "ltr"), ("uk", "ltr")])
def test_lang_parameter(single_apps, code, direction):
    body = get_ok(single_apps["31"].test_client(), f"/contacts?lang={code}")
    assert html_lang(body) == (code, direction)


def test_language_choice_is_kept_for_the_visit(single_apps):
    client = single_apps["31"].test_client()
    body = get_ok(client, "/?lang=ar")
    assert html_lang(body) == ("ar", "rtl")
    body = get_ok(client, "/contacts")
    assert html_lang(body) == ("ar", "rtl")
    # Accept-Language does not override an explicit choice.
    body = get_ok(client, "/le-119", headers={"Accept-Language": "en"})
    assert html_lang(body) == ("ar", "rtl")
    body = get_ok(client, "/?lang=fr")
    assert html_lang(body) == ("fr", "ltr")
    assert html_lang(get_ok(client, "/")) == ("fr", "ltr")


def test_accept_language(single_apps):
    client = single_apps["31"].test_client()
    assert html_lang(get_ok(client, "/", headers={"Accept-Language": "en"})) == ("en", "ltr")
    client = single_apps["31"].test_client()
    assert html_lang(get_ok(client, "/", headers={"Accept-Language": "de-DE, ar;q=0.5"})) == ("ar", "rtl")
    client = single_apps["31"].test_client()
    assert html_lang(get_ok(client, "/", headers={"Accept-Language": "de, it"})) == ("fr", "ltr")


def test_unknown_lang_parameter_ignored(single_apps):
    body = get_ok(single_apps["31"].test_client(), "/?lang=xx")
    assert html_lang(body) == ("fr", "ltr")


def test_language_links_keep_the_page(single_apps):
    body = get_ok(single_apps["31"].test_client(), "/contacts")
    assert 'href="/contacts?lang=ar"' in body


def test_phone_numbers_stay_left_to_right_in_rtl(single_apps):
    body = get_ok(single_apps["31"].test_client(), "/?lang=ar")
    assert re.search(r'<[^>]*dir="ltr"[^>]*>0 800 31 08 08<', body)


# The département chooser (several départements served) -------------------------------------

def test_root_shows_the_chooser(multi):
    body = get_ok(multi.test_client(), "/")
    for code in CODES:
        assert f'href="/{code}/choisir"' in body
        assert PROFILES[code].name in html.unescape(body)
    assert 'href="tel:119"' in body and 'href="tel:17"' in body


@pytest.mark.parametrize("query", ["31000", "haute", "31", "Haute-Garonne", "HAUTE GARONNE", "31 000"])
def test_search_finds_haute_garonne(multi, query):
    client = multi.test_client()
    r = client.get("/", query_string={"q": query})
    assert r.status_code == 302
    assert r.headers["Location"].endswith("/31/")
    cookie = r.headers["Set-Cookie"]
    assert cookie.startswith("dep=31;")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    # The choice is remembered: / goes straight to the département.
    r = client.get("/")
    assert r.status_code == 302
    assert r.headers["Location"].endswith("/31/")
    # … unless the visitor asks to change.
    assert client.get("/?change=1").status_code == 200


@pytest.mark.parametrize("query, code", [("isere", "38"), ("Isère", "38"), ("jura", "39"), ("39100", "39"),
                                         ("44000", "44"), ("loire atlantique", "44"),
                                         ("Lons-le-Saunier", "39"), ("toulouse", "31")])
def test_search_other_departements(multi, query, code):
    r = multi.test_client().get("/", query_string={"q": query})
    assert r.status_code == 302
    assert r.headers["Location"].endswith(f"/{code}/")


def test_search_unserved_postcode(multi):
    client = multi.test_client()
    r = client.get("/?q=75001&lang=en")
    assert r.status_code == 200
    body = r.get_data(as_text=True)
    assert "does not serve" in body
    assert "Set-Cookie" not in r.headers or "dep=" not in r.headers["Set-Cookie"]
    assert 'href="tel:119"' in body
    assert client.get("/").status_code == 200        # nothing remembered


def test_remember_departement_link(multi):
    client = multi.test_client()
    r = client.get("/39/choisir")
    assert r.status_code == 302 and r.headers["Location"].endswith("/39/")
    assert r.headers["Set-Cookie"].startswith("dep=39;")
    assert client.get("/").headers["Location"].endswith("/39/")
    assert multi.test_client().get("/99/choisir").status_code == 404


def test_stale_cookie_for_an_unserved_departement_shows_the_chooser(multi):
    client = multi.test_client()
    client.set_cookie("dep", "75")
    assert client.get("/").status_code == 200


def test_unknown_departement_is_404(multi):
    client = multi.test_client()
    for url in ("/99/", "/99/contacts", "/75/le-119"):
        r = client.get(url)
        assert r.status_code == 404, url


def test_single_departement_root_is_its_home(single_apps):
    client = single_apps["31"].test_client()
    body = get_ok(client, "/")
    assert "0 800 31 08 08" in body
    r = client.get("/choisir")
    assert r.status_code == 302 and r.headers["Location"].endswith("/")


# Errors, quick exit, health ------------------------------------------------------------------

@pytest.mark.parametrize("which, url", [("single", "/n-existe-pas"), ("multi", "/a/b/c"), ("multi", "/31/n-existe-pas")])
def test_404_page_gives_the_emergency_numbers(single_apps, multi, which, url):
    app = single_apps["31"] if which == "single" else multi
    r = app.test_client().get(url)
    assert r.status_code == 404
    body = r.get_data(as_text=True)
    assert 'href="tel:119"' in body and 'href="tel:17"' in body and 'href="tel:112"' in body
    assert "404" in body
    assert r.headers["Content-Security-Policy"]


def test_405_page(single_apps):
    r = single_apps["31"].test_client().post("/contacts")
    assert r.status_code == 405
    assert 'href="tel:119"' in r.get_data(as_text=True)


def test_quick_exit(single_apps):
    app = single_apps["31"]
    client = app.test_client()
    client.get("/?lang=ar")
    r = client.get("/sortie")
    assert r.status_code == 303
    assert r.headers["Location"] == app.config["QUICK_EXIT_URL"]
    clear = r.headers["Clear-Site-Data"]
    assert '"cookies"' in clear and '"storage"' in clear
    assert r.headers["Cache-Control"] == "no-store"


def test_quick_exit_link_on_every_page(single_apps):
    body = get_ok(single_apps["31"].test_client(), "/")
    assert 'href="/sortie"' in body


def test_healthz(single_apps, multi):
    for app in (single_apps["31"], multi):
        r = app.test_client().get("/healthz")
        assert r.status_code == 200
        assert r.is_json
        assert r.get_json() == {"status": "ok"}


# Security headers and resources -------------------------------------------------------------

def test_security_headers(single_apps):
    r = single_apps["31"].test_client().get("/contacts")
    csp = r.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "default-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert "unsafe-eval" not in csp
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Referrer-Policy"] == "no-referrer"
    assert r.headers["X-Frame-Options"] == "DENY"
    assert "Strict-Transport-Security" not in r.headers


def test_security_headers_on_redirects_and_errors(multi):
    for url in ("/?q=31", "/99/", "/sortie", "/healthz"):
        r = multi.test_client().get(url)
        assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"], url
        assert r.headers["X-Content-Type-Options"] == "nosniff", url


@pytest.mark.settings(PORTAL_DEPARTEMENTS=["31"], HTTPS=True)
def test_hsts_when_https(client):
    r = client.get("/")
    hsts = r.headers["Strict-Transport-Security"]
    assert "max-age=" in hsts
    assert int(re.search(r"max-age=(\d+)", hsts).group(1)) >= 31536000


@pytest.mark.settings(PORTAL_DEPARTEMENTS=["31", "39"], HTTPS=True)
def test_dep_cookie_secure_when_https(client):
    r = client.get("/?q=39")
    assert "Secure" in r.headers["Set-Cookie"]


def _all_pages(single_apps, multi):
    for code, app in single_apps.items():
        client = app.test_client()
        for path in PATHS:
            yield f"{code}:{path}", client.get(path).get_data(as_text=True)
        yield f"{code}:404", client.get("/n-existe-pas").get_data(as_text=True)
    client = multi.test_client()
    yield "multi:/", client.get("/").get_data(as_text=True)
    yield "multi:/?q=75001", client.get("/?q=75001").get_data(as_text=True)
    yield "multi:404", client.get("/99/").get_data(as_text=True)


def test_no_page_loads_an_external_resource(single_apps, multi):
    checked = 0
    for name, body in _all_pages(single_apps, multi):
        found = EXTERNAL_RESOURCE.findall(body)
        assert not found, (name, found)
        # Stylesheets, scripts and images all come from this site.
        for tag in re.findall(r"<(?:script|link|img)\b[^>]*>", body, re.I):
            url = re.search(r'\b(?:src|href)="([^"]*)"', tag)
            if url:
                assert url.group(1).startswith("/") and not url.group(1).startswith("//"), (name, tag)
        assert "<style" not in body.lower(), name          # CSP: no inline style blocks
        assert not re.search(r"<script\b(?![^>]*\bsrc=)", body, re.I), name   # no inline scripts
        assert not re.search(r"\son[a-z]+\s*=", body), name                     # no inline handlers
        checked += 1
    assert checked == len(CODES) * (len(PATHS) + 1) + 3


def test_the_regex_would_catch_external_resources():
    assert EXTERNAL_RESOURCE.search('<script src="https://cdn.example.org/x.js"></script>')
    assert EXTERNAL_RESOURCE.search("<link rel=stylesheet href='//fonts.example.org/a.css'>")
    assert EXTERNAL_RESOURCE.search('<img alt="" src="http://example.org/p.png">')
    assert not EXTERNAL_RESOURCE.search('<a href="https://www.haute-garonne.fr">site</a>')
    assert not EXTERNAL_RESOURCE.search('<link rel="stylesheet" href="/static/css/site.css">')


def test_static_assets_do_not_reach_out(single_apps):
    client = single_apps["31"].test_client()
    for path in ("/static/css/site.css", "/static/css/print.css", "/static/js/site.js"):
        r = client.get(path)
        assert r.status_code == 200, path
        text = r.get_data(as_text=True)
        assert not re.search(r"url\(\s*[\"']?\s*(?:https?:)?//", text), path
        assert "@import" not in text, path
        r.close()


# Line status with a fixed clock -------------------------------------------------------------

TUESDAY_10_PARIS = datetime(2024, 3, 5, 9, 0, tzinfo=UTC)      # CET: UTC+1
TUESDAY_20_PARIS = datetime(2024, 3, 5, 19, 0, tzinfo=UTC)
SUMMER_0945_PARIS = datetime(2024, 7, 9, 7, 45, tzinfo=UTC)    # CEST: UTC+2


def line_status(body, cls):
    m = re.search(rf'<span class="{cls}">(.*?)</span>', body, re.S)
    return m and m.group(1)


@pytest.mark.settings(PORTAL_DEPARTEMENTS=["31"])
def test_line_open_on_a_tuesday_morning(client, clock):
    clock.at(TUESDAY_10_PARIS)
    body = get_ok(client, "/?lang=en")
    text = line_status(body, "line-open")
    assert text is not None
    assert "open now" in text
    assert "5:00" in text                     # until 17:00
    assert line_status(body, "line-closed") is None


@pytest.mark.settings(PORTAL_DEPARTEMENTS=["31"])
def test_line_open_by_paris_time_not_utc(client, clock):
    clock.at(SUMMER_0945_PARIS)
    body = get_ok(client, "/?lang=en")
    assert line_status(body, "line-open") is not None


@pytest.mark.settings(PORTAL_DEPARTEMENTS=["31"])
def test_line_closed_in_the_evening_mentions_the_119(client, clock):
    clock.at(TUESDAY_20_PARIS)
    body = get_ok(client, "/?lang=en")
    text = line_status(body, "line-closed")
    assert text is not None
    assert "closed now" in text
    assert "119" in text
    assert "Wednesday" in text and "08:30" in text        # opens next morning
    assert line_status(body, "line-open") is None


@pytest.mark.settings(PORTAL_DEPARTEMENTS=["31"])
def test_line_status_on_contacts_page(client, clock):
    clock.at(TUESDAY_20_PARIS)
    body = get_ok(client, "/contacts?lang=en")
    assert "119" in line_status(body, "line-closed")


@pytest.mark.settings(PORTAL_DEPARTEMENTS=["39"])
def test_line_without_hours_says_ask(client, clock):
    clock.at(TUESDAY_20_PARIS)
    body = get_ok(client, "/?lang=en")
    assert "03 84 87 41 83" in body
    assert line_status(body, "line-open") is None and line_status(body, "line-closed") is None
    assert "ask for opening hours" in body


@pytest.mark.settings(PORTAL_DEPARTEMENTS=["38"], PAGE_CACHE=False)
def test_round_the_clock_line_never_closed(app, clock):
    import dataclasses
    from datetime import time as clock_time
    from portal.departements import DAYS, Phone
    always = {d: ((clock_time(0, 0), clock_time(23, 59, 59)),) for d in DAYS}
    line = Phone(number="04 00 00 00 00", label="CRIP line", role="crip", free=True, hours=always)
    app.config["PROFILES"]["38"] = dataclasses.replace(PROFILES["38"], phones=(line,))
    clock.at(datetime(2024, 3, 9, 2, 0, tzinfo=UTC))    # Saturday 03:00
    body = get_ok(app.test_client(), "/?lang=en")
    assert "04 00 00 00 00" in body
    assert line_status(body, "line-closed") is None
    assert "open 24 hours a day, 7 days a week" in line_status(body, "line-open")


# Theme -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("code", CODES)
def test_theme_css(multi, code):
    r = multi.test_client().get(f"/theme/{code}.css")
    assert r.status_code == 200
    assert r.mimetype == "text/css"
    assert PROFILES[code].accent_color in r.get_data(as_text=True)


def test_theme_of_the_single_departement(single_apps):
    client = single_apps["31"].test_client()
    assert "#7a1f5c" in client.get("/theme/31.css").get_data(as_text=True)
    assert client.get("/theme/39.css").status_code == 404       # not served here


def test_unknown_theme_is_404(multi):
    assert multi.test_client().get("/theme/99.css").status_code == 404


def test_page_links_the_theme(single_apps):
    body = get_ok(single_apps["39"].test_client(), "/")
    assert 'href="/theme/39.css"' in body
