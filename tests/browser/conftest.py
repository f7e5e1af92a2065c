"""Browser tests: Debian's Chromium driven by Playwright against a live portal on 127.0.0.1.

Everything in this folder is marked `browser`. Chromium (/usr/bin/chromium) and axe-core
(node_modules/axe-core/axe.min.js, from `npm ci`) are required: without them the tests skip,
except under CI=true where they fail. No browser is ever downloaded.

The UI strings are English msgids or translations written by others, so nothing here locates
by visible wording: fields are found by their label *as the page renders it* (which checks that
label and control are associated), buttons by `name`/`value`/`type`, and assertions are on
structure (URLs, ids, status codes, the reference and code formats).
"""
from __future__ import annotations

import os
import re
import threading
from pathlib import Path

import pytest

from tests.conftest import make_app

try:
    from playwright.sync_api import expect
except ImportError:                       # the test modules skip (importorskip); CI must have it
    if os.environ.get("CI") == "true":
        raise
    expect = None
else:
    # The machine may be busy (tests run two by two, beside a database): give assertions some slack.
    expect.set_options(timeout=10_000)

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
CHROMIUM = Path("/usr/bin/chromium")
AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "test-output" / "screenshots"
CI = os.environ.get("CI") == "true"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic"]
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
QUICK_EXIT_HOST = "https://www.meteofrance.com"

REFERENCE_RE = re.compile(r"^IP-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$")
CODE_RE = re.compile(r"^[0-9A-HJKMNP-TV-Z]{4}( [0-9A-HJKMNP-TV-Z]{4}){4}$")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.browser)


def _missing(reason: str):
    if CI:
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


# Browser --------------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def chromium_path():
    if not (CHROMIUM.exists() and os.access(CHROMIUM, os.X_OK)):
        _missing("Debian's Chromium is not installed (apt-get install chromium chromium-driver)")
    return str(CHROMIUM)


@pytest.fixture(scope="session")
def axe_source():
    if not AXE_JS.exists():
        _missing(f"axe-core is missing at {AXE_JS.relative_to(ROOT)}: run npm ci")
    return AXE_JS.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def browser(chromium_path):
    from playwright.sync_api import sync_playwright
    p = sync_playwright().start()
    try:
        b = p.chromium.launch(executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS)
    except Exception:
        p.stop()
        raise
    yield b
    b.close()
    p.stop()


def _new_page(browser, request, **options):
    options.setdefault("viewport", {"width": 1280, "height": 800})
    context = browser.new_context(**options)
    context.set_default_timeout(15_000)
    # The quick exit leaves for a real site: answer it locally (there is no network here).
    context.route(f"{QUICK_EXIT_HOST}/**",
                  lambda route: route.fulfill(body="<title>neutral</title>neutral", content_type="text/html"))
    page = context.new_page()
    request.addfinalizer(context.close)
    return page


@pytest.fixture
def page(browser, request):
    return _new_page(browser, request)


@pytest.fixture
def js_disabled_page(browser, request):
    return _new_page(browser, request, java_script_enabled=False)


@pytest.fixture
def new_page(browser, request):
    """A factory for more pages, each in its own context: new_page(viewport=..., ...)."""
    return lambda **options: _new_page(browser, request, **options)


# Live server ----------------------------------------------------------------------------------

# The real limits, raised only so that one client address (127.0.0.1) can run the whole suite:
# the accessibility test alone loads ~130 pages and their assets in well under a minute.
GENEROUS_LIMITS = {
    "RATELIMIT_DEFAULT": "100000 per minute",
    "RATELIMIT_FORM_STEP": "100000 per minute",
    "RATELIMIT_SEND": "10000 per hour",
    "RATELIMIT_UPLOAD": "10000 per hour",
    "RATELIMIT_FOLLOWUP_CHECK": "10000 per 10 minutes",
    "RATELIMIT_FOLLOWUP_MESSAGE": "10000 per hour",
}


class LiveServer:
    def __init__(self, app):
        from werkzeug.serving import make_server
        self.app = app
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, name="live-portal", daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def _serve(tmp_path_factory, name, **config):
    tmp = tmp_path_factory.mktemp(name)
    # Static files cached for an hour, so that each page of a test does not ask for them again.
    settings = dict(WTF_CSRF_ENABLED=True, FORM_MIN_SECONDS=0, SEND_FILE_MAX_AGE_DEFAULT=3600, **GENEROUS_LIMITS)
    settings.update(config)
    app = make_app(tmp, **settings)
    return LiveServer(app)


@pytest.fixture(scope="session")
def _live31(tmp_path_factory, chromium_path):
    server = _serve(tmp_path_factory, "live31", PORTAL_DEPARTEMENTS=["31"])
    yield server
    server.stop()


@pytest.fixture(scope="session")
def live_server(_live31):
    """One département (31): URLs have no /<dep> prefix. CSRF is on, as real users get it."""
    return _live31.url


@pytest.fixture(scope="session")
def live_app(_live31):
    """The application behind live_server, for a test that prepares data in it (a staff account…)."""
    return _live31.app


@pytest.fixture(scope="session")
def multi_live_server(tmp_path_factory, chromium_path):
    """Several départements: pages live under /<dep>/ and / asks which one."""
    server = _serve(tmp_path_factory, "livemulti", PORTAL_DEPARTEMENTS=["31", "38", "39", "44"])
    yield server.url
    server.stop()


# axe-core -------------------------------------------------------------------------------------

_AXE_RUN = """async (tags) => {
  const results = await axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']});
  return results.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
    targets: v.nodes.map(n => n.target.join(' ')),
    html: v.nodes.slice(0, 3).map(n => n.html.slice(0, 200)),
  }));
}"""


def format_violations(violations, where: str = "") -> str:
    lines = [f"{len(violations)} axe violation(s){' on ' + where if where else ''}:"]
    for v in violations:
        lines.append(f"  - {v['id']} [{v['impact']}] {v['help']} ({len(v['targets'])} node(s)): "
                     + ", ".join(v["targets"][:3]))
    return "\n".join(lines)


def run_axe(page, source: str):
    """axe-core's WCAG 2.0/2.1 A and AA violations on the current page, as plain dicts."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        # evaluate() runs outside the page's CSP (script-src 'self' would refuse a script tag).
        page.evaluate(source)
    return page.evaluate(_AXE_RUN, AXE_TAGS)


@pytest.fixture
def axe_check(axe_source):
    """axe_check(page) -> the violations (dicts: id, impact, help, targets, html); [] when none."""
    return lambda page: run_axe(page, axe_source)


@pytest.fixture
def describe_violations():
    """describe_violations(violations, where) -> the message an assertion shows."""
    return format_violations


@pytest.fixture
def assert_accessible(axe_source):
    """assert_accessible(page, where): no WCAG 2.1 A/AA violation, else a readable message."""
    def check(page, where: str = ""):
        violations = run_axe(page, axe_source)
        assert not violations, format_violations(violations, where or page.url)
        return violations
    return check


# Screenshots ----------------------------------------------------------------------------------

def save_screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    width = page.viewport_size["width"] if page.viewport_size else 0
    path = SCREENSHOTS / f"{name}-{width}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.fixture
def screenshot():
    """screenshot(page, name) -> test-output/screenshots/<name>-<width>.png (full page)."""
    return save_screenshot


# Walking the form -----------------------------------------------------------------------------

class Portal:
    """Steps of the portal, driven by ids/names only (never by visible wording)."""

    def __init__(self, page, base_url: str):
        self.page, self.base = page, base_url

    # navigation
    def goto(self, path: str, status: int | None = 200):
        response = self.page.goto(self.base + path)
        if status is not None:
            assert response is not None and response.status == status, (path, response and response.status)
        return response

    def path(self) -> str:
        from urllib.parse import urlsplit
        return urlsplit(self.page.url).path

    def expect_path(self, pattern: str):
        # A page may land at a fragment (after "Add another fact" or a postcode lookup).
        expect(self.page).to_have_url(re.compile(re.escape(self.base) + pattern + r"(\?[^#]*)?(#.*)?$"))

    # fields
    def field(self, control_id: str):
        """The control found by the text of its <label for=...>: fails if label and control are not tied."""
        label = self.page.locator(f'label[for="{control_id}"]')
        expect(label).to_have_count(1)
        text = " ".join(label.inner_text().split())
        assert text, f"label of #{control_id} is empty"
        control = self.page.get_by_label(text, exact=True).and_(self.page.locator(f"#{control_id}"))
        expect(control).to_have_count(1)
        return control

    def fill(self, control_id: str, value: str):
        self.field(control_id).fill(value)

    def check(self, control_id: str):
        self.field(control_id).check()

    def select(self, control_id: str, value: str):
        self.field(control_id).select_option(value)

    def button(self, selector: str):
        return self.page.locator(f"main form {selector}")

    def submit(self, selector: str = "button[type=submit]", expect_status: int | None = None):
        """Press a form's button and wait for the page it leads to."""
        button = self.button(selector)
        with self.page.expect_navigation() as nav:
            button.click()
        response = nav.value
        if expect_status is not None:
            assert response is not None and response.status == expect_status, (self.page.url, response and response.status)
        return response

    def expect_error_summary(self):
        summary = self.page.locator(".error-summary")
        expect(summary).to_be_visible()
        # Each error links to a control that exists on the page.
        for href in summary.locator("a[href^='#']").evaluate_all("els => els.map(e => e.getAttribute('href'))"):
            assert self.page.locator(href).count() == 1, f"error link {href} points nowhere"
        return summary

    # the steps
    def start(self, lang: str | None = None):
        self.goto("/signaler/" + (f"?lang={lang}" if lang else ""))
        self.submit("button[type=submit]")
        self.expect_path("/signaler/etape/qui")

    def who(self, source: str = "public", sector: str | None = None, about: str = "other"):
        """`about`: what a young person writes about: "other" (a friend, a brother or a sister) or "self"."""
        index = {"public": 0, "professional": 1, "young": 2}[source]
        self.check(f"source_type-{index}")
        if sector:
            self.select("sector", sector)
        if source == "young":
            self.check(f"about-{ {'self': 0, 'other': 1}[about] }")     # shown in place by the script
        self.submit()

    def child(self, postcode: str = "31000", first_name: str | None = None, age: str | None = None,
              sex: str | None = None):
        if first_name:
            self.fill("first_name", first_name)
        if age:
            self.fill("age", age)
        if sex:
            self.check(f"sex-{ {'x': 0, 'f': 1, 'm': 2}[sex] }")
        self.fill("postcode", postcode)
        self.submit("[name=action][value=save]")
        self.expect_path("/signaler/etape/enfants")

    def children(self):
        self.submit("[name=action][value=continue]")

    def adults(self, name: str | None = None):
        if name:
            self.fill("adult1_name", name)
        self.submit()

    def concern(self, account: str, categories=(0,), danger: str = "no"):
        for i in categories:
            self.check(f"categories-{i}")
        self.fill("account", account)
        self.check(f"danger_now-{ {'no': 0, 'yes': 1, 'unknown': 2}[danger] }")
        self.submit()

    def sender(self, anonymous: bool | None = True):
        if anonymous is not None and self.page.locator("#anonymous-0").count():
            self.check("anonymous-1" if anonymous else "anonymous-0")
        self.submit()

    def documents(self):
        self.submit("[name=action][value=continue]")
        self.expect_path("/signaler/verifier")

    def send(self):
        self.check("confirm")
        self.submit("button[type=submit]")
        self.expect_path("/signaler/confirmation")
        return self.confirmation()

    def confirmation(self):
        reference = self.page.locator(".notice strong.num")
        expect(reference).to_have_count(1)
        ref = reference.inner_text().strip()
        code = " ".join(self.page.locator(".code-box").inner_text().split())
        assert REFERENCE_RE.match(ref), ref
        assert CODE_RE.match(code), code
        return ref, code


@pytest.fixture
def portal_factory(live_server):
    return lambda page, base=live_server: Portal(page, base)
