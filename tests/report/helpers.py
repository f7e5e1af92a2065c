"""Helpers for the request tests of the IP form: an HTML reader, a form driver, database dumps.

Nothing here knows about pytest fixtures; tests/report/conftest.py wires them up.
"""
from __future__ import annotations

import html
import io
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from html.parser import HTMLParser

from sqlalchemy import MetaData, func, select



# --- HTML ------------------------------------------------------------------------------------

class _Reader(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids = set()
        self.inputs = []            # attrs of every <input>
        self.textareas = {}         # name -> text
        self.selects = {}           # name -> [(value, selected, text)]
        self.summary_links = []     # (href, text) inside .error-summary
        self.summaries = 0
        self.inline_errors = []     # text of p.error-message
        self.links = []             # (href, text)
        self._stack = []            # open tags: (tag, classes)
        self._textarea = None
        self._select = None
        self._option = None
        self._anchor = None
        self._error = None

    def _in_summary(self):
        return any("error-summary" in classes for _tag, classes in self._stack)

    def handle_starttag(self, tag, attrs):
        a = {k: (v if v is not None else "") for k, v in attrs}
        classes = a.get("class", "").split()
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "div" and "error-summary" in classes:
            self.summaries += 1
        if tag not in ("input", "br", "img", "meta", "link", "hr"):
            self._stack.append((tag, classes))
        if tag == "input":
            self.inputs.append(a)
        elif tag == "textarea":
            self._textarea = a.get("name", "")
            self.textareas[self._textarea] = ""
        elif tag == "select":
            self._select = a.get("name", "")
            self.selects[self._select] = []
        elif tag == "option" and self._select is not None:
            self._option = [a.get("value", ""), "selected" in a, ""]
        elif tag == "a":
            self._anchor = [a.get("href", ""), ""]
        elif tag == "p" and "error-message" in classes:
            self._error = ""

    def handle_endtag(self, tag):
        while self._stack:
            open_tag, _classes = self._stack.pop()
            if open_tag == tag:
                break
        if tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None
        elif tag == "option" and self._option is not None:
            self.selects[self._select].append(tuple(self._option))
            self._option = None
        elif tag == "a" and self._anchor is not None:
            href, text = self._anchor[0], " ".join(self._anchor[1].split())
            self.links.append((href, text))
            if self._in_summary():
                self.summary_links.append((href, text))
            self._anchor = None
        elif tag == "p" and self._error is not None:
            self.inline_errors.append(" ".join(self._error.split()))
            self._error = None

    def handle_data(self, data):
        if self._textarea is not None:
            self.textareas[self._textarea] += data
        if self._option is not None:
            self._option[2] += data
        if self._anchor is not None:
            self._anchor[1] += data
        if self._error is not None:
            self._error += data


@dataclass
class Page:
    """A response's HTML, read once."""
    status: int
    body: str
    reader: _Reader = field(repr=False)

    @classmethod
    def of(cls, response):
        body = response.get_data(as_text=True)
        reader = _Reader()
        reader.feed(body)
        return cls(response.status_code, body, reader)

    @property
    def text(self) -> str:
        """The page with entities decoded, for "is what was typed on screen" checks."""
        return html.unescape(self.body)

    def __contains__(self, needle: str) -> bool:
        return needle in self.text

    @property
    def ids(self):
        return self.reader.ids

    @property
    def has_error_summary(self) -> bool:
        return self.reader.summaries > 0

    @property
    def error_links(self):
        return self.reader.summary_links

    @property
    def inline_errors(self):
        return self.reader.inline_errors

    @property
    def links(self):
        return self.reader.links

    def value(self, name: str):
        """What a text input / textarea shows, or the selected option of a select."""
        if name in self.reader.textareas:
            text = self.reader.textareas[name]
            return text[2:] if text.startswith("\r\n") else text[1:] if text.startswith("\n") else text
        if name in self.reader.selects:
            chosen = [v for v, selected, _t in self.reader.selects[name] if selected]
            return chosen[0] if chosen else None
        for a in self.reader.inputs:
            if a.get("name") == name and a.get("type", "text") not in ("radio", "checkbox"):
                return a.get("value", "")
        raise KeyError(name)

    def checked(self, name: str) -> list:
        return [a.get("value") for a in self.reader.inputs if a.get("name") == name and "checked" in a]

    def options(self, name: str) -> list:
        return [v for v, _s, _t in self.reader.selects.get(name, [])]

    def has_field(self, name: str) -> bool:
        return (name in self.reader.textareas or name in self.reader.selects
                or any(a.get("name") == name for a in self.reader.inputs))

    def buttons_with(self, prefix: str) -> list:
        return [a for a in re.findall(r'<button[^>]*value="([^"]*)"', self.body) if a.startswith(prefix)]

    def describe(self) -> str:
        return f"status {self.status}; errors {self.error_links or self.inline_errors}"


def assert_error_page(page: Page, *messages: str):
    """An error summary whose links all lead to elements of the page, plus inline errors."""
    assert page.has_error_summary, page.describe()
    assert page.error_links, "the error summary has no link"
    for href, _text in page.error_links:
        assert href.startswith("#"), href
        assert href[1:] in page.ids, f"{href} links to nothing in the page (ids: {sorted(page.ids)})"
    summary_text = " | ".join(t for _h, t in page.error_links)
    for message in messages:
        assert message in summary_text, f"{message!r} not in the error summary: {summary_text}"


# --- Default answers ----------------------------------------------------------------------------

def years_ago(years: int, days: int = 0) -> str:
    today = date.today()
    try:
        d = today.replace(year=today.year - years)
    except ValueError:        # 29 February
        d = today.replace(year=today.year - years, day=28)
    return (d - timedelta(days=days)).isoformat()


CHILD = {"first_name": "Léa", "last_name": "Martin", "age": "8", "sex": "f", "school": "École Jules Ferry, CE2",
         "postcode": "31000", "address": "12 rue des Lilas", "lives_with": "mother"}
YOUNG_CHILD = {"postcode": "31000"}
ADULTS = {"adult1_name": "Sandrine Martin", "adult1_relation": "mother", "adult1_contact": "06 11 22 33 44",
          "others": "Un petit frère"}
CONCERN = {"categories": ["neglect", "psychological"], "account": "Elle arrive seule à l'école, affamée.",
           "since": "weeks", "danger_now": "no"}
PUBLIC_SENDER = {"anonymous": "no", "name": "Jeanne Voisine", "relation": "neighbour", "phone": "0611223344",
                 "email": "jeanne@example.org", "contact_language": "fr", "wants_feedback": "y"}
YOUNG_SENDER = {"anonymous": "yes", "contact_language": "fr"}
PRO = {"establishment": "École Jules Ferry", "establishment_address": "1 place de l'École, Toulouse",
       "author_name": "Paul Directeur", "author_role": "Directeur d'école", "author_phone": "0561000000",
       "author_email": "directeur@ecole.example.org",
       "facts-0-when": "2024-03-04", "facts-0-what": "Bleus sur les bras.",
       "facts-1-when": "2024-03-11", "facts-1-what": "Absente trois jours.",
       "child_words": "« Papa tape quand il crie. »", "context": "Famille isolée.", "actions": "Entretien avec la mère.",
       "parents_told": "yes", "parents_not_told_why": "", "hierarchy_copy": "yes", "signalement": "no"}
PRO_SENDER = {"contact_language": "fr"}

SENDERS = {"public": PUBLIC_SENDER, "professional": PRO_SENDER, "young": YOUNG_SENDER, "elected": PUBLIC_SENDER}


@dataclass
class Confirmation:
    reference: str
    code: str           # without spaces
    page: Page


class Reporter:
    """Drives the IP form through the test client, one step at a time, asserting each step passes."""

    def __init__(self, app, client=None, prefix=None, language: str | None = "en"):
        """`language`: the browser's Accept-Language. English by default, so that pages show the
        message ids the tests look for whatever the catalogs hold; None for a browser that sends
        none (the site then speaks French)."""
        self.app = app
        self.client = client if client is not None else app.test_client()
        if language:
            self.client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
        self.prefix = prefix or ("/31/signaler" if app.config["MULTI_DEPARTEMENT"] else "/signaler")

    def url(self, path: str) -> str:
        return self.prefix + path

    # raw requests ------------------------------------------------------------------------------

    def get(self, path, **kw):
        return self.client.get(self.url(path), **kw)

    def post(self, path, data=None, **kw):
        return self.client.post(self.url(path), data=data or {}, **kw)

    def page(self, path, expect=200, **kw) -> Page:
        page = Page.of(self.get(path, **kw))
        assert page.status == expect, page.describe()
        return page

    def _moved(self, response, to: str | None = None) -> str:
        if response.status_code not in (302, 303):
            raise AssertionError(f"expected a redirect, got {Page.of(response).describe()}")
        location = response.headers["Location"]
        if to is not None:
            assert location.split("?")[0].endswith(to), f"{location} does not lead to {to}"
        return location

    # steps ---------------------------------------------------------------------------------------

    def start(self, lang: str | None = None):
        self.page("/" + (f"?lang={lang}" if lang else ""))
        self._moved(self.post("/commencer"), "/etape/qui")
        return self

    def step(self, step: str, data: dict, n: int | None = None, query: str = "", to: str | None = None, **kw) -> str:
        """POST a step that must pass; returns where it leads."""
        args = [f"n={n}"] if n is not None else []
        if query:
            args.append(query)
        url = f"/etape/{step}" + ("?" + "&".join(args) if args else "")
        return self._moved(self.post(url, data, **kw), to)

    def step_page(self, step: str, data: dict, n: int | None = None, query: str = "", **kw) -> Page:
        """POST a step expected to be refused; returns the re-rendered page."""
        args = [f"n={n}"] if n is not None else []
        if query:
            args.append(query)
        url = f"/etape/{step}" + ("?" + "&".join(args) if args else "")
        return Page.of(self.post(url, data, **kw))

    def who(self, source_type="public", sector=None, about=None):
        """`about`: what a young person writes about, "self" (the default) or "other" (a friend…)."""
        data = {"source_type": source_type}
        if source_type == "professional":
            data["sector"] = sector or "school"
        elif sector:
            data["sector"] = sector
        if source_type == "young":
            data["about"] = about or "self"
        return self.step("qui", data, to="/etape/enfant")

    def children(self, children):
        """Each child, then on from the list of children (a young person writing about themself has none)."""
        for i, child in enumerate(children):
            if i:
                self._moved(self.post("/etape/enfants", {"action": "add"}), "/etape/enfant")
            location = self.step("enfant", child, n=i)
            if not location.split("?")[0].endswith("/etape/enfants"):
                assert len(children) == 1, f"{location}: no list of children to add a second one"
                return location
        return self._moved(self.post("/etape/enfants", {"action": "continue"}))

    def upload(self, name: str, data: bytes, query: str = ""):
        return self.post("/etape/documents" + (f"?{query}" if query else ""),
                         {"action": "upload", "file": (io.BytesIO(data), name)},
                         content_type="multipart/form-data")

    def files_page(self) -> Page:
        return self.page("/etape/documents")

    def concern(self, concern) -> str:
        location = self.step("inquietude", concern)
        if concern.get("danger_now") == "yes":
            assert location.split("?")[0].endswith("/etape/urgence"), location
            emergency = Page.of(self.client.get(location))
            assert emergency.status == 200
            assert "17" in emergency.text and "112" in emergency.text
            nxt = [href for href, text in emergency.links if text == "Continue my report"]
            assert nxt, "the emergency page has no way to continue"
            location = nxt[0]
        return location

    def fill(self, source="public", *, children=None, adults=None, concern=None, pro=None, sender=None,
             files=(), lang=None, sector=None, about=None, until: str | None = None) -> Page | None:
        """Every step of a path up to check-your-answers; returns that page.

        With `until` (a step name), stops just before that step, on a draft holding the answers
        of every earlier step, and returns None."""
        self.start(lang)
        if until == "qui":
            return None
        if source == "young" and about is None and children is not None and len(children) > 1:
            about = "other"             # several children: a young person writing about friends
        self.who(source, sector, about)
        kids = children if children is not None else [YOUNG_CHILD if source == "young" else CHILD]
        steps = [("enfant", lambda: self.children(kids))]
        if source != "young":
            steps.append(("adultes", lambda: self.step("adultes", ADULTS if adults is None else adults,
                                                       to="/etape/inquietude")))
        steps.append(("inquietude", lambda: self.concern(CONCERN if concern is None else concern)))
        if source == "professional":
            steps.append(("professionnel", lambda: self.step("professionnel", PRO if pro is None else pro,
                                                             to="/etape/vous")))
        steps.append(("vous", lambda: self.step("vous", SENDERS[source] if sender is None else sender,
                                                to="/etape/documents")))
        steps.append(("documents", lambda: self._documents(files)))
        for name, run in steps:
            if name == until:
                return None
            run()
        assert until in (None, "verifier"), f"no step {until!r} on the {source} path"
        return self.page("/verifier")

    def _documents(self, files):
        for name, data in files:
            self._moved(self.upload(name, data), "/etape/documents")
        self._moved(self.post("/etape/documents", {"action": "continue"}), "/verifier")

    def to_check(self) -> Page:
        """From the documents step on to check-your-answers."""
        self._documents(())
        return self.page("/verifier")

    def send_from_documents(self) -> Confirmation:
        """From the documents step: check, send, and read the confirmation."""
        self.to_check()
        self._moved(self.send(), "/confirmation")
        return self.confirmation()

    def send(self, **extra):
        data = {"confirm": "y", "website": ""}
        data.update(extra)
        return self.post("/envoyer", data)

    def confirmation(self) -> Confirmation:
        page = self.page("/confirmation")
        return parse_confirmation(page)

    def report(self, source="public", **kw) -> Confirmation:
        """A whole path, sent; returns the confirmation."""
        self.fill(source, **kw)
        self._moved(self.send(), "/confirmation")
        return self.confirmation()

    # follow-up -----------------------------------------------------------------------------------

    def followup_signin(self, reference, code):
        return self.post("/suivi", {"reference": reference, "code": code})


def translated(app, msgid: str, lang: str, **variables) -> str:
    """msgid as the site shows it in `lang` (whatever the catalogs hold today)."""
    from flask_babel import gettext
    with app.test_request_context(f"/?lang={lang}"):
        return gettext(msgid, **variables)


def parse_confirmation(page: Page) -> Confirmation:
    ref = re.search(r'<strong class="num" dir="ltr">(IP-[0-9A-Z]{4}-[0-9A-Z]{4})</strong>', page.body)
    code = re.search(r'<p class="code-box"[^>]*>([^<]+)</p>', page.body)
    assert ref and code, "no reference or code on the confirmation page"
    return Confirmation(ref.group(1), "".join(code.group(1).split()), page)


# --- Database -----------------------------------------------------------------------------------

@contextmanager
def db_session(app):
    from portal.extensions import db
    with app.app_context():
        yield db.session


def count(app, model) -> int:
    with db_session(app) as s:
        return s.scalar(select(func.count()).select_from(model))


def only_ip(session):
    from portal.models import InformationPreoccupante
    ips = session.scalars(select(InformationPreoccupante)).all()
    assert len(ips) == 1, f"{len(ips)} IP rows"
    return ips[0]


def crip_key(app, code="31") -> bytes:
    return app.config["TEST_CRIP_KEYS"][code]


def dump_database(engine) -> tuple[str, bytes]:
    """Every value of every column of every table, as text and as bytes."""
    meta = MetaData()
    meta.reflect(bind=engine)
    texts, blobs = [], []
    with engine.connect() as conn:
        for table in meta.sorted_tables:
            for row in conn.execute(table.select()):
                for value in row:
                    if value is None:
                        continue
                    if isinstance(value, (bytes, bytearray, memoryview)):
                        blobs.append(bytes(value))
                    else:
                        texts.append(str(value))
    return "\n".join(texts), b"\n".join(blobs)


def assert_nowhere(secrets, text: str, blob: bytes, where: str):
    for secret in secrets:
        raw = secret.encode() if isinstance(secret, str) else secret
        if isinstance(secret, str):
            assert secret not in text, f"{secret!r} in clear in {where}"
        assert raw not in blob, f"{secret!r} in clear in {where} (bytes)"


def signed_in_agent(app):
    """A test client signed in (password + TOTP) as a CRIP agent of département 31, reading English."""
    import pyotp

    from portal.domain import staff
    from portal.extensions import db
    from tests.crip.conftest import PASSWORD, sign_in
    with app.app_context():
        u = staff.create_user(db.session, email="agent@crip.test", name="Agent", role="agent", departement="31",
                              password=PASSWORD, crip_private_key=app.config["TEST_CRIP_KEYS"]["31"])
        secret = pyotp.random_base32()
        u.totp_secret = staff.encrypt_totp_secret(app.config["SECRET_KEY"], secret)
        u.totp_enrolled = True
        db.session.commit()
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return sign_in(client, "agent@crip.test", secret)
