"""Sending the IP: exactly once, never half, never lost when the database fails, never in clear."""
from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlalchemy.exc import OperationalError

from portal.domain import intake
from portal.models import (
    Attachment, CripKey, Draft, DraftFile, FollowUp, InformationPreoccupante, IpCategory, IpChild,
)

from .helpers import (
    CHILD, CONCERN, PUBLIC_SENDER, Page, Reporter, assert_nowhere, count, db_session, dump_database, only_ip,
)

URGENT_SENTENCE = "If it is urgent, call the 119 (free, 24/7), or 17 or 112 if a child is in danger right now."
CRIP_PHONE = "0 800 31 08 08"
IP_TABLES = (InformationPreoccupante, IpChild, IpCategory, Attachment, FollowUp)


def _nothing_stored(app):
    for model in IP_TABLES:
        assert count(app, model) == 0, f"{model.__tablename__} has rows"


def _assert_send_failed(response, *typed):
    page = Page.of(response)
    assert page.status == 503, page.describe()
    assert "Your report could not be sent" in page.text
    assert URGENT_SENTENCE in page.text and CRIP_PHONE in page.text
    for text in typed:
        assert text in page.text, f"{text!r} is no longer on screen"
    assert page.has_field("confirm"), "the page still lets the sender try again"
    return page


# --- exactly once ------------------------------------------------------------------------------------

def test_double_post_and_refresh_give_the_same_confirmation(report_app, reporter):
    reporter.fill()
    first = reporter.send()
    assert first.status_code == 303 and first.headers["Location"].endswith("/confirmation")
    conf = reporter.confirmation()
    second = reporter.send()
    assert second.status_code in (302, 303) and second.headers["Location"].endswith("/confirmation")
    again = reporter.confirmation()
    refreshed = reporter.confirmation()
    assert (conf.reference, conf.code) == (again.reference, again.code) == (refreshed.reference, refreshed.code)
    assert count(report_app, InformationPreoccupante) == 1
    # The steps of a sent draft lead to its confirmation, not to a second report.
    for path in ("/etape/inquietude", "/verifier"):
        response = reporter.get(path)
        assert response.status_code == 302 and response.headers["Location"].endswith("/confirmation")


def test_finish_forgets_the_confirmation(report_app, reporter, send_report):
    send_report()
    response = reporter.post("/terminer")
    assert response.status_code == 302
    assert reporter.get("/confirmation").status_code == 302
    assert reporter.client.get_cookie("ipdraft") is None
    assert count(report_app, InformationPreoccupante) == 1


def _post_twice_at_once(app, monkeypatch=None):
    """Two browsers holding the same draft cookie press "Send" at the same moment.

    With `monkeypatch`, both requests are held until both are inside intake.submit, so that
    both have read the draft as not sent: the database's unique submission token must decide."""
    first = Reporter(app)
    first.fill()
    second = Reporter(app, client=app.test_client())
    second.client.set_cookie("ipdraft", first.client.get_cookie("ipdraft").value)
    if monkeypatch is not None:
        inside = threading.Barrier(2, timeout=10)
        real_submit = intake.submit

        def submit_together(*args, **kwargs):
            inside.wait()
            return real_submit(*args, **kwargs)
        monkeypatch.setattr(intake, "submit", submit_together)
    start = threading.Barrier(2, timeout=10)
    responses = {}

    def send(name, reporter):
        start.wait()
        responses[name] = reporter.send()

    threads = [threading.Thread(target=send, args=(name, r)) for name, r in (("a", first), ("b", second))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert count(app, InformationPreoccupante) == 1
    statuses = sorted(r.status_code for r in responses.values())
    assert all(r.headers.get("Location", "").endswith("/confirmation") for r in responses.values()), statuses
    a, b = first.confirmation(), second.confirmation()
    assert (a.reference, a.code) == (b.reference, b.code)


def test_concurrent_double_post_makes_one_ip(any_app):
    _post_twice_at_once(any_app)


def test_concurrent_double_post_inside_submit_makes_one_ip(any_app, monkeypatch):
    _post_twice_at_once(any_app, monkeypatch)


# --- suspected automation: kept, flagged ----------------------------------------------------------

def test_honeypot_filled_is_kept_and_flagged(report_app, reporter):
    reporter.fill()
    response = reporter.send(website="http://spam.example")
    assert response.status_code == 303
    reporter.confirmation()
    with db_session(report_app) as s:
        assert only_ip(s).probably_automated is True


def test_too_fast_is_kept_and_flagged(report_app, reporter):
    report_app.config["FORM_MIN_SECONDS"] = 3600
    reporter.report()
    with db_session(report_app) as s:
        assert only_ip(s).probably_automated is True


@pytest.mark.settings(RATELIMIT_SEND="1 per hour")
def test_send_rate_limit_keeps_the_answers(app):
    Reporter(app).report()
    second = Reporter(app)
    second.fill()
    page = Page.of(second.send())
    assert page.status == 429 and int(second.send().headers["Retry-After"]) > 0
    assert "Please wait a moment" in page.text and CRIP_PHONE in page.text
    assert CONCERN["account"] in page.text and page.has_field("confirm")
    assert count(app, InformationPreoccupante) == 1


# --- failures while sending ----------------------------------------------------------------------

def _db_down(*_args, **_kwargs):
    raise OperationalError("INSERT INTO ips ...", {}, Exception("server closed the connection"))


def test_database_down_keeps_the_answers(report_app, reporter, monkeypatch):
    reporter.fill()
    monkeypatch.setattr(intake, "submit", _db_down)
    _assert_send_failed(reporter.send(), CONCERN["account"], PUBLIC_SENDER["name"], "Léa Martin")
    _nothing_stored(report_app)
    monkeypatch.undo()
    response = reporter.send()
    assert response.status_code == 303
    reporter.confirmation()
    assert count(report_app, InformationPreoccupante) == 1


def test_failure_after_flush_leaves_nothing_half_written(report_app, reporter, monkeypatch):
    real_submit = intake.submit
    flushed = []

    def submit_then_fail(session, **kwargs):
        receipt = real_submit(session, **kwargs)
        flushed.append(session.get(InformationPreoccupante, receipt.ip_id) is not None)
        raise OperationalError("COMMIT", {}, Exception("connection lost"))

    reporter.fill(children=[CHILD, dict(CHILD, first_name="Théo")],
                  files=[("note.txt", "Certificat du médecin".encode())])
    monkeypatch.setattr(intake, "submit", submit_then_fail)
    _assert_send_failed(reporter.send(), CONCERN["account"], "Théo", "note.txt")
    assert flushed == [True], "the IP was written (flushed) before the failure"
    _nothing_stored(report_app)
    with db_session(report_app) as s:
        draft = s.query(Draft).one()
        assert draft.ip_id is None and len(draft.files) == 1, "the draft and its file are intact"
    monkeypatch.undo()
    assert reporter.send().status_code == 303
    with db_session(report_app) as s:
        ip = only_ip(s)
        assert (len(ip.children), len(ip.attachments)) == (2, 1)


def test_no_active_crip_key_refuses_without_losing_anything(report_app, reporter):
    reporter.fill()
    with db_session(report_app) as s:
        s.execute(update(CripKey).values(active=False))
        s.commit()
    _assert_send_failed(reporter.send(), CONCERN["account"], PUBLIC_SENDER["phone"])
    _nothing_stored(report_app)
    with db_session(report_app) as s:
        s.execute(update(CripKey).where(CripKey.departement == "31").values(active=True))
        s.commit()
    assert reporter.send().status_code == 303
    assert count(report_app, InformationPreoccupante) == 1


# --- encryption at rest -----------------------------------------------------------------------------

SECRET_CHILD = dict(CHILD, first_name="Zéphyrine", last_name="Quillebeuf", address="7 impasse des Grivoiseries")
SECRET_ACCOUNT = "XYLOPHONE-SECRET-42: elle dort dans la cage d'escalier."
SECRET_SENDER = dict(PUBLIC_SENDER, name="Gontran Pichegru", phone="0687654321", email="gontran.pichegru@example.org")
SECRET_FILE = ("quillebeuf-certificat.txt", "CONTENU-DU-FICHIER-7731 certificat médical".encode())
SECRETS = ["Zéphyrine", "Quillebeuf", "Grivoiseries", "XYLOPHONE-SECRET-42", "Gontran Pichegru", "0687654321",
           "gontran.pichegru@example.org", "pichegru", "CONTENU-DU-FICHIER-7731"]


def _sqlite_files(app) -> bytes:
    path = Path(app.config["DATABASE_URL"].removeprefix("sqlite:///"))
    return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal"), Path(f"{path}-journal")) if p.exists())


def _assert_sealed_everywhere(app, secrets, when: str):
    engine = app.extensions["portal_engine"]
    text, blob = dump_database(engine)
    assert_nowhere(secrets, text, blob, f"the database {when}")
    if engine.dialect.name == "sqlite":
        raw = _sqlite_files(app)
        assert len(raw) > 0
        for secret in secrets:
            assert secret.encode() not in raw, f"{secret!r} in the SQLite file {when}"


def _send_secret_report(app):
    reporter = Reporter(app)
    reporter.fill(until="inquietude", children=[SECRET_CHILD])
    reporter.step("inquietude", dict(CONCERN, account=SECRET_ACCOUNT))
    reporter.step("vous", SECRET_SENDER)
    reporter._moved(reporter.upload(*SECRET_FILE), "/etape/documents")
    with db_session(app) as s:
        assert s.query(Draft).count() == 1 and s.query(DraftFile).count() == 1
    _assert_sealed_everywhere(app, SECRETS, "while the form is in progress")
    check = reporter.to_check()
    assert all(s in check.text for s in ("Zéphyrine Quillebeuf", "XYLOPHONE-SECRET-42", SECRET_SENDER["email"]))
    assert reporter.send().status_code == 303
    reporter.confirmation()
    with db_session(app) as s:
        ip = only_ip(s)
        assert len(ip.attachments) == 1
    _assert_sealed_everywhere(app, SECRETS, "after sending")
    return reporter


def test_nothing_typed_is_stored_in_clear_sqlite(report_app):
    reporter = _send_secret_report(report_app)
    # The follow-up messages are sealed as well.
    conf = reporter.confirmation()
    signin = reporter.followup_signin(conf.reference, conf.code)
    reporter.client.post(signin.headers["Location"], data={"body": "MESSAGE-SECRET-5150 de Zéphyrine"})
    _assert_sealed_everywhere(report_app, SECRETS + ["MESSAGE-SECRET-5150"], "after a follow-up message")


@pytest.mark.postgres
def test_nothing_typed_is_stored_in_clear_postgresql(pg_app):
    assert pg_app.extensions["portal_engine"].dialect.name == "postgresql"
    _send_secret_report(pg_app)
