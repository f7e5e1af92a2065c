"""Every path of the form (issue #11), filled fully by a generic filler, then read back in words.

The filler knows no list of steps and no wording: on each page it fills every visible, enabled
control of the form (a real option, never a placeholder nor "I don't know" when there is another;
a distinctive text; a past date; a small PNG), each of which must have exactly one label tied to
it, notes the words of the option it chose (that label's) or the text it typed, and presses the
form's primary button (the first of its actions; an "add" button once first, for a second child or
fact), until the check page. A question revealed by an answer (in place with JavaScript, on the
next render without) is filled when it shows. Every page must have exactly one H1 and the right
<html lang dir>, and no axe-core violation where JavaScript runs.

Then every answer must be found, in words, on the check page, on the CRIP's case page (read by an
agent in the same language) and in the professional's PDF copy; and none of them may show a field
key, an answer code, True/False/None or an ISO date.

The matrix, kept small for time (one live server, one browser, one signed-in agent): each path in
French with JavaScript; each path without JavaScript; each path in Arabic and in Pashto once (with
JavaScript, without it, or with the keyboard alone). axe-core runs wherever JavaScript does (it
cannot run in a page without), once per distinct page.
"""
from __future__ import annotations

import io
import re
from datetime import date, timedelta
from typing import NamedTuple
from urllib.parse import urlsplit

import pyotp
import pytest

pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed (pip install -e '.[test]')")
from playwright.sync_api import expect

from portal.domain import questionnaire as Q
from portal.languages import LANGUAGES
from tests.browser.conftest import REFERENCE_RE

DIRECTION = {code: d for code, _name, d in LANGUAGES}
# BUG (reported, not fixed here): the PDF copy's font (DejaVu Sans, portal/report/pdf.py) has no glyph
# for the Pashto letter ۍ (U+06CD), so the Pashto copy drops it ("نجلۍ" prints as "نجل"); a font
# covering Arabic script (e.g. Noto Sans Arabic, as a fallback font) would fix it. Remove this then.
PDF_FONT_GAPS = {"ps": "\u06cd"}
MAX_RENDERS = 40                       # page loads in one journey: a loop in the app cannot hang a test
AVOID = {"", "unknown", "x"}           # a placeholder or "I don't know", when there is another answer
SKIP = {"postcode_unknown"}            # "I don't know where the child lives" would contradict the postcode
PREFER = {"sector": "school",          # the Éducation nationale path
          "parents_told": "no",        # reveals "Why were the parents not told?"
          "anonymous": "no"}           # gives a name: reveals the contact questions
SUBMIT = "button[type=submit], input[type=submit]"

# What a reader must never see: a question's key or an answer's code standing as an answer (a whole
# line or list item), a snake_case key or code anywhere, Python's literals, an ISO date. (Prose may
# hold the English word "about" or "address" while the catalogs wait for their translations.)
QUESTIONS: dict = {}
for _step in Q.STEPS.values():
    for _q in _step.questions:
        QUESTIONS.setdefault(_q.key, []).append(_q)
KEYS = set(QUESTIONS)
CODES = {code for v in Q.VOCABULARIES for code in v.codes}
ANYWHERE = re.compile(r"(?<![\w-])(" + "|".join(sorted((w for w in KEYS | CODES if "_" in w), key=len, reverse=True))
                      + r"|True|False|None)(?![\w-])|\b\d{4}-\d{2}-\d{2}\b")
ITEM_SEPARATORS = re.compile(r"\s*(?:,|/|:|·|;|\(|\))\s*")


def _shown_codes(text: str) -> list[str]:
    items = {item for line in text.splitlines() for item in ITEM_SEPARATORS.split(line.strip())}
    return sorted(({i for i in items if i in KEYS | CODES}) | {m.group(0) for m in ANYWHERE.finditer(text)})


_CONTROLS_JS = """form => [...form.elements]
  .filter(el => /^(INPUT|SELECT|TEXTAREA)$/.test(el.tagName))
  .filter(el => !['hidden', 'submit', 'button', 'image', 'reset'].includes(el.type))
  .filter(el => !el.disabled && el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden')
  .map(el => ({id: el.id, name: el.name, type: el.tagName === 'INPUT' ? el.type : el.tagName.toLowerCase(),
               value: el.value, checked: !!el.checked,
               options: el.tagName === 'SELECT' ? [...el.options].map(o => o.value) : null,
               labels: [...el.labels].map(l => l.innerText)}))"""
# The page's H1 count, language and direction; and what makes two pages the same page for axe: those,
# and the elements of <main> with their ids, classes, types, states. A step page met again with the
# same structure (the same step of another path, say) is not audited twice.
_PAGE_JS = """() => ({h1: document.querySelectorAll('h1').length, lang: document.documentElement.lang,
  dir: document.documentElement.dir,
  fingerprint: [document.documentElement.lang, document.documentElement.dir,
    ...[...(document.querySelector('main') || document.body).querySelectorAll('*')].map(el =>
      [el.tagName, el.id, el.className, el.getAttribute('type'), el.hidden, el.disabled, el.getAttribute('aria-invalid'),
       el.getAttribute('aria-describedby'), el.getAttribute('role')].join(':'))].join('|')})"""
AUDITED: set = set()                   # fingerprints of the pages axe has audited (in this process)


# Keyboard mode. The Tab stops of the page in order (a radio group is one stop: its checked button,
# or its first), and how many presses lead from the focus to the target (0 when it cannot tell).
_TAB_STOPS = """const shown = el => !el.disabled && el.tabIndex >= 0 && el.type !== 'hidden'
    && el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden';
  const stopOf = el => {
    if (el.type !== 'radio' || !el.name) return el;
    const group = [...document.querySelectorAll('input[type=radio]')].filter(r => r.name === el.name && shown(r));
    return group.find(r => r.checked) || group[0];
  };
  const target = stopOf(element);"""
_TAB_DISTANCE_JS = "element => {" + _TAB_STOPS + """
  const stops = [...document.querySelectorAll('a[href], button, input, select, textarea, summary, [tabindex]')]
    .filter(el => shown(el) && stopOf(el) === el);
  const from = stops.indexOf(document.activeElement), to = stops.indexOf(target);
  return to < 0 ? 0 : (from < to ? to - from : 0);
}"""
_TAB_REACHED_JS = "element => {" + _TAB_STOPS + """
  const active = document.activeElement;
  return active === target || (!!active && active.type === 'radio' && stopOf(active) === target);
}"""


class Chosen(NamedTuple):
    label: str          # the words of the option, as the sender read them
    name: str           # the question's key
    code: str


def _other_words(key: str, code: str, lang: str) -> tuple:
    """The labels the declaration gives `code` in the other vocabularies of question `key`."""
    t = Q.translations(lang)
    vocabularies = {id(v): v for q in QUESTIONS.get(key, ()) for v in
                    [q.vocabulary] + [variant.get("vocabulary") for variant in q.variants.values()] if v is not None}
    return tuple(t.gettext(v.label(code)) for v in vocabularies.values() if v.label(code))


def _png() -> bytes:
    from PIL import Image
    out = io.BytesIO()
    Image.new("RGB", (16, 12), (30, 90, 160)).save(out, "PNG")
    return out.getvalue()


BIDI_MARKS = dict.fromkeys(map(ord, "\u200e\u200f\u061c\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"))


def _words(text: str) -> str:
    return " ".join(text.translate(BIDI_MARKS).split())


def _visual_order_read(text: str) -> str:
    """A right-to-left PDF holds its lines in visual order (pypdf does not reorder them): read each
    line backwards, as a reader of Arabic or Pashto does."""
    return "\n".join(line[::-1] for line in text.splitlines())


class Journey:
    """One sender's journey through one path, in one language, with or without JS or a mouse."""

    def __init__(self, page, base: str, path: str, lang: str, *, axe=None, keyboard: bool = False, prefer=None,
                 more: bool = True):
        self.page, self.base, self.path, self.lang = page, base, path, lang
        self.axe, self.keyboard, self.more = axe, keyboard, more
        self.prefer = dict(PREFER, source_type=path, **(prefer or {}))
        self.answers: dict = {}                # (page, field name) -> the words chosen or typed, the dates
        self.failures: list[str] = []          # what the audits found, reported together
        self.pressed: set = set()              # (path, button value) of "add" buttons already pressed
        self.visits: dict = {}                 # how many times each step path was filled
        self.n = 0
        self.renders = 0
        self.added = False                     # an "add" button was just pressed: new questions must show
        self.reference = None

    # --- auditing each page ---------------------------------------------------------------------

    def audit(self):
        self.renders += 1
        assert self.renders <= MAX_RENDERS, f"more than {MAX_RENDERS} pages: stuck at {self.page.url}"
        where = f"{urlsplit(self.page.url).path} [{self.path}, {self.lang}] #{self.renders}"
        seen = self.page.evaluate(_PAGE_JS)
        if seen["h1"] != 1:
            self.failures.append(f"{where}: {seen['h1']} H1 elements")
        if (seen["lang"], seen["dir"]) != (self.lang, DIRECTION[self.lang]):
            self.failures.append(f"{where}: <html lang={seen['lang']} dir={seen['dir']}>")
        if self.axe is not None and seen["fingerprint"] not in AUDITED:
            from tests.browser.conftest import format_violations
            AUDITED.add(seen["fingerprint"])
            violations = self.axe(self.page)
            if violations:
                self.failures.append(format_violations(violations, where))

    # --- navigating ------------------------------------------------------------------------------

    def _tab_to(self, locator, limit: int = 250):
        """Keyboard mode: Tab until the focus is on `locator`'s element (on a radio button: on its
        group). The presses the page's order predicts are made at once, then checked one by one."""
        target = locator.element_handle()
        for _ in range(self.page.evaluate(_TAB_DISTANCE_JS, target)):
            self.page.keyboard.press("Tab")
        for _ in range(limit):
            if self.page.evaluate(_TAB_REACHED_JS, target):
                return
            self.page.keyboard.press("Tab")
        raise AssertionError(f"the keyboard never reached {locator} on {self.page.url}")

    def press(self, button):
        with self.page.expect_navigation():
            if self.keyboard:
                self._tab_to(button)
                self.page.keyboard.press("Enter")
            else:
                button.click()

    def form(self):
        """The step's form: the first form of <main> with a submit button."""
        forms = self.page.locator("main form").filter(has=self.page.locator(SUBMIT))
        return forms.first if forms.count() else None

    def primary(self, form):
        in_actions = form.locator(f".actions :is({SUBMIT})")
        return in_actions.first if in_actions.count() else form.locator(SUBMIT).first

    def run(self):
        """From the start page to the check page."""
        self.page.goto(f"{self.base}/signaler/?lang={self.lang}")
        while True:
            self.audit()
            if urlsplit(self.page.url).path.endswith("/signaler/verifier"):
                return
            form = self.form()
            if form is None:                      # a page with a link on (the emergency numbers)
                self.press(self.page.locator("main a.button").first)
                continue
            before = self.here()
            self.fill(form)
            add = self.add_button(form) if self.more else None
            self.press(add or self.primary(form))
            if self.here() == before and self.page.locator(".error-summary").count():
                raise AssertionError(f"{before} refused the filler's answers: "
                                     + _words(self.page.locator(".error-summary").inner_text()))

    def add_button(self, form):
        """A secondary "add" button (another child, another fact), pressed once per page."""
        step = urlsplit(self.page.url).path
        for value in form.locator(f".actions :is({SUBMIT})").evaluate_all("els => els.map(e => e.value || '')")[1:]:
            if value.startswith("add") and (step, value) not in self.pressed:
                self.pressed.add((step, value))
                self.added = True
                return form.locator(f".actions [value='{value}']")
        return None

    # --- filling ---------------------------------------------------------------------------------

    def control(self, c: dict):
        """A control with exactly one label tied to it (the DOM's own association, as assistive
        technologies read it), and that label's words."""
        texts = [_words(t) for t in c["labels"]]
        assert len(texts) == 1 and texts[0], f"#{c['id']} on {self.page.url} has the labels {texts}"
        return self.page.locator(f"main #{c['id']}"), texts[0]

    def text(self, kind: str) -> str:
        self.n += 1
        if kind == "email":
            return f"test{self.n:02d}@example.org"
        if kind == "tel":
            return f"05 61 00 00 {self.n:02d}"
        return f"Texte-{self.n:02d} de test"

    def here(self) -> str:
        """The page, without the fragment a page may land at (after "Add another fact"…)."""
        return self.page.url.split("#")[0]

    def fill(self, form):
        url = self.here()
        step = urlsplit(url).path
        self.visits[step] = self.visits.get(step, 0) + 1
        age = 5 + 2 * self.visits[step]                  # the second child is older
        for _ in range(5):                               # answers may reveal more questions in place
            groups: dict = {}
            for c in form.evaluate(_CONTROLS_JS):
                groups.setdefault(c["name"], []).append(c)
            todo = [(name, cs) for name, cs in groups.items()
                    if (url, name) not in self.answers and name not in SKIP]
            if not todo:
                return
            if self.added:
                self.added = False
                if not todo:
                    raise AssertionError(f"an \"add\" button brought no new question on {url}")
            for name, cs in todo:
                self.answers[(url, name)] = said = []
                self.answer(name, cs, age, said)

    def answer(self, name: str, cs: list, age: int, said: list):
        first = cs[0]
        kind = first["type"]
        if kind == "radio":
            wanted = self.prefer.get(name)
            choice = next((c for c in cs if c["value"] == wanted), None) \
                or next((c for c in cs if c["value"] not in AVOID), cs[0])
            control, label = self.control(choice)
            self.choose(control, name)
            said.append(Chosen(label, name, choice["value"]))
        elif kind == "checkbox":
            good = [c for c in cs if c["value"] not in AVOID and c["value"] != "other"] or cs
            for c in good[:2]:
                control, label = self.control(c)
                self.toggle(control)
                if len(cs) > 1:                          # one of a list: its words are the answer
                    said.append(Chosen(label, name, c["value"]))
        elif kind == "select":
            wanted = self.prefer.get(name)
            good = [v for v in first["options"] if v not in AVOID]
            if not good:
                return
            value = wanted if wanted in good else (first["value"] if first["value"] not in AVOID
                                                    else good[(self.n + age) % len(good)])
            control, _label = self.control(first)
            self.select(control, first["options"], value)
            said.append(Chosen(_words(control.locator("option:checked").inner_text()), name, value))
        elif kind == "file":
            control, _label = self.control(first)
            filename = f"piece-{self.path}-{self.lang}.png"
            control.set_input_files(files=[{"name": filename, "mimeType": "image/png", "buffer": _png()}])
            said.append(filename)
        elif kind == "date":
            day = date.today() - (timedelta(days=365 * age + 40) if "birth" in name else timedelta(days=3 + self.n))
            self.n += 1
            control, _label = self.control(first)
            if self.keyboard:
                self._tab_to(control)
                control.press_sequentially(f"{day:%m%d%Y}")   # Chromium's date field, en-US order
            else:
                control.fill(day.isoformat())
            expect(control).to_have_value(day.isoformat())
            said.append(day)
        elif kind == "number":
            self.type(self.control(first)[0], str(age))
        elif name == "postcode" or name.endswith("-postcode"):
            self.type(self.control(first)[0], "31000")
            said.append("31000")
        else:
            value = self.text("tel" if kind == "tel" or "phone" in name else kind)
            self.type(self.control(first)[0], value)
            said.append(value)

    # The gestures, with a mouse or with the keyboard alone.

    def type(self, control, value: str):
        if self.keyboard:
            self._tab_to(control)
            self.page.keyboard.press("Control+A")
            self.page.keyboard.insert_text(value)          # as typed (without a key event per letter)
            expect(control).to_have_value(value)
        else:
            control.fill(value)

    def choose(self, control, name: str):
        if not self.keyboard:
            control.check()
            return
        # Tab lands on the group's checked radio, or its first: arrows then move the choice.
        self._tab_to(control)
        for _ in range(20):
            if control.evaluate("el => el === document.activeElement"):
                break
            self.page.keyboard.press("ArrowDown")
        self.page.keyboard.press("Space")
        expect(control).to_be_checked()

    def toggle(self, control):
        if self.keyboard:
            self._tab_to(control)
            self.page.keyboard.press("Space")
            expect(control).to_be_checked()
        else:
            control.check()

    def select(self, control, options: list, value: str):
        if not self.keyboard:
            control.select_option(value)
            return
        self._tab_to(control)
        target = options.index(value)
        for _ in range(len(options) + 1):
            index = control.evaluate("el => el.selectedIndex")
            if index == target:
                return
            self.page.keyboard.press("ArrowDown" if index < target else "ArrowUp")
        raise AssertionError(f"the keyboard could not choose {value} in {options}")

    # --- after the form --------------------------------------------------------------------------

    def expected(self, lang: str, crip: bool = False) -> list[tuple]:
        """Every answer as a reader should find it (each as the words it may read as): dates as people
        write them (29/11/2026 in French); an option chosen, in the words the sender read or, on the
        CRIP's side, in the words the declaration gives the same code for its readers (a young
        person's "Someone hits me" reads "Physical violence" there)."""
        from babel.dates import format_date
        out = []
        for w in (w for words in self.answers.values() for w in words):
            if isinstance(w, date):
                out.append((f"{w:%d/%m/%Y}" if lang == "fr" else format_date(w, "medium", locale=lang),))
            elif isinstance(w, Chosen):
                out.append((w.label,) + (_other_words(w.name, w.code, lang) if crip else ()))
            else:
                out.append((w,))
        return out

    def missing(self, text: str, lang: str, visual: bool = False, gaps: str = "", crip: bool = False) -> list[str]:
        texts = [_words(text)] + ([_words(_visual_order_read(text))] if visual else [])

        def found(w):
            w = _words(w.translate(dict.fromkeys(map(ord, gaps))))
            if any(w in t for t in texts):
                return True
            # Mixed scripts on one line of a visual-order PDF: each word of the answer, in either order.
            return visual and all(any(part.strip("()،,.…") in t for t in texts) for part in w.split())
        return [ways[0] for ways in self.expected(lang, crip) if not any(found(w) for w in ways)]

    def read(self, text: str, where: str, lang: str | None = None, visual: bool = False, gaps: str = "",
             crip: bool = False):
        """Every answer in words, nothing a reader should not see."""
        missing = self.missing(text, lang or self.lang, visual, gaps, crip)
        if missing:
            self.failures.append(f"{where} [{self.path}, {self.lang}]: answers not found in words: {missing}")
        shown = _shown_codes(text)
        if shown:
            self.failures.append(f"{where} [{self.path}, {self.lang}]: keys, codes or ISO dates shown: {shown}")

    def send(self):
        self.read(self.page.locator("main").inner_text(), "check page")
        form = self.page.locator("main form").filter(has=self.page.locator("#confirm"))
        confirm = self.page.get_by_label(_words(self.page.locator("label[for=confirm]").inner_text()),
                                         exact=True).and_(self.page.locator("#confirm"))
        self.toggle(confirm)
        self.press(self.primary(form))
        expect(self.page).to_have_url(re.compile(r"/signaler/confirmation"))
        self.audit()
        self.reference = self.page.locator(".notice strong.num").inner_text().strip()
        assert REFERENCE_RE.match(self.reference), self.reference
        return self.reference

    def pdf_text(self) -> str:
        from pypdf import PdfReader
        link = self.page.locator("main a[href$='/confirmation/copie.pdf']")
        expect(link).to_have_count(1)
        response = self.page.context.request.get(self.base + link.get_attribute("href"))
        assert response.status == 200 and response.body().startswith(b"%PDF"), response.status
        assert f'filename="{self.reference}.pdf"' in response.headers["content-disposition"]
        reader = PdfReader(io.BytesIO(response.body()))
        return "\n".join(p.extract_text() or "" for p in reader.pages)


# --- The CRIP agent who reads the reports ------------------------------------------------------------

AGENT = "agent-paths@crip.test"
PASSWORD = "a long and private passphrase"
SECRET = pyotp.random_base32()


@pytest.fixture(scope="module")
def agent(browser, live_server, live_app):
    """A page signed in to the back office of the live server, shared by this module's tests."""
    from sqlalchemy import select

    from portal.domain import staff
    from portal.extensions import db
    from portal.models import StaffUser
    app = live_app
    with app.app_context():
        user = db.session.scalar(select(StaffUser).where(StaffUser.email == AGENT))
        if user is None:
            user = staff.create_user(db.session, email=AGENT, name="Agent Parcours", role="agent", departement="31",
                                     password=PASSWORD, crip_private_key=app.config["TEST_CRIP_KEYS"]["31"])
        user.totp_secret = staff.encrypt_totp_secret(app.config["SECRET_KEY"], SECRET)
        user.totp_enrolled = True
        user.totp_last_step = None
        db.session.commit()
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{live_server}/crip/connexion")
    page.locator("#email").fill(AGENT)
    page.locator("#password").fill(PASSWORD)
    page.locator("main button[type=submit]").last.click()
    expect(page).to_have_url(re.compile(r"/crip/connexion/code$"))
    page.locator("#code").fill(pyotp.TOTP(SECRET).now())
    page.locator("main button[type=submit]").last.click()
    expect(page).not_to_have_url(re.compile(r"/connexion"))
    yield page
    context.close()


@pytest.fixture
def sender(browser, request):
    """sender(**context options) -> a page in a context of its own. Unlike the conftest's pages, it
    routes nothing (these journeys never leave the site), so Chromium keeps its HTTP cache."""
    def make(**options):
        context = browser.new_context(viewport={"width": 1280, "height": 800}, **options)
        context.set_default_timeout(15_000)
        request.addfinalizer(context.close)
        return context.new_page()
    return make


# The young person writes about a friend (a variant of the young path) in Arabic, about themself
# elsewhere; the elected official says the child is in danger now (the emergency numbers come first).
VARIANTS = {(Q.YOUNG, "ar"): {"about": "other"}, (Q.ELECTED, "fr"): {"danger_now": "yes"}}


def _journey(page, live_server, agent, path, lang, *, axe=None, keyboard=False):
    # "Add another child / fact" in French, on the professional's and the young friend's journeys;
    # once is enough elsewhere (for time).
    more = lang == "fr" or path == Q.PROFESSIONAL or (path, lang) in VARIANTS
    journey = Journey(page, live_server, path, lang, axe=axe, keyboard=keyboard, prefer=VARIANTS.get((path, lang)),
                      more=more)
    journey.run()
    reference = journey.send()
    if path == Q.PROFESSIONAL:
        journey.read(journey.pdf_text(), "PDF copy", visual=DIRECTION[lang] == "rtl", gaps=PDF_FONT_GAPS.get(lang, ""))
    agent.goto(f"{live_server}/crip/ip/{reference}?lang={lang}")
    expect(agent.locator("main")).to_contain_text(reference)
    journey.read(agent.locator("main").inner_text(), "CRIP case page", crip=True)
    return journey


# Each path in French with JavaScript; each path without JavaScript; each path in Arabic and in
# Pashto once (with JavaScript, without it, or with the keyboard alone); axe wherever JavaScript runs.
WITH_JS = [("fr", p) for p in Q.PATHS] + [("ar", Q.YOUNG), ("ar", Q.ELECTED), ("ps", Q.PUBLIC)]
WITHOUT_JS = [("ar", Q.PUBLIC), ("ar", Q.PROFESSIONAL), ("ps", Q.YOUNG), ("ps", Q.ELECTED)]
KEYBOARD = ("ps", Q.PROFESSIONAL)


def test_the_matrix_covers_every_path_in_every_language_and_mode():
    journeys = set(WITH_JS) | set(WITHOUT_JS) | {KEYBOARD}
    assert {(lang, p) for lang in ("fr", "ar", "ps") for p in Q.PATHS} <= journeys
    assert {p for _lang, p in WITHOUT_JS} == set(Q.PATHS)


@pytest.mark.parametrize("lang, path", WITH_JS, ids=[f"{p}-{lang}" for lang, p in WITH_JS])
def test_each_path_filled_fully_reads_in_words(sender, live_server, agent, axe_check, lang, path):
    journey = _journey(sender(), live_server, agent, path, lang, axe=axe_check)
    assert not journey.failures, "\n".join(journey.failures)


@pytest.mark.parametrize("lang, path", WITHOUT_JS, ids=[f"{p}-{lang}" for lang, p in WITHOUT_JS])
def test_each_path_without_javascript(sender, live_server, agent, lang, path):
    """(axe-core cannot run in a page without JavaScript: its checks wait on the page's event loop.)"""
    journey = _journey(sender(java_script_enabled=False), live_server, agent, path, lang)
    assert not journey.failures, "\n".join(journey.failures)


def test_a_path_with_the_keyboard_alone(sender, live_server, agent, axe_check):
    """Tab, Space, arrows and Enter only (a file is set as a file chooser would)."""
    lang, path = KEYBOARD
    journey = _journey(sender(locale="en-US"), live_server, agent, path, lang, keyboard=True, axe=axe_check)
    assert not journey.failures, "\n".join(journey.failures)

