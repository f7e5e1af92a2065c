"""Privacy notice, legal notice and accessibility statement: generated from the profile and the
settings; what a demo profile does not give is shown as "to be provided", never invented; in
production a profile that lacks it is refused at start-up."""
from __future__ import annotations

import dataclasses
import html
import re
from datetime import date
from pathlib import Path

import pytest

from portal.departements import Accessibility, ProfileError, Publication, load_profiles
from tests.conftest import make_app


PROFILES = load_profiles()
CODES = list(PROFILES)
TEMPLATES = Path(__file__).resolve().parents[2] / "portal" / "templates"


@pytest.fixture(scope="module")
def apps(tmp_path_factory):
    return {code: make_app(tmp_path_factory.mktemp(f"legal{code}"), PORTAL_DEPARTEMENTS=[code], PAGE_CACHE=False)
            for code in CODES}


def text_of(app, path):
    r = app.test_client().get(f"{path}?lang=en")
    assert r.status_code == 200
    main = re.search(r"<main.*?</main>", r.get_data(as_text=True), re.S).group(0)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", main)).split()), main


def with_profile(app, code, **changes):
    p = app.config["PROFILES"][code]
    app.config["PROFILES"][code] = dataclasses.replace(p, **changes)
    return p


def retention_rows(main):
    return [(" ".join(html.unescape(re.sub(r"<[^>]+>", "", a)).split()),
             " ".join(html.unescape(re.sub(r"<[^>]+>", "", b)).split()))
            for a, b in re.findall(r'<tr><th scope="row">(.*?)</th><td>(.*?)</td></tr>', main, re.S)]


def _years(cfg, key, fallback="RETENTION_CLOSED_DAYS"):
    days = cfg.get(key) or cfg[fallback]
    return f"{days // 365} years" if days % 365 == 0 else f"{days} days"


@pytest.mark.parametrize("code", CODES)
def test_privacy_notice_states_retention_per_outcome(apps, code):
    _text, main = text_of(apps[code], "/donnees-personnelles")
    cfg = apps[code].config
    undecided = (f"{_years(cfg, 'RETENTION_UNDECIDED_DAYS')} after the report was received"
                 if cfg.get("RETENTION_UNDECIDED_DAYS") else
                 "kept until a decision is taken; then the period of that decision applies")
    assert retention_rows(main) == [
        ("No further action (classement sans suite)", f"{_years(cfg, 'RETENTION_CLOSED_DAYS')} after the decision"),
        ("Help agreed with the parents (administrative protection)",
         f"{_years(cfg, 'RETENTION_HELP_DAYS')} after the decision"),
        ("Referral to the public prosecutor or the judge for children",
         f"{_years(cfg, 'RETENTION_JUDICIAL_DAYS')} after the decision"),
        ("Transfer to the CRIP of another département", f"{_years(cfg, 'RETENTION_PASSED_ON_DAYS')} after the decision"),
        ("Linked to an existing file of the same child", f"{_years(cfg, 'RETENTION_PASSED_ON_DAYS')} after the decision"),
        ("Not yet decided", undecided),
    ]


@pytest.mark.settings(PORTAL_DEPARTEMENTS=["31"], PAGE_CACHE=False,
                      RETENTION_CLOSED_DAYS=365, RETENTION_HELP_DAYS=730, RETENTION_JUDICIAL_DAYS=1825,
                      RETENTION_PASSED_ON_DAYS=90, RETENTION_UNDECIDED_DAYS=1095)
def test_each_outcome_reads_its_own_setting(app):
    _text, main = text_of(app, "/donnees-personnelles")
    assert [period for _outcome, period in retention_rows(main)] == [
        "1 year after the decision", "2 years after the decision", "5 years after the decision",
        "90 days after the decision", "90 days after the decision", "3 years after the report was received"]


@pytest.mark.settings(PORTAL_DEPARTEMENTS=["31"], PAGE_CACHE=False, RETENTION_CLOSED_DAYS=1095)
def test_retention_follows_the_settings(app):
    _text, main = text_of(app, "/donnees-personnelles")
    assert retention_rows(main)[0] == ("No further action (classement sans suite)", "3 years after the decision")
    app.config["RETENTION_CLOSED_DAYS"] = 400
    _text, main = text_of(app, "/donnees-personnelles")
    assert retention_rows(main)[0][1] == "400 days after the decision"


@pytest.mark.parametrize("code", CODES)
def test_privacy_notice_recipients_rights_and_triage(apps, code):
    text, _main = text_of(apps[code], "/donnees-personnelles")
    p = PROFILES[code]
    assert f"The staff of {p.ip_cell}, the Département's CRIP" in text
    assert "The CRIP of another département, when the child lives there or moves there" in text
    assert "the judge for children (juge des enfants)" in text
    assert "(ODPE) and the national observatory (ONPE) receive only anonymised data" in text
    assert "décret n° 2016-1966 of 28 December 2016" in text
    assert "Automated triage" in text and "a child under 2" in text
    assert "no decision about a child or a family is taken automatically" in text
    assert "Information of the people named in a report" in text
    assert "Complaint to the CNIL" in text and "3 place de Fontenoy" in text


@pytest.mark.parametrize("code", CODES)
def test_demo_profiles_say_what_the_departement_must_provide(apps, code):
    privacy, _ = text_of(apps[code], "/donnees-personnelles")
    assert "To be provided by the Département: the contact details of its data protection officer (DPO)." in privacy
    legal, _ = text_of(apps[code], "/mentions-legales")
    assert "To be provided by the Département: the name and office of the director of publication." in legal
    assert "To be provided by the Département: the name, address and phone number of the host." in legal
    access, _ = text_of(apps[code], "/accessibilite")
    assert "To be provided by the Département: its multi-year accessibility plan" in access


@pytest.mark.settings(PORTAL_DEPARTEMENTS=["31"], PAGE_CACHE=False)
def test_given_facts_replace_the_to_be_provided_notices(app):
    with_profile(app, "31", publication=Publication(
        director="Le président du conseil départemental", host="Hébergeur SAS, 1 rue X, 31000 Toulouse, 05 00 00 00 00",
        dpo_contact="dpo@cd31.example"))
    privacy, _ = text_of(app, "/donnees-personnelles")
    assert "You can write to the Département's data protection officer: dpo@cd31.example." in privacy
    assert "To be provided" not in privacy
    legal, _ = text_of(app, "/mentions-legales")
    assert "Le président du conseil départemental" in legal and "Hébergeur SAS, 1 rue X" in legal
    assert "To be provided" not in legal


@pytest.mark.settings(PORTAL_DEPARTEMENTS=["39"], PAGE_CACHE=False)
def test_accessibility_statement_from_the_profile(app):
    text, main = text_of(app, "/accessibilite")
    assert "This statement was made on November 25, 2026." in text      # the profile's date
    assert "not compliant" in text and "has not been audited yet" in text
    assert "Files attached by the people who send a report" in text
    with_profile(app, "39", accessibility=Accessibility(
        status="partially compliant", statement_date=date(2027, 3, 2), audit_date=date(2027, 2, 1),
        audit_by="Access42", compliance_rate=87.5, non_accessible=("The PDF copy is not tagged.",),
        plan=(("2027-2029", "Audit every year"),), contact="https://www.jura.fr/accessibilite"))
    text, main = text_of(app, "/accessibilite")
    assert "This website is partially compliant" in text
    assert "An RGAA audit was made on February 1, 2027 by Access42." in text
    assert "It found that 87.5% of the RGAA criteria are met." in text
    assert "The PDF copy is not tagged." in text
    assert "2027-2029: Audit every year" in text
    assert "This statement was made on March 2, 2027." in text
    assert 'href="https://www.jura.fr/accessibilite"' in main
    footer = app.test_client().get("/?lang=en").get_data(as_text=True)
    assert "Accessibility: partially compliant" in footer


def test_no_date_is_written_in_the_accessibility_statement_template():
    """The statement's and the audit's dates come from the profile; only the law's date is text."""
    access = (TEMPLATES / "public" / "accessibility.html").read_text()
    access = access.replace("law no. 2005-102 of 11 February 2005", "")
    assert not re.search(r"\b(19|20)\d\d\b", access)


# Production -------------------------------------------------------------------------------------

def _write_profile(tmp_path, dpo=True):
    text = (Path(__file__).resolve().parents[2] / "portal" / "departements" / "31.toml").read_text()
    text = text.replace('director = ""', 'director = "Le président du conseil départemental"')
    text = text.replace('host = ""', 'host = "Hébergeur, 1 rue X, 31000 Toulouse"')
    text = text.replace('\ncontact = ""', '\ncontact = "accessibilite@example.org"')
    text = text.replace('plan_url = ""', 'plan_url = "https://example.org/schema"')
    if dpo:
        text = text.replace('dpo_contact = ""', 'dpo_contact = "dpo@example.org"')
    (tmp_path / "31.toml").write_text(text, encoding="utf-8")
    return tmp_path


def test_a_complete_profile_loads_in_production(tmp_path):
    profiles = load_profiles(directory=_write_profile(tmp_path), production=True)
    assert profiles["31"].publication.dpo_contact == "dpo@example.org"


def test_a_profile_without_dpo_is_refused_in_production(tmp_path):
    directory = _write_profile(tmp_path, dpo=False)
    assert load_profiles(directory=directory)["31"].publication.dpo_contact == ""     # demo: accepted
    with pytest.raises(ProfileError) as exc:
        load_profiles(directory=directory, production=True)
    assert str(exc.value) == ("31.toml: field 'publication.dpo_contact': is required in production "
                              "(PORTAL_ENV=production): the Département must provide it")


def test_production_start_up_refuses_the_demo_profiles_with_one_line(tmp_path):
    import os
    import subprocess
    import sys
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "PORTAL_DEPARTEMENTS")}
    env.update(PORTAL_ENV="production", SECRET_KEY="x" * 40, CRIP_SECRET_KEY="c" * 40, PORTAL_DEPARTEMENTS="38",
               PORTAL_INSTANCE_PATH=str(tmp_path))
    r = subprocess.run([sys.executable, "-m", "flask", "--app", "portal", "init-db"], env=env,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2
    errors = [line for line in r.stderr.splitlines() if line.startswith("Error:")]
    assert errors == ["Error: 38.toml: field 'publication.director': is required in production "
                      "(PORTAL_ENV=production): the Département must provide it; also missing: "
                      "publication.host, publication.dpo_contact, accessibility.contact, accessibility.plan"]
    assert "Traceback" not in r.stderr


def test_production_serves_a_departements_own_profile_directory(tmp_path):
    for name in ("profiles", "app", "demo"):
        (tmp_path / name).mkdir()
    directory = _write_profile(tmp_path / "profiles")
    app = make_app(tmp_path / "app", PORTAL_DEPARTEMENTS=["31"], ENV_NAME="production",
                   PORTAL_PROFILE_DIR=str(directory), PAGE_CACHE=False)
    legal, _ = text_of(app, "/mentions-legales")
    assert "Le président du conseil départemental" in legal and "Hébergeur, 1 rue X" in legal
    assert "To be provided" not in legal
    privacy, _ = text_of(app, "/donnees-personnelles")
    assert "dpo@example.org" in privacy and "To be provided" not in privacy
    with pytest.raises(ProfileError) as exc:
        make_app(tmp_path / "demo", PORTAL_DEPARTEMENTS=["31"], ENV_NAME="production")
    assert exc.value.field == "publication.director"


def test_the_benchmarks_production_profile_is_complete(tmp_path):
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        "bench_common", Path(__file__).resolve().parents[2] / "benchmarks" / "common.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    directory = module.complete_profile_dir(tmp_path)
    assert load_profiles(["31"], directory, production=True)["31"].publication.host == "Benchmark host"
