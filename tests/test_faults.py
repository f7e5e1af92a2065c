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
    c = app.test_client()
    c.set_cookie("ipdraft", "A" * 32 + "." + "B" * 43)   # well-formed: looked up in the database
    r = c.get("/signaler/etape/qui", headers={"Accept-Language": "en"})
    assert r.status_code == 503 and b"119" in r.data
    assert c.get("/healthz").status_code == 503


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
