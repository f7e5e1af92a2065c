"""Faults: the database going away in the middle of a send (through a TCP proxy that we cut, on
real PostgreSQL), and property-based fuzzing of every form step and URL parameter."""
from __future__ import annotations

import re
import socket
import threading

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import create_engine, func, select, text

from tests.conftest import make_app


class CuttableProxy:
    """A loopback TCP proxy to PostgreSQL whose connections can be cut at any moment."""

    def __init__(self, target=("127.0.0.1", 5432)):
        self.target = target
        self.server = socket.socket()
        self.server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(16)
        self.port = self.server.getsockname()[1]
        self.accepting = True
        self.pairs = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            if not self.accepting:
                client.close()
                continue
            upstream = socket.create_connection(self.target)
            with self.lock:
                self.pairs.append((client, upstream))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(a, b):
        try:
            while True:
                data = a.recv(65536)
                if not data:
                    break
                b.sendall(data)
        except OSError:
            pass
        finally:
            for s in (a, b):
                try:
                    s.close()
                except OSError:
                    pass

    def cut(self):
        self.accepting = False
        with self.lock:
            for a, b in self.pairs:
                for s in (a, b):
                    try:
                        s.shutdown(socket.SHUT_RDWR)
                        s.close()
                    except OSError:
                        pass
            self.pairs.clear()

    def restore(self):
        self.accepting = True

    def close(self):
        self.cut()
        self.server.close()


def _fill(client, account):
    client.post("/signaler/commencer")
    client.post("/signaler/etape/qui", data={"source_type": "public"})
    client.post("/signaler/etape/enfant?n=0", data={"first_name": "Léa", "age": "6", "postcode": "31000"})
    client.post("/signaler/etape/enfants", data={"action": "continue"})
    client.post("/signaler/etape/adultes", data={})
    client.post("/signaler/etape/inquietude", data={"categories": ["neglect"], "account": account, "danger_now": "no"})
    client.post("/signaler/etape/vous", data={"anonymous": "yes", "contact_language": "fr"})
    client.post("/signaler/etape/documents", data={"action": "continue"})


def test_postgresql_going_away_mid_send(tmp_path, pg_url, monkeypatch):
    """The connection dies after the IP rows were written but before the commit: the sender gets the
    503 page with answers and phone numbers; nothing half-written remains; once the database is
    back, the same draft is sent exactly once."""
    proxy = CuttableProxy()
    try:
        url = re.sub(r"@127\.0\.0\.1:5432/", f"@127.0.0.1:{proxy.port}/", pg_url)
        app = make_app(tmp_path, PORTAL_DEPARTEMENTS=["31"], DATABASE_URL=url)
        client = app.test_client()
        _fill(client, "Texte qui doit survivre à la panne")
        from portal.domain import intake
        real_submit = intake.submit

        database = pg_url.rsplit("/", 1)[1]

        def submit_then_lose_the_database(*args, **kwargs):
            receipt = real_submit(*args, **kwargs)   # rows flushed inside the transaction
            proxy.cut()                               # the database goes away before the commit...
            with create_engine(pg_url, isolation_level="AUTOCOMMIT").connect() as admin:
                # ...and, as a restarting server does, ends every session it had (their work is lost)
                admin.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                   "WHERE datname = :d AND pid <> pg_backend_pid()"), {"d": database})
            return receipt

        monkeypatch.setattr(intake, "submit", submit_then_lose_the_database)
        r = client.post("/signaler/envoyer", data={"confirm": "y"}, headers={"Accept-Language": "en"})
        assert r.status_code == 503
        page = r.data.decode()
        assert "Texte qui doit survivre à la panne" in page and "119" in page and "0 800 31 08 08" in page
        direct = create_engine(pg_url)
        with direct.connect() as conn:
            assert conn.scalar(text("SELECT count(*) FROM ips")) == 0
            assert conn.scalar(text("SELECT count(*) FROM ip_children")) == 0
        proxy.restore()
        monkeypatch.setattr(intake, "submit", real_submit)
        app.extensions["portal_engine"].dispose()
        r = client.post("/signaler/envoyer", data={"confirm": "y"})
        assert r.status_code == 303
        assert client.post("/signaler/envoyer", data={"confirm": "y"}).status_code == 302   # already sent
        with direct.connect() as conn:
            assert conn.scalar(text("SELECT count(*) FROM ips")) == 1
            assert conn.scalar(text("SELECT count(*) FROM ip_children")) == 1
        direct.dispose()
    finally:
        proxy.close()
        from portal.models import Base
        cleanup = create_engine(pg_url)
        with cleanup.begin() as conn:   # leave the session's database as pg_app expects it
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
            for table in reversed(Base.metadata.sorted_tables):
                conn.execute(text(f'DROP TABLE IF EXISTS "{table.name}" CASCADE'))
        cleanup.dispose()


def test_database_unreachable_on_a_page_gives_503_not_500(tmp_path):
    app = make_app(tmp_path, PORTAL_DEPARTEMENTS=["31"])
    app.extensions["portal_engine"].dispose()
    from sqlalchemy import create_engine as ce
    from sqlalchemy.orm import sessionmaker
    bad = ce("postgresql+psycopg://nobody@127.0.0.1:1/none", connect_args={"connect_timeout": 1})
    app.extensions["portal_db"] = sessionmaker(bind=bad)
    app.extensions["portal_engine"] = bad      # (a draft is read on a connection of its own)
    c = app.test_client()
    c.set_cookie("ipdraft", "A" * 32 + "." + "B" * 43)   # well-formed: looked up in the database
    r = c.get("/signaler/etape/qui", headers={"Accept-Language": "en"})
    assert r.status_code == 503 and b"119" in r.data
    assert c.get("/healthz").status_code == 503


# A real PostgreSQL stopped, started and frozen -----------------------------------------------------

from tests.conftest import CI  # noqa: E402
from tests.throwaway import ThrowawayPostgres  # noqa: E402

CRIP_31 = "0 800 31 08 08"


@pytest.fixture(scope="module")
def throwaway_pg():
    """A PostgreSQL cluster of these tests only (initdb/pg_ctl on its own port and data directory):
    stopping or freezing it touches nobody else. Required under CI=true."""
    if not ThrowawayPostgres.available():
        if CI:
            pytest.fail("initdb/pg_ctl (PostgreSQL server binaries) are required under CI=true")
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) not installed")
    with ThrowawayPostgres() as pg:
        yield pg


@pytest.fixture
def outage_app(tmp_path, throwaway_pg):
    import uuid
    throwaway_pg.start() if throwaway_pg.postmaster_pid() is None else None
    url = throwaway_pg.create_database(f"faults_{uuid.uuid4().hex[:8]}")
    app = make_app(tmp_path, PORTAL_DEPARTEMENTS=["31"], DATABASE_URL=url, DATABASE_STATEMENT_TIMEOUT=1,
                   DATABASE_CONNECT_TIMEOUT=2)
    yield app
    throwaway_pg.thaw()
    if throwaway_pg.postmaster_pid() is None:
        throwaway_pg.start()
    app.extensions["portal_engine"].dispose()


def _assert_503_with_numbers(r):
    page = r.data.decode()
    assert r.status_code == 503, (r.status_code, page[:300])
    assert "119" in page and "112" in page and "17" in page and CRIP_31 in page, page


@pytest.mark.postgres
def test_postgresql_stopping_after_the_page_is_built_is_no_bare_error(outage_app, throwaway_pg):
    """The database stops after the view has read from it, while the request's session is still open:
    the teardown must not raise (gunicorn would answer a bare "Internal Server Error")."""
    stop_now = []

    @outage_app.after_request
    def _stop_the_database(response):
        if stop_now:
            stop_now.clear()
            throwaway_pg.stop("fast")
        return response

    client = outage_app.test_client()
    client.post("/signaler/commencer")
    stop_now.append(True)
    r = client.get("/signaler/etape/qui", headers={"Accept-Language": "en"})   # read the draft, then stop
    assert r.status_code == 200 and "Who are you?" in r.data.decode()
    assert throwaway_pg.postmaster_pid() is None
    _assert_503_with_numbers(client.get("/signaler/etape/qui?lang=en"))
    assert client.get("/healthz").status_code == 503
    throwaway_pg.start()
    r = client.post("/signaler/etape/qui", data={"source_type": "public"})
    assert r.status_code == 302 and "/signaler/etape/enfant" in r.headers["Location"]


@pytest.mark.postgres
def test_every_phase_of_an_outage_answers_503_with_the_numbers(outage_app, throwaway_pg):
    """Stopped between requests (connect fails), stopped mid-request (query and commit fail): always the
    503 page with 17/112/119 and the CRIP line; back up, the person continues where they were."""
    client = outage_app.test_client()
    client.post("/signaler/commencer")
    client.post("/signaler/etape/qui", data={"source_type": "public"})
    throwaway_pg.stop("fast")
    for path in ("/signaler/etape/qui", "/signaler/etape/enfant?n=0", "/signaler/verifier", "/signaler/suivi"):
        r = client.get(path, headers={"Accept-Language": "en"})
        if path == "/signaler/suivi":
            assert r.status_code == 200   # needs no database until a code is checked
            continue
        _assert_503_with_numbers(r)
    _assert_503_with_numbers(client.post("/signaler/commencer", headers={"Accept-Language": "en"}))
    throwaway_pg.start()
    # stopped between the read of the draft and the commit of the step
    from portal.report import drafts
    real_save = drafts.DraftState.save

    def stop_then_save(self):
        throwaway_pg.stop("fast")
        return real_save(self)

    drafts.DraftState.save = stop_then_save
    try:
        r = client.post("/signaler/etape/enfant?n=0", data={"first_name": "Léa", "age": "6", "postcode": "31000"},
                        headers={"Accept-Language": "en"})
    finally:
        drafts.DraftState.save = real_save
    _assert_503_with_numbers(r)
    throwaway_pg.start()
    r = client.get("/signaler/etape/qui")
    assert r.status_code == 200 and 'value="public" checked' in r.data.decode().replace("checked=\"checked\"", "checked")


@pytest.mark.postgres
def test_a_frozen_database_costs_seconds_not_the_worker(outage_app, throwaway_pg):
    """SIGSTOP the server: pooled connections stay open and nothing answers. With a 1 s statement timeout,
    a request gives up within a few seconds (client-side wait, then connect timeout) with the 503 page."""
    import time
    client = outage_app.test_client()
    client.post("/signaler/commencer")
    assert client.get("/signaler/etape/qui").status_code == 200   # a pooled connection exists
    throwaway_pg.freeze()
    try:
        t0 = time.monotonic()
        r = client.get("/signaler/etape/qui", headers={"Accept-Language": "en"})
        elapsed = time.monotonic() - t0
        _assert_503_with_numbers(r)
        assert elapsed < 8, elapsed
        t0 = time.monotonic()
        assert client.get("/healthz").status_code == 503
        assert time.monotonic() - t0 < 8
    finally:
        throwaway_pg.thaw()
    assert client.get("/signaler/etape/qui").status_code == 200


class _FormReader:
    """What a browser would send back from the first <form method=post> of a page."""

    def __init__(self, page: str):
        from html.parser import HTMLParser
        self.action, self.fields = None, []
        reader = self
        state = {"in_form": False, "select": None, "textarea": None, "done": False}

        class P(HTMLParser):
            def handle_starttag(self, tag, attrs):
                a = dict(attrs)
                if state["done"]:
                    return
                if tag == "form" and a.get("method") == "post":
                    state["in_form"] = True
                    reader.action = a.get("action")
                if not state["in_form"]:
                    return
                if tag == "input" and a.get("name"):
                    kind = a.get("type", "text")
                    if kind in ("radio", "checkbox"):
                        if "checked" in a:
                            reader.fields.append((a["name"], a.get("value", "on")))
                    else:
                        reader.fields.append((a["name"], a.get("value", "")))
                elif tag == "select":
                    state["select"] = a.get("name")
                elif tag == "option" and state["select"] and "selected" in a:
                    reader.fields.append((state["select"], a.get("value", "")))
                elif tag == "textarea":
                    state["textarea"] = [a.get("name"), ""]

            def handle_endtag(self, tag):
                if tag == "select":
                    state["select"] = None
                elif tag == "textarea" and state["textarea"]:
                    name, text = state["textarea"]
                    if text.startswith("\r\n"):       # as browsers do, the newline after <textarea> is dropped
                        text = text[2:]
                    elif text.startswith("\n"):
                        text = text[1:]
                    reader.fields.append((name, text))
                    state["textarea"] = None
                elif tag == "form" and state["in_form"]:
                    state["in_form"], state["done"] = False, True

            def handle_data(self, data):
                if state["textarea"]:
                    state["textarea"][1] += data

        P(convert_charrefs=True).feed(page)

    def value(self, name):
        return [v for n, v in self.fields if n == name]


@pytest.mark.postgres
def test_what_was_typed_comes_back_during_an_outage_and_goes_through_after(outage_app, throwaway_pg):
    """A step posted while PostgreSQL is stopped: 503 with the numbers and every typed value in a form field
    (same labels); sent again once the database is back, the draft continues from there. A send that
    cannot load its draft says so, with the numbers, and goes through when sent again."""
    from werkzeug.datastructures import MultiDict
    client = outage_app.test_client()
    client.get("/?lang=en")
    client.post("/signaler/commencer")
    client.post("/signaler/etape/qui", data={"source_type": "public"})
    client.post("/signaler/etape/enfant?n=0", data={"first_name": "Léa", "age": "6", "postcode": "31000"})
    client.post("/signaler/etape/enfants", data={"action": "continue"})
    client.post("/signaler/etape/adultes", data={})
    throwaway_pg.stop("fast")
    account = "Elle arrive seule à l'école <le matin>, affamée & triste."
    typed = MultiDict([("categories", "neglect"), ("categories", "psychological"), ("account", account),
                       ("since", "weeks"), ("danger_now", "no")])
    r = client.post("/signaler/etape/inquietude", data=typed)
    _assert_503_with_numbers(r)
    page = r.data.decode()
    assert "What worries you?" in page and "Describe what you saw, heard or were told" in page   # the step's labels
    form = _FormReader(page)
    assert form.action == "/signaler/etape/inquietude"
    assert sorted(form.value("categories")) == ["neglect", "psychological"]
    assert form.value("account") == [account] and form.value("since") == ["weeks"] and form.value("danger_now") == ["no"]
    assert "neglect" not in page.split("<form", 1)[0]   # words before the form, not codes
    throwaway_pg.start()
    r = client.post(form.action, data=MultiDict(form.fields))
    assert r.status_code == 302 and r.headers["Location"].endswith("/signaler/etape/vous")
    client.post("/signaler/etape/vous", data={"anonymous": "yes", "contact_language": "fr"})
    client.post("/signaler/etape/documents", data={"action": "continue"})
    from markupsafe import escape
    assert str(escape(account)) in client.get("/signaler/verifier").data.decode()

    throwaway_pg.stop("fast")
    r = client.post("/signaler/envoyer", data={"confirm": "y", "website": ""})
    _assert_503_with_numbers(r)
    page = r.data.decode()
    assert "Your report could not be sent" in page
    form = _FormReader(page)
    assert form.action == "/signaler/envoyer" and form.value("confirm") == ["y"]
    throwaway_pg.start()
    r = client.post(form.action, data=MultiDict(form.fields))
    assert r.status_code == 303 and r.headers["Location"].endswith("/signaler/confirmation")
    assert re.search(r"IP-[0-9A-Z]{4}-[0-9A-Z]{4}", client.get("/signaler/confirmation").data.decode())


@pytest.mark.postgres
def test_a_child_step_posted_during_an_outage_keeps_every_field(outage_app, throwaway_pg):
    from werkzeug.datastructures import MultiDict
    client = outage_app.test_client()
    client.get("/?lang=en")
    client.post("/signaler/commencer")
    client.post("/signaler/etape/qui", data={"source_type": "public"})
    throwaway_pg.stop("fast")
    typed = {"first_name": "Anaïs-Ω", "last_name": "Dupont", "age": "7", "sex": "f", "school": "École du Port, CE1",
             "postcode": "31000", "address": "12 rue des Lilas", "lives_with": "mother", "action": "save"}
    r = client.post("/signaler/etape/enfant?n=0", data=typed)
    _assert_503_with_numbers(r)
    form = _FormReader(r.data.decode())
    assert form.action == "/signaler/etape/enfant?n=0"
    for name, value in typed.items():
        assert form.value(name) == [value], name
    throwaway_pg.start()
    r = client.post(form.action, data=MultiDict(form.fields))
    assert r.status_code == 302 and r.headers["Location"].endswith("/signaler/etape/enfants")
    assert "Anaïs-Ω" in client.get("/signaler/etape/enfants").data.decode()


# Property-based fuzzing ---------------------------------------------------------------------------

STEPS = ["qui", "enfant", "enfants", "adultes", "inquietude", "professionnel", "vous", "documents", "urgence", "nope"]
FIELDS = ["source_type", "sector", "first_name", "last_name", "birth_date", "age", "age_estimate", "sex",
          "postcode", "commune", "postcode_unknown", "address", "lives_with", "categories", "account", "since",
          "danger_now", "anonymous", "name", "relation", "phone", "email", "contact_language", "wants_feedback",
          "action", "retour", "facts-0-when", "facts-0-what", "facts-99-what", "parents_told", "confirm",
          "website", "reference", "code", "body", "establishment", "author_name", "author_role"]
junk = st.one_of(st.text(max_size=300), st.sampled_from(["", "0", "-1", "99999999999", "2099-13-45", "yes", "no",
                                                          "remove-0", "remove-99", "add", "add_fact", "save",
                                                          "find_communes", "31000", "2A004", "\x00", "../../etc",
                                                          "<script>alert(1)</script>", "' OR 1=1 --"]))


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory):
    return make_app(tmp_path_factory.mktemp("fuzz"), PORTAL_DEPARTEMENTS=["31"], RATELIMIT_ENABLED=False)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(step=st.sampled_from(STEPS), n=st.one_of(st.none(), junk),
       data=st.dictionaries(st.sampled_from(FIELDS), st.one_of(junk, st.lists(junk, max_size=3)), max_size=12),
       send=st.booleans())
def test_no_form_input_gives_a_500_or_stores_an_invalid_ip(fuzz_app, step, n, data, send):
    from portal.extensions import db
    from portal.models import InformationPreoccupante
    client = fuzz_app.test_client()
    client.post("/signaler/commencer")
    query = {} if n is None else {"n": n}
    r = client.post(f"/signaler/etape/{step}", data=data, query_string=query)
    assert r.status_code < 500, (step, data, r.status_code)
    r = client.get(f"/signaler/etape/{step}", query_string=query)
    assert r.status_code < 500
    with fuzz_app.app_context():
        before = db.session.scalar(select(func.count()).select_from(InformationPreoccupante))
    if send:
        r = client.post("/signaler/envoyer", data=data)
        assert r.status_code < 500
    with fuzz_app.app_context():
        after = db.session.scalar(select(func.count()).select_from(InformationPreoccupante))
    # an IP can only come from a complete draft: a fuzzed single step never has one
    assert after == before


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=st.sampled_from(["/", "/contacts", "/signaler/", "/signaler/suivi", "/signaler/verifier",
                             "/signaler/confirmation", "/signaler/confirmation/copie.pdf", "/crip/",
                             "/crip/connexion", "/crip/ip/IP-AAAA-BBBB", "/theme/31.css", "/sortie"]),
       params=st.dictionaries(st.sampled_from(["lang", "q", "n", "expire", "change", "after", "ref", "status",
                                               "urgency", "category", "age", "retour", "next"]), junk, max_size=5),
       segment=st.one_of(st.none(), junk))
def test_no_url_parameter_gives_a_500(fuzz_app, path, params, segment):
    client = fuzz_app.test_client()
    r = client.get(path, query_string=params)
    assert r.status_code < 500, (path, params)
    if segment is not None:
        from urllib.parse import quote
        r = client.get("/signaler/etape/" + quote(segment, safe=""))
        assert r.status_code < 500
        r = client.get("/crip/ip/" + quote(segment, safe=""))
        assert r.status_code < 500
