"""The sender's follow-up channel: sign-in with reference + code, lock-out, messages both ways."""
from __future__ import annotations

import io
import re
from datetime import datetime, timezone

import pikepdf
import pytest

from portal.domain import codes, intake, sealing
from sqlalchemy.exc import OperationalError

from portal.models import CripKey, FollowUp, Message

from .helpers import PUBLIC_SENDER, Page, Reporter, assert_nowhere, crip_key, db_session, dump_database, only_ip, signed_in_agent

NO_MATCH = ("This reference and code do not match a report, or too many attempts were made. "
            "Check them and try again later.")


def _signin(reporter, reference, code, expect=303) -> Page:
    response = reporter.followup_signin(reference, code)
    assert response.status_code == expect, Page.of(response).describe()
    if expect == 303:
        assert response.headers["Location"].endswith("/signaler/suivi/messages")
        return Page.of(reporter.client.get(response.headers["Location"]))
    return Page.of(response)


def _problem(page: Page) -> str:
    found = re.search(r'<div class="error-summary".*?<li><a href="#[^"]+">([^<]*)</a>', page.text, re.S)
    assert found, page.describe()
    return found.group(1)


def _wrong(code: str) -> str:
    return ("0" if code[0] != "0" else "1") + code[1:]


def _post_crip_message(app, text):
    with db_session(app) as s:
        ip = only_ip(s)
        key = s.get(CripKey, ip.crip_key_id)
        msg = intake.post_crip_message(s, ip=ip, crip_public_key=key.public_key, text=text,
                                       author="crip-31", now=datetime.now(timezone.utc))
        s.commit()
        return msg.id


@pytest.fixture
def sent(send_report):
    """A report whose sender prefers English: the follow-up pages speak the contact language."""
    return send_report(sender=dict(PUBLIC_SENDER, contact_language="en"))


def test_right_reference_and_code_open_the_messages(reporter, sent):
    conf = sent
    page = _signin(reporter, conf.reference, conf.code)
    assert page.status == 200
    assert conf.reference in page.text
    assert re.search(r"Status:\s*<strong>\s*received\s*</strong>", page.body)
    assert "No message yet." in page.text


@pytest.mark.parametrize("typed", [
    lambda ref, code: (ref, codes.group(code).lower()),
    lambda ref, code: (ref.lower(), " ".join(code)),
    lambda ref, code: (ref.replace("-", " "), "-".join(codes.group(code).split())),
], ids=["grouped-lowercase", "spaced", "dashes"])
def test_code_typed_loosely_still_works(reporter, sent, typed):
    conf = sent
    reference, code = typed(conf.reference, conf.code)
    assert _signin(reporter, reference, code).status == 200


def test_wrong_code_and_unknown_reference_say_the_same(reporter, sent):
    conf = sent
    wrong = _signin(reporter, conf.reference, _wrong(conf.code), expect=400)
    unknown = _signin(reporter, "IP-ZZZZ-ZZZZ", conf.code, expect=400)
    malformed = _signin(reporter, "not a reference", "short", expect=400)
    assert _problem(wrong) == _problem(unknown) == _problem(malformed) == NO_MATCH
    assert wrong.value("reference") == conf.reference
    assert 'type="password"' in wrong.body and conf.code not in wrong.body


def test_empty_signin_form(reporter):
    page = Page.of(reporter.post("/suivi", {}))
    assert page.status == 400
    assert {href for href, _t in page.error_links} == {"#reference", "#code"}
    assert {"reference", "code"} <= page.ids


def _title(page: Page) -> str:
    return " ".join(re.search(r"<title>(.*?)</title>", page.text, re.S).group(1).split())


def test_refused_signin_says_error_in_the_title_and_links_to_the_reference(reporter, sent):
    assert _title(Page.of(reporter.get("/suivi"))).startswith("Follow up a report – ")
    for data in ({}, {"reference": sent.reference, "code": _wrong(sent.code)}):
        page = Page.of(reporter.post("/suivi", data))
        assert page.status == 400 and _title(page).startswith("Error: Follow up a report – "), data
        assert page.text.count('class="error-summary"') == 1
    assert page.error_links == [("#reference", NO_MATCH)]


@pytest.mark.settings(FOLLOWUP_LOCK_AFTER=3, FOLLOWUP_LOCK_SECONDS=600, SIGNIN_DELAY_BASE_MS=1,
                      SIGNIN_DELAY_MAX_MS=5, RATELIMIT_FOLLOWUP_CHECK="1000 per minute")
def test_wrong_codes_slow_a_reference_down_but_never_lock_its_sender(app):
    reporter = Reporter(app)
    conf = reporter.report()
    for _ in range(20):
        _signin(reporter, conf.reference, _wrong(conf.code), expect=400)
    with db_session(app) as s:
        assert s.query(FollowUp).one().failed_attempts == 20
    from portal.domain import intake
    with app.app_context():
        from portal.extensions import db as _db
        delay = intake.followup_delay(_db.session, reference=conf.reference, now=datetime.now(timezone.utc),
                                      free=3, base_ms=100, max_ms=3000)
        assert delay == 3.0   # doubling past the free failures, up to the maximum
    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = "10.0.0.9"
    elsewhere = Reporter(app, client=other)
    assert _signin(elsewhere, conf.reference, conf.code).status == 200   # the sender still gets in
    with db_session(app) as s:
        assert s.query(FollowUp).one().failed_attempts == 0


@pytest.mark.settings(FOLLOWUP_LOCK_AFTER=3)
def test_right_code_resets_the_failure_count(app):
    reporter = Reporter(app)
    conf = reporter.report()
    for _ in range(2):
        _signin(reporter, conf.reference, _wrong(conf.code), expect=400)
    _signin(reporter, conf.reference, conf.code)
    for _ in range(2):
        _signin(reporter, conf.reference, _wrong(conf.code), expect=400)
    assert _signin(reporter, conf.reference, conf.code).status == 200


def test_crip_message_is_shown_and_marked_read(report_app, reporter, sent):
    conf = sent
    message_id = _post_crip_message(report_app, "Bonjour, l'enfant est-il scolarisé à Muret ?")
    page = _signin(reporter, conf.reference, conf.code)
    assert "Bonjour, l'enfant est-il scolarisé à Muret ?" in page.text
    assert "From the team" in page.text and "No message yet." not in page.text
    with db_session(report_app) as s:
        assert s.get(Message, message_id).read_at is not None


def test_sender_reply_is_sealed(report_app, reporter, sent):
    conf = sent
    _signin(reporter, conf.reference, conf.code)
    text = "RÉPONSE-CONFIDENTIELLE-8642 : oui, au collège."
    response = reporter.post("/suivi/messages", {"body": text})
    assert response.status_code == 303 and "envoye=1" in response.headers["Location"]
    page = Page.of(reporter.client.get(response.headers["Location"]))
    assert "Your message has been sent." in page.text and text in page.text
    with db_session(report_app) as s:
        msg = s.query(Message).one()
        assert msg.direction == "to_crip" and msg.read_at is None
        assert sealing.open_json(crip_key(report_app), msg.sealed_for_crip) == {"text": text}
        with pytest.raises(sealing.SealError):
            sealing.open_json(crip_key(report_app), msg.sealed_for_sender)
    dump = dump_database(report_app.extensions["portal_engine"])
    assert_nowhere(["RÉPONSE-CONFIDENTIELLE-8642"], *dump, "the database")


def test_empty_reply_is_refused(reporter, sent):
    conf = sent
    _signin(reporter, conf.reference, conf.code)
    page = Page.of(reporter.post("/suivi/messages", {"body": ""}))
    assert page.status == 400
    assert ("#body", "Write your message.") in page.error_links and "body" in page.ids
    assert _title(page).startswith(f"Error: Your report {conf.reference} – ")


def test_signout_ends_the_followup_session(reporter, sent):
    conf = sent
    _signin(reporter, conf.reference, conf.code)
    response = reporter.post("/suivi/fin")
    assert response.status_code == 302 and response.headers["Location"].endswith("/signaler/suivi")
    for method in ("get", "post"):
        response = getattr(reporter, method)("/suivi/messages")
        assert response.status_code == 302 and response.headers["Location"].endswith("/signaler/suivi")


def test_messages_need_a_signin(reporter, sent):
    response = reporter.get("/suivi/messages")
    assert response.status_code == 302 and response.headers["Location"].endswith("/signaler/suivi")


def test_followup_speaks_the_contact_language(reporter, send_report):
    conf = send_report(sender=dict(PUBLIC_SENDER, contact_language="uk"))
    page = _signin(reporter, conf.reference, conf.code)
    assert 'lang="uk"' in page.body


def test_reply_kept_on_screen_when_the_database_fails(report_app, reporter, sent, monkeypatch):
    _signin(reporter, sent.reference, sent.code)

    def db_down(*_a, **_k):
        raise OperationalError("INSERT INTO messages", {}, Exception("gone"))
    monkeypatch.setattr(intake, "post_sender_message", db_down)
    page = Page.of(reporter.post("/suivi/messages", {"body": "Texte à ne pas perdre."}))
    assert page.status == 503
    assert "Your message could not be sent" in page.text
    assert page.value("body") == "Texte à ne pas perdre."
    with db_session(report_app) as s:
        assert s.query(Message).count() == 0


@pytest.mark.settings(RATELIMIT_FOLLOWUP_CHECK="2 per 10 minutes")
def test_signin_rate_limit(app):
    reporter = Reporter(app)
    conf = reporter.report()
    for _ in range(2):
        _signin(reporter, conf.reference, _wrong(conf.code), expect=400)
    response = reporter.followup_signin(conf.reference, conf.code)
    assert response.status_code == 429 and int(response.headers["Retry-After"]) > 0
    assert Page.of(response).value("reference") == conf.reference


def test_a_copied_session_cookie_is_dead_after_signout(reporter, sent):
    _signin(reporter, sent.reference, sent.code)
    copied = reporter.client.get_cookie("session").value
    reporter.post("/suivi/fin")
    reporter.client.set_cookie("session", copied)
    response = reporter.get("/suivi/messages")
    assert response.status_code == 302 and response.headers["Location"].endswith("/signaler/suivi")


def test_a_followup_made_with_the_old_argon2id_scheme_still_opens(report_app, reporter, sent):
    """Follow-ups made before revision 0005 were derived with argon2id: after the migration they say
    so (server default), and their code still opens the messages sealed to their key."""
    from alembic import command

    from portal.migrate import alembic_config
    from sqlalchemy import text

    conf = sent
    engine = report_app.extensions["portal_engine"]
    with db_session(report_app) as s:
        fu = s.query(FollowUp).one()
        assert fu.kdf == sealing.FOLLOWUP_KDF_BLAKE2B
        # Rewrite it as the old code made it: an argon2id key pair, and the schema before 0005.
        _sk, old_pk = sealing.derive_keypair(conf.code, fu.kdf_salt, sealing.FOLLOWUP_KDF_ARGON2ID)
        fu.public_key = old_pk
        s.commit()
    _post_crip_message(report_app, "Message sealed to the old key")
    cfg = alembic_config(str(engine.url.render_as_string(hide_password=False)))
    with engine.begin() as connection:
        # SQLite rebuilds tables to drop columns: without this, ON DELETE CASCADE would empty them.
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, "0004")
        assert "kdf" not in [r[1] for r in connection.execute(text("PRAGMA table_info(followups)"))]
        command.upgrade(cfg, "head")
        connection.exec_driver_sql("PRAGMA foreign_keys=ON")
    with db_session(report_app) as s:
        assert s.query(FollowUp).one().kdf == sealing.FOLLOWUP_KDF_ARGON2ID

    page = _signin(reporter, conf.reference, conf.code)
    assert page.status == 200
    assert "Message sealed to the old key" in page.text


def test_messages_keep_line_breaks_without_blank_gaps(report_app, reporter, sent):
    _post_crip_message(report_app, "Bonjour,\r\n\r\n\r\n\r\nPouvez-vous nous rappeler ?\nMerci.")
    page = _signin(reporter, sent.reference, sent.code)
    assert "<p>Bonjour,</p><p>Pouvez-vous nous rappeler ?<br>Merci.</p>" in page.body


# Adding information and files after sending (the confirmation promises it) ----------------------

def _pdf() -> bytes:
    pdf = pikepdf.new()
    pdf.add_blank_page()
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def _add(reporter, body, *files):
    return reporter.post("/suivi/messages", {"body": body, "files": [(io.BytesIO(d), n) for n, d in files]},
                         content_type="multipart/form-data")



def test_the_followup_page_offers_a_file_input(reporter, sent):
    page = _signin(reporter, sent.reference, sent.code)
    assert re.search(r'<form method="post" enctype="multipart/form-data"', page.body)
    assert re.search(r'<input type="file" id="files" name="files" multiple', page.body)
    assert re.search(r'<label for="files">Documents <span class="optional">\(optional\)</span></label>', page.body)
    assert "You can attach up to 5 files of up to 10 MB each" in page.text


def test_sender_adds_a_pdf_and_a_note_the_crip_reads_both(report_app, reporter, sent):
    from portal.models import Attachment
    pdf = _pdf()
    _signin(reporter, sent.reference, sent.code)
    note = "NOTE-APRÈS-ENVOI-5531 : voici le certificat du médecin."
    response = _add(reporter, note, ("certificat.pdf", pdf))
    assert response.status_code == 303 and "envoye=1" in response.headers["Location"]
    page = Page.of(reporter.client.get(response.headers["Location"]))
    assert "Your message has been sent." in page.text and note in page.text
    assert re.search(r"<p>Attached files</p><ul><li dir=\"auto\">certificat\.pdf</li></ul>", page.body)

    with db_session(report_app) as s:
        msg = s.query(Message).one()
        assert msg.direction == "to_crip" and msg.read_at is None
        assert sealing.open_json(crip_key(report_app), msg.sealed_for_crip) == {"text": note, "files": ["certificat.pdf"]}
        att = s.query(Attachment).one()
        assert att.message_id == msg.id and att.mime == "application/pdf" and att.created_at is not None
        meta, data = intake.open_attachment(crip_key(report_app), att.sealed)
        assert meta["name"] == "certificat.pdf" and data.startswith(b"%PDF")
        att_id = att.id
    dump = dump_database(report_app.extensions["portal_engine"])
    assert_nowhere(["NOTE-APRÈS-ENVOI-5531", "certificat"], *dump, "the database")

    agent = signed_in_agent(report_app)
    queue = agent.get("/crip/?lang=en").get_data(as_text=True)
    assert sent.reference in queue
    case = agent.get(f"/crip/ip/{sent.reference}?lang=en")
    assert case.status_code == 200
    body = case.get_data(as_text=True)
    assert "1 new message from the sender" in body and note in body
    link = f"/crip/ip/{sent.reference}/piece/{att_id}"
    found = re.search(re.escape(link) + r'" download>certificat\.pdf</a> \(application/pdf, [\d.]+ KB\) – From the sender, ',
                      body)
    assert found, body
    download = agent.get(link)
    assert download.status_code == 200 and download.data.startswith(b"%PDF")
    assert pikepdf.open(io.BytesIO(download.data)).pages


def test_a_refused_file_keeps_the_note_typed(report_app, reporter, sent):
    _signin(reporter, sent.reference, sent.code)
    note = "Une note que je ne veux pas retaper."
    page = Page.of(_add(reporter, note, ("programme.pdf", b"MZ\x90\x00" + bytes(range(256)) * 4)))
    assert page.status == 400
    refusal = ("This type of file is not accepted. Send a PDF, a photo (JPEG, PNG, WebP), a Word or "
               "OpenDocument text, or a text file.")
    assert ("#files", refusal) in page.error_links
    assert page.value("body") == note
    assert "files-error" in page.ids
    with db_session(report_app) as s:
        assert s.query(Message).count() == 0


def test_too_many_files_keep_the_note_typed(report_app, reporter, sent):
    _signin(reporter, sent.reference, sent.code)
    pdf = _pdf()
    page = Page.of(_add(reporter, "Six pièces.", *[(f"p{i}.pdf", pdf) for i in range(6)]))
    assert page.status == 400
    assert ("#files", "You can attach at most 5 files.") in page.error_links
    assert page.value("body") == "Six pièces."
    with db_session(report_app) as s:
        assert s.query(Message).count() == 0


def test_files_without_a_note_are_enough(report_app, reporter, sent):
    _signin(reporter, sent.reference, sent.code)
    response = _add(reporter, "", ("note.txt", "Le nom de l'école : Jean-Jaurès.".encode()))
    assert response.status_code == 303
    with db_session(report_app) as s:
        from portal.models import Attachment
        assert s.query(Attachment).one().message_id == s.query(Message).one().id
