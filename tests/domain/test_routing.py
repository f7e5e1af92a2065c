"""Routing table (portal/data/communes.json.gz) and routing rules of portal.domain.routing.

Expected values come from @etalab/decoupage-administratif 6.0.0 (see portal/data/communes.VERSION).
"""
import importlib.util
from pathlib import Path
from types import SimpleNamespace

import pytest

from portal.domain import routing
from portal.domain.routing import (
    Commune, Route, commune_by_insee, communes_for_postcode, departement_name,
    normalize_postcode, route, search_communes,
)

ROOT = Path(__file__).resolve().parents[2]


def territory(code, arrondissements=(), postcodes=(), default=False):
    return SimpleNamespace(code=code, arrondissements=tuple(arrondissements),
                           postcodes=tuple(postcodes), default=default)


def profile(*territories):
    return SimpleNamespace(territories=tuple(territories))


# Haute-Garonne by INSEE arrondissement: 311 Muret, 312 Saint-Gaudens, 313 Toulouse.
HAUTE_GARONNE = profile(
    territory("toulouse", arrondissements=("313",), default=True),
    territory("muret", arrondissements=("311",)),
    territory("saint-gaudens", arrondissements=("312",)),
)
# Isère by postcode, with a catch-all default that is not the first territory.
ISERE = profile(
    territory("grenoble", postcodes=("38000", "38100")),
    territory("vienne", postcodes=("38200",)),
    territory("reste", default=True),
)
# Jura: 391 Dole, 392 Lons-le-Saunier; 393 Saint-Claude is listed nowhere.
JURA = profile(
    territory("dole", arrondissements=("391",)),
    territory("lons", arrondissements=("392",), default=True),
)
AIN = profile(territory("ain", default=True))


# --- postcodes ---------------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("31000", "31000"),
    ("31 000", "31000"),
    ("  31000\n", "31000"),
    ("31\u00a0000", "31000"),      # no-break space pasted from a web page
    ("2A004", None),
    ("3100", None),
    ("310000", None),
    ("31-000", None),
    ("", None),
    (None, None),
    (31000, None),
    ("٣١٠٠٠", None),               # non-ASCII digits
])
def test_normalize_postcode(text, expected):
    assert normalize_postcode(text) == expected


def test_31000_is_toulouse():
    assert communes_for_postcode("31 000") == [Commune(
        insee="31555", name="Toulouse", departement="31", arrondissement="313",
        postcodes=("31000", "31100", "31200", "31300", "31400", "31500"))]


def test_corsica():
    ajaccio = commune_by_insee("2A004")
    assert (ajaccio.name, ajaccio.departement) == ("Ajaccio", "2A")
    assert communes_for_postcode("20000") == [ajaccio]
    assert commune_by_insee("2a004") == ajaccio
    bastia = commune_by_insee("2B033")
    assert (bastia.name, bastia.departement) == ("Bastia", "2B")
    assert bastia in communes_for_postcode("20200")
    assert departement_name("2A") == "Corse-du-Sud"
    assert departement_name("2B") == "Haute-Corse"


def test_overseas():
    assert [(c.insee, c.name, c.departement) for c in communes_for_postcode("97400")] == [
        ("97411", "Saint-Denis", "974")]
    assert departement_name("974") == "La Réunion"
    mamoudzou = commune_by_insee("97611")
    assert (mamoudzou.name, mamoudzou.departement) == ("Mamoudzou", "976")
    assert mamoudzou in communes_for_postcode("97600")
    for code in ("971", "972", "973", "974", "976"):
        assert departement_name(code)


def test_postcode_shared_by_two_departements():
    # Found by scanning the table for postcodes whose communes lie in several départements
    # (16 such postcodes in 6.0.0): 01590 covers Dortan (Ain) and Chancia, Lavancia-Epercy (Jura).
    communes = communes_for_postcode("01590")
    assert [(c.name, c.departement) for c in communes] == [
        ("Chancia", "39"), ("Dortan", "01"), ("Lavancia-Epercy", "39")]


def test_communes_sorted_by_name_ignoring_accents():
    names = [c.name for c in communes_for_postcode("31800")]
    assert len(names) > 10
    assert names == sorted(names, key=lambda n: routing._key(n))


def test_paris_lyon_marseille_arrondissements_resolve():
    assert {c.insee for c in communes_for_postcode("75001")} == {"75056", "75101"}
    assert {c.departement for c in communes_for_postcode("13008")} == {"13"}
    assert "69381" in {c.insee for c in communes_for_postcode("69001")}


def test_unknown_lookups():
    assert communes_for_postcode("00000") == []
    assert communes_for_postcode("nope") == []
    assert commune_by_insee("99999") is None
    assert commune_by_insee(None) is None
    assert departement_name("99") is None
    assert departement_name("31") == "Haute-Garonne"


def test_former_insee_code_gives_current_commune():
    assert commune_by_insee("20004").insee == "2A004"   # Ajaccio before 1976


# --- search ------------------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["saint gaudens", "SAINT-GAUDENS", "Saint Gaud", "st gaudens",
                                  "saintgaudens"])
def test_search_ignores_case_hyphens_and_spaces(text):
    assert "31483" in [c.insee for c in search_communes(text)]


def test_search_ignores_accents_and_apostrophes():
    assert "31239" in [c.insee for c in search_communes("lisle en dodon")]   # L'Isle-en-Dodon
    assert [c.name for c in search_communes("ECOUCHE")] == ["Écouché-les-Vallées"]
    assert [c.name for c in search_communes("Ecouché")] == ["Écouché-les-Vallées"]
    assert "Œuf-en-Ternois" in [c.name for c in search_communes("oeuf")]


def test_search_exact_first_and_limit():
    results = search_communes("toulouse", limit=3)
    assert results[0].insee == "31555"
    assert len(search_communes("saint", limit=5)) == 5
    assert search_communes("") == []
    assert search_communes("  - ' ") == []
    assert search_communes(None) == []
    assert search_communes("zzzzzz") == []


# --- route() -----------------------------------------------------------------------------------

def test_route_served_territory_by_arrondissement():
    served = {"31": HAUTE_GARONNE}
    assert route(insee="31483", postcode=None, served=served) == Route("routed", "31", "saint-gaudens")
    assert route(insee="31395", postcode="31600", served=served) == Route("routed", "31", "muret")
    # A bare postcode whose communes all share an arrondissement.
    assert route(insee=None, postcode="31 800", served=served) == Route("routed", "31", "saint-gaudens")


def test_route_served_territory_by_postcode():
    served = {"38": ISERE}
    assert route(insee=None, postcode="38200", served=served) == Route("routed", "38", "vienne")
    assert route(insee="38544", postcode=None, served=served) == Route("routed", "38", "vienne")


def test_route_given_postcode_picks_among_a_communes_postcodes():
    served = {"31": profile(territory("nord", postcodes=("31200",)),
                            territory("sud", postcodes=("31400",)),
                            territory("ville", arrondissements=("313",), default=True))}
    assert route(insee="31555", postcode="31400", served=served) == Route("routed", "31", "sud")
    # No postcode: Toulouse's postcodes are split between territories, so none is guessed.
    assert route(insee="31555", postcode=None, served=served) == Route("routed", "31", "ville")
    # A postcode that is not the commune's is ignored; the INSEE code wins.
    assert route(insee="31555", postcode="75001", served=served) == Route("routed", "31", "ville")


def test_route_served_default_territory():
    served = {"39": JURA}
    # Saint-Claude (arrondissement 393) matches no territory: the default one, not the first.
    assert route(insee="39478", postcode=None, served=served) == Route("routed", "39", "lons")
    no_flag = {"39": profile(territory("a", arrondissements=("391",)), territory("b"))}
    assert route(insee="39478", postcode=None, served=no_flag) == Route("routed", "39", "a")


def test_route_transfer():
    served = {"31": HAUTE_GARONNE}
    assert route(insee="2A004", postcode=None, served=served) == Route("transfer", "2A", None)
    assert route(insee=None, postcode="97400", served=served) == Route("transfer", "974", None)
    assert route(insee="20004", postcode=None, served=served) == Route("transfer", "2A", None)


def test_route_unrouted_unknown():
    served = {"31": HAUTE_GARONNE}
    assert route(insee=None, postcode=None, served=served) == Route("unrouted", None, None)
    assert route(insee="99999", postcode=None, served=served) == Route("unrouted", None, None)
    assert route(insee=None, postcode="00000", served=served) == Route("unrouted", None, None)
    assert route(insee=None, postcode="not a postcode", served=served) == Route("unrouted", None, None)
    # An unknown INSEE code falls back to the postcode.
    assert route(insee="99999", postcode="31800", served=served) == Route("routed", "31", "saint-gaudens")


def test_route_unrouted_ambiguous_postcode():
    for served in ({"39": JURA}, {"01": AIN, "39": JURA}, {}):
        assert route(insee=None, postcode="01590", served=served) == Route("unrouted", None, None)
    # Once the commune is chosen, it routes.
    served = {"01": AIN, "39": JURA}
    assert route(insee="39102", postcode="01590", served=served) == Route("routed", "39", "lons")
    assert route(insee="01148", postcode="01590", served=served) == Route("routed", "01", "ain")


# --- data file ---------------------------------------------------------------------------------

def test_data_file_records_its_source():
    version = (ROOT / "portal" / "data" / "communes.VERSION").read_text(encoding="utf-8").split()
    source = routing.data_source()
    assert version == [source["package"], source["version"]]
    assert source["package"] == "@etalab/decoupage-administratif"
    assert (ROOT / "portal" / "data" / "communes.json.gz").stat().st_size < 1_000_000


def test_data_file_is_rebuilt_identically():
    package = ROOT / "node_modules" / "@etalab" / "decoupage-administratif"
    if not (package / "package.json").is_file():
        pytest.skip("node_modules not installed")
    spec = importlib.util.spec_from_file_location("build_communes_script",
                                                  ROOT / "scripts" / "build_communes.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    table, version = script.build(package)
    assert script.encode(table) == (ROOT / "portal" / "data" / "communes.json.gz").read_bytes()
    assert version == (ROOT / "portal" / "data" / "communes.VERSION").read_text(encoding="utf-8")


# --- typo-tolerant search and free-text look-up (the département chooser) -----------------------

@pytest.mark.parametrize("typo, insee", [("Tolouse", "31555"), ("Grenobel", "38185"),
                                         ("Lons le Saulnier", "39300"), ("Mrseille", "13055")])
def test_search_tolerates_a_typing_mistake(typo, insee):
    assert search_communes(typo)[0].insee == insee


def test_fuzzy_only_when_nothing_matches_exactly_or_by_prefix():
    assert [c.name for c in search_communes("Ecouché")] == ["Écouché-les-Vallées"]
    assert search_communes("Tolouse", fuzzy=False) == []
    assert search_communes("zzzzqx") == []


def test_departement_exact_and_like():
    assert routing.departement_exact("31") == "31"
    assert routing.departement_exact("2a") == "2A"
    assert routing.departement_exact("isere") == "38"
    assert routing.departement_exact("Côtes d'Armor") == "22"
    assert routing.departement_exact("Toulouse") is None
    assert routing.departements_like("Haute-Garone")[0] == "31"
    assert routing.departements_like("ab") == []


def test_lookup():
    shared = routing.lookup("01 590")
    assert shared.postcode == "01590"
    assert {(c.name, c.departement) for c in shared.communes} == {
        ("Dortan", "01"), ("Chancia", "39"), ("Lavancia-Epercy", "39")}
    assert routing.lookup("975").departement == "975" and routing.lookup("975").communes == ()
    stnaz = routing.lookup("Saint Nazaire")
    assert [c.departement for c in stnaz.exact_communes] == ["30", "44", "66"]
    assert routing.lookup("Jura").departement == "39"


def test_overseas_collectivities_have_their_own_rules():
    for code in ("975", "977", "978", "986", "987", "988"):
        assert routing.has_own_rules(code), code
    for code in ("971", "972", "973", "974", "976", "31", None):
        assert not routing.has_own_rules(code), code
