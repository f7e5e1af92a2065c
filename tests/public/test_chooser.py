"""The département chooser (several départements served): communes by name with typos, shared
postcodes, unserved départements named with where to turn, overseas collectivities."""
from __future__ import annotations

import html
import re

import pytest

from portal.departements import load_profiles
from tests.conftest import make_app


CODES = list(load_profiles())


@pytest.fixture(scope="module")
def multi(tmp_path_factory):
    return make_app(tmp_path_factory.mktemp("chooser"), PORTAL_DEPARTEMENTS=CODES)


def ask(app, query):
    r = app.test_client().get("/", query_string={"q": query, "lang": "en", "change": "1"})
    return r


def result_text(r):
    body = r.get_data(as_text=True)
    m = re.search(r'<section class="chooser-result".*?</section>', body, re.S)
    assert m, "no result section"
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", m.group(0))).split())


def result_links(r):
    body = r.get_data(as_text=True)
    section = re.search(r'<section class="chooser-result".*?</section>', body, re.S).group(0)
    return [(html.unescape(href), " ".join(html.unescape(re.sub(r"<[^>]+>", "", text)).split()))
            for href, text in re.findall(r'<a href="([^"]*)">(.*?)</a>', section, re.S)]


@pytest.mark.parametrize("typo, commune, postcode, departement, code", [
    ("Tolouse", "Toulouse", "31000", "Haute-Garonne", "31"),
    ("Grenobel", "Grenoble", "38000", "Isère", "38"),
])
def test_a_typo_in_a_commune_name_still_finds_it_first(multi, typo, commune, postcode, departement, code):
    r = ask(multi, typo)
    assert r.status_code == 200
    href, text = result_links(r)[0]
    assert text.startswith(f"{commune} (")
    assert postcode in text
    assert f"département: {departement} ({code})" in text
    assert href == f"/{code}/choisir"


def test_saint_nazaire_lists_each_commune_with_its_departement(multi):
    links = result_links(ask(multi, "Saint-Nazaire"))
    first = [text for _href, text in links[:3]]
    assert first == [
        "Saint-Nazaire (30200), département: Gard (30)",
        "Saint-Nazaire (44600), département: Loire-Atlantique (44)",
        "Saint-Nazaire (66570), département: Pyrénées-Orientales (66)",
    ]
    assert links[1][0] == "/44/choisir"                              # served: go there
    assert links[0][0] == "/?commune=30288&change=1"                # not served: say where to turn


def test_an_unambiguous_commune_goes_straight_to_its_departement(multi):
    r = ask(multi, "Lons-le-Saunier")
    assert r.status_code == 302 and r.headers["Location"].endswith("/39/")


def test_a_postcode_shared_between_departements_asks_which_commune(multi):
    r = ask(multi, "01590")
    assert r.status_code == 200
    text = result_text(r)
    assert "Which commune does the child live in?" in text
    assert "01590 is shared by communes of several départements" in text
    links = dict((t.split(" (")[0], h) for h, t in result_links(r))
    assert links == {"Chancia": "/39/choisir", "Dortan": "/?commune=01148&change=1",
                     "Lavancia-Epercy": "/39/choisir"}
    # Dortan is in the Ain, which this site does not serve: the Ain is named, with the 119.
    dortan = multi.test_client().get(links["Dortan"] + "&lang=en")
    text = result_text(dortan)
    assert "Dortan is in Ain (01)" in text
    assert "This site does not serve the département Ain (01)." in text
    assert "119" in text and "conseil départemental" in text and "of Ain" in text
    assert 'href="tel:119"' in dortan.get_data(as_text=True)


@pytest.mark.parametrize("query", ["75001", "Paris", "75"])
def test_an_unserved_departement_is_named_with_the_119(multi, query):
    r = ask(multi, query)
    assert r.status_code == 200
    text = result_text(r)
    assert "This site does not serve the département Paris (75)." in text
    assert "Call the 119" in text
    assert "dep=" not in r.headers.get("Set-Cookie", "")
    # Never an invented address for a département the profiles do not describe.
    section = re.search(r'<section class="chooser-result".*?</section>', r.get_data(as_text=True), re.S).group(0)
    assert "http" not in section


@pytest.mark.parametrize("query, name", [("975", "Saint-Pierre-et-Miquelon"), ("Nouméa", "Nouvelle-Calédonie"),
                                         ("98714", "Polynésie française"), ("Saint-Barthélemy", "Saint-Barthélemy")])
def test_overseas_collectivities_have_their_own_rules(multi, query, name):
    text = result_text(ask(multi, query))
    assert f"{name} is an overseas collectivity: child protection there follows its own rules." in text
    assert "does not serve" not in text


def test_an_unserved_name_next_to_a_served_one_shows_both(multi):
    r = ask(multi, "loire")
    text = result_text(r)
    assert "This site does not serve the département Loire (42)." in text
    assert ("/44/choisir", "Département: Loire-Atlantique (44)") in result_links(r)


def test_a_typo_in_a_departement_name(multi):
    links = result_links(ask(multi, "Haute-Garone"))
    assert links[0] == ("/31/choisir", "Département: Haute-Garonne (31)")


def test_nothing_found(multi):
    assert "No commune or département of that name was found" in result_text(ask(multi, "zzzzqx"))
    assert "No commune has the postcode 99999" in result_text(ask(multi, "99999"))
    assert ask(multi, "x" * 5000).status_code == 200
    r = multi.test_client().get("/?commune=nonsense&change=1")
    assert r.status_code == 200
