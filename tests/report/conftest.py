"""Fixtures of the IP form's request tests.

`app` (alias `report_app`) serves the Haute-Garonne only, so the form lives at /signaler/...;
`client` and `runner` (tests/conftest.py) use it; `make_report_app` builds one with other settings. `reporter` drives the form (tests/report/helpers.py: Reporter);
`send_report(source, **answers)` runs a whole path (public, professional or young), sends it and
returns the confirmation (reference and follow-up code read from the page).
"""
from __future__ import annotations

import pytest

from .helpers import Reporter, make_app, migrated_template


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    return migrated_template(tmp_path_factory.mktemp("migrated"))


@pytest.fixture
def make_report_app(tmp_path, sqlite_template):
    made = []

    def build(**extra):
        path = tmp_path / f"app{len(made)}"
        path.mkdir()
        app = make_app(path, template=sqlite_template, **extra)
        made.append(app)
        return app
    yield build
    for app in made:
        app.extensions["portal_engine"].dispose()


@pytest.fixture
def app(make_report_app):
    return make_report_app()


@pytest.fixture
def report_app(app):
    """Older name of `app`, kept for the tests written with it."""
    return app


@pytest.fixture
def reporter(report_app):
    return Reporter(report_app)


@pytest.fixture
def send_report(reporter):
    """send_report("professional", children=[...], ...) -> Confirmation, on the `reporter`'s browser."""
    def run(source="public", **answers):
        return reporter.report(source, **answers)
    return run
