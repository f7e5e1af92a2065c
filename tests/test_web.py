"""The layout around every page: the parts that do not depend on the request come from the cache,
keyed by département and language; the language links follow the page."""
from __future__ import annotations

import re

import pytest

from tests.conftest import make_app


@pytest.fixture(scope="module")
def multi(tmp_path_factory):
    return make_app(tmp_path_factory.mktemp("layout"), PORTAL_DEPARTEMENTS=["31", "38"], RATELIMIT_ENABLED=False)


def _header(body: str) -> str:
    return body[:body.index("<main")]


def test_each_departement_and_language_gets_its_own_layout(multi):
    c = multi.test_client()
    for _ in range(2):   # the second time from the cache
        hg = c.get("/31/le-119?lang=fr").get_data(as_text=True)
        isere = c.get("/38/le-119?lang=fr").get_data(as_text=True)
        english = c.get("/38/contacts?lang=en").get_data(as_text=True)
        assert "Haute-Garonne" in _header(hg) and "Isère" not in _header(hg)
        assert "Isère" in _header(isere) and "Haute-Garonne" not in _header(isere)
        assert 'href="/38/protection-de-l-enfance"' in isere and 'href="/31/protection-de-l-enfance"' in hg
        assert "Skip to main content" in english and "Aller au contenu principal" in hg
        assert "Skip to main content" not in hg


def test_language_links_point_to_the_same_page_with_its_query(multi):
    c = multi.test_client()
    body = c.get("/31/contacts?lang=fr&x=1").get_data(as_text=True)
    links = dict(re.findall(r'<a href="([^"]+)" lang="([a-z]+)" hreflang', body)[i][::-1] for i in range(10))
    assert links["ar"] == "/31/contacts?x=1&amp;lang=ar"
    body = c.get("/38/le-119").get_data(as_text=True)
    links = dict(re.findall(r'<a href="([^"]+)" lang="([a-z]+)" hreflang', body)[i][::-1] for i in range(10))
    assert links["uk"] == "/38/le-119?lang=uk" and len(links) == 10
    assert re.search(r'lang="fr" hreflang="fr" dir="ltr" aria-current="true"', body)


def test_form_controls_keep_the_markup_of_wtforms_own_html_params(app):
    """portal/forms/base.py replaces WTForms' html_params with a faster one: same attributes, same escaping."""
    from flask_babel import lazy_gettext
    from markupsafe import Markup

    from portal.forms.base import WTFORMS_HTML_PARAMS, _html_params
    cases = [
        dict(id="first_name", type="text", name="first_name", value="Léa <\"&'>", autocomplete="off",
             required=False, class_="short", data_js_only="1", aria_describedby="x-hint x-error"),
        dict(value=Markup('<b title="q">x</b>'), checked=True, disabled=False, rows=6, min=0, step=None),
        dict(label=lazy_gettext("Continue")),
        {},
    ]
    with app.test_request_context():
        for attrs in cases:
            assert _html_params(**attrs) == WTFORMS_HTML_PARAMS(**attrs)
            assert isinstance(_html_params(**attrs), Markup)
