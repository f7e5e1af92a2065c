"""Every public page and every form step in every locale: right lang and dir, no untranslated
French-default leak of English ids, numbers kept left-to-right, the choice kept through the form."""
from __future__ import annotations

import re

import pytest

from portal.i18n import CODES, direction
from portal.public.views import PAGES
from tests.conftest import make_app


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    return make_app(tmp_path_factory.mktemp("i18n"), PORTAL_DEPARTEMENTS=["31"], RATELIMIT_ENABLED=False)


def _html_attrs(body: str):
    m = re.search(r'<html lang="([^"]+)" dir="(ltr|rtl)"', body)
    return m.groups() if m else None


@pytest.mark.parametrize("lang", CODES)
def test_public_pages_in_every_locale(app, lang):
    c = app.test_client()
    paths = ["/"] + [path for path, _t in PAGES.values()] + ["/signaler/", "/signaler/suivi"]
    # (the back office is not a public page: staff choose their language in their account, tests/crip)
    for i, path in enumerate(paths):
        r = c.get(path + (f"?lang={lang}" if i == 0 else ""))
        assert r.status_code == 200, path
        body = r.data.decode()
        assert _html_attrs(body) == (lang, direction(lang)), path
        assert 'dir="ltr"' in body and ">119<" in body   # phone numbers stay left-to-right
        if lang != "en":
            assert "Skip to main content" not in body, f"English id shown in {lang} on {path}"


@pytest.mark.parametrize("lang", CODES)
def test_every_form_step_in_every_locale_keeps_the_language(app, lang):
    c = app.test_client()
    c.get(f"/?lang={lang}")
    c.post("/signaler/commencer")
    steps = [("qui", {"source_type": "professional", "sector": "school"}),
             ("enfant", {"first_name": "Amina", "age": "1", "postcode": "31000"}),
             ("enfants", {"action": "continue"}),
             ("adultes", {}),
             ("inquietude", {"categories": ["sexual"], "account": "…", "danger_now": "yes"}),
             ("professionnel", {"establishment": "École", "author_name": "N", "author_role": "Directrice",
                                "author_phone": "0102030405", "facts-0-what": "Fait", "parents_told": "yes",
                                "hierarchy_copy": "yes", "signalement": "no"}),
             ("vous", {"contact_language": lang}),
             ("documents", {"action": "continue"})]
    for step, data in steps:
        url = f"/signaler/etape/{step}" + ("?n=0" if step == "enfant" else "")
        page = c.get(url)
        assert page.status_code == 200 and _html_attrs(page.data.decode()) == (lang, direction(lang)), step
        bad = c.post(url, data={"action": "save"} if step in ("enfant", "professionnel") else {})
        if bad.status_code == 400:   # the error page is in the same language, with its summary
            body = bad.data.decode()
            assert _html_attrs(body) == (lang, direction(lang)) and "error-summary" in body, step
        r = c.post(url, data=data)
        assert r.status_code in (302, 303), (step, r.status_code)
        if step == "inquietude":
            emergency = c.get(r.headers["Location"])
            assert _html_attrs(emergency.data.decode()) == (lang, direction(lang))
    check = c.get("/signaler/verifier")
    assert check.status_code == 200 and _html_attrs(check.data.decode()) == (lang, direction(lang))
    assert c.post("/signaler/envoyer", data={"confirm": "y"}).status_code == 303
    conf = c.get("/signaler/confirmation").data.decode()
    assert _html_attrs(conf) == (lang, direction(lang))
    from portal.extensions import db
    from portal.models import InformationPreoccupante
    from sqlalchemy import select
    ref = re.search(r"IP-[0-9A-Z]{4}-[0-9A-Z]{4}", conf).group(0)
    with app.app_context():
        ip = db.session.scalar(select(InformationPreoccupante).where(InformationPreoccupante.reference == ref))
        assert ip.language == lang and ip.contact_language == lang and ip.urgency == 1


def test_dates_and_numbers_are_formatted_for_the_locale(app):
    c = app.test_client()
    fr = c.get("/?lang=fr").data.decode()
    en = c.get("/?lang=en").data.decode()
    assert "7\u202f450" in fr or "7 450" in fr or "7\xa0450" in fr
    assert "7,450" in en
    assert "36,9" in fr and "36.9" in en


def test_unreviewed_catalog_shows_a_notice_but_french_does_not(app):
    c = app.test_client()
    assert "review-notice" not in c.get("/?lang=fr").data.decode()
    assert "review-notice" in c.get("/?lang=ar").data.decode()
    assert "review-notice" not in c.get("/?lang=en").data.decode()


def test_language_switcher_names_each_language_in_itself(app):
    body = app.test_client().get("/?lang=fr").data.decode()
    for code, name in (("ar", "العربية"), ("uk", "Українська"), ("ps", "پښتو"), ("fa", "دری / فارسی")):
        assert re.search(rf'<a href="[^"]*lang={code}"[^>]*lang="{code}"[^>]*>{re.escape(name)}</a>', body), code


def test_wtforms_messages_are_translated(app):
    c = app.test_client()
    c.get("/?lang=fr")
    c.post("/signaler/commencer")
    c.post("/signaler/etape/qui", data={"source_type": "public"})
    r = c.post("/signaler/etape/enfant?n=0", data={"first_name": "x" * 500, "postcode": "31000", "age": "douze"})
    body = r.data.decode()
    assert r.status_code == 400
    assert "Field cannot be longer" not in body and "Not a valid integer" not in body


def test_missing_catalogs_refuse_to_start(tmp_path, monkeypatch):
    """Without the compiled catalogs the site would speak English to everyone: it refuses to start."""
    import shutil

    from portal import ConfigError, paths
    from tests.conftest import base_config
    partial = tmp_path / "translations"
    shutil.copytree(paths.TRANSLATIONS, partial)
    (partial / "ar" / "LC_MESSAGES" / "messages.mo").unlink()
    (partial / "ps" / "LC_MESSAGES" / "messages.mo").unlink()
    monkeypatch.setattr(paths, "TRANSLATIONS", partial)
    from portal import create_app
    with pytest.raises(ConfigError, match=r"not compiled \(no messages.mo for ar, ps in "):
        create_app(base_config(tmp_path), env={})


def test_missing_catalogs_stop_the_command_line_with_one_line(tmp_path):
    import os
    import subprocess
    import sys
    code = ("import pathlib, sys; import portal.paths as p; p.TRANSLATIONS = pathlib.Path(sys.argv.pop(1)); "
            "from flask.cli import main; main()")
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "PORTAL_DEPARTEMENTS", "SECRET_KEY")}
    env["PORTAL_INSTANCE_PATH"] = str(tmp_path)
    r = subprocess.run([sys.executable, "-c", code, str(tmp_path / "none"), "--app", "portal", "init-db"],
                       env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 2, r.stderr
    errors = [line for line in r.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and errors[0].startswith("Error: the translation catalogs are not compiled"), r.stderr
    assert "Traceback" not in r.stderr
