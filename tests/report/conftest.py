"""Fixtures of the IP form's request tests.

`app` (tests/conftest.py) serves the Haute-Garonne only, so the form lives at /signaler/... (a test marked
`@pytest.mark.settings(...)` gets other settings, tests/conftest.py); `client` and `runner`
(tests/conftest.py) use it. `reporter` drives the form (tests/report/helpers.py: Reporter);
`send_report(source, **answers)` runs a whole path (public, professional or young), sends it and
returns the confirmation (reference and follow-up code read from the page).
"""
from __future__ import annotations

import pytest

from .helpers import Reporter


@pytest.fixture
def settings(settings):
    """The Haute-Garonne only, unless the test says otherwise."""
    return {"PORTAL_DEPARTEMENTS": ["31"], **settings}


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
