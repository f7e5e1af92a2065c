"""The queue as the agent's desk and the case page in one screen: common filters with counts, rows in
words, unread sender messages flagged and counted, one form per change with only its fields, notices,
a specific error for an empty message; earlier IPs about the same child."""
from __future__ import annotations

import re
from datetime import datetime, timezone

from sqlalchemy import select

from portal.domain import intake, keys
from portal.extensions import db
from portal.models import InformationPreoccupante as IP, Message, StaffUser

from tests.crip.conftest import add_ip


def _reply(app, reference, text):
    with app.app_context():
        ip = db.session.scalar(select(IP).where(IP.reference == reference))
        intake.post_sender_message(db.session, ip=ip, crip_public_key=keys.active_key(db.session, "31").public_key,
                                   text=text, now=datetime.now(timezone.utc))
        db.session.commit()


def _count(page, label):
    m = re.search(re.escape(label) + r' <span class="count">\((\d+)\)</span>', page)
    return int(m.group(1)) if m else None


def test_queue_rows_in_words_and_common_filters_counted(crip_app, users, signed_in):
    a = add_ip(crip_app, source_type="professional", age=1, postcode="31800")
    b = add_ip(crip_app, age=12)
    with crip_app.app_context():
        ip = db.session.scalar(select(IP).where(IP.reference == b.reference))
        ip.probably_automated = True
        db.session.commit()
    c = signed_in("agent")
    page = c.get("/crip/?lang=en").data.decode()
    # probably automated: shown, marked, counted
    assert a.reference in page and b.reference in page and "probably automated" in page
    assert _count(page, "Probably automated") == 1 and _count(page, "New") == 2 and _count(page, "All open") == 2
    assert _count(page, "Mine") == 0 and _count(page, "Unread messages") == 0
    row = page[page.index(a.reference):]
    row = row[:row.index("</tr>")]
    assert "Professional" in row and "Under 2" in row and "Saint-Gaudens" in row and "days left" in row
    assert "professional" not in row and "0-1" not in row
    assert not re.search(r"\d{4}-\d\d-\d\d", row)          # dates as people write them, not ISO
    fr = c.get("/crip/").data.decode()
    fr_row = fr[fr.index(a.reference):]
    assert re.search(r"\d\d/\d\d/\d{4}", fr_row[:fr_row.index("</tr>")])
    page = c.get("/crip/?view=automated&lang=en").data.decode()
    assert b.reference in page and a.reference not in page
    page = c.get("/crip/?automated=hide&lang=en").data.decode()
    assert b.reference not in page and "1 probably automated report is not shown." in page
    # the table comes first in the keyboard order after the skip links
    assert page.index('href="#queue-table"') < page.index('class="staff-header"')
    # a view without any IP says so, in a row of the table
    page = c.get("/crip/?view=waiting&lang=en").data.decode()
    assert '<tr><td colspan="8">No IP matches.</td></tr>' in page and "<tr class=" not in page


def test_sender_reply_is_flagged_counted_then_read(crip_app, users, signed_in, sample_ip):
    c = signed_in("agent")
    c.get("/crip/")                                   # the last visit
    with crip_app.app_context():
        u = db.session.get(StaffUser, users["agent"][0])
        u.last_queue_view_at = datetime.now(timezone.utc)
        db.session.commit()
    _reply(crip_app, sample_ip.reference, "REPLY-FROM-SENDER-42")
    page = c.get("/crip/?lang=en").data.decode()
    assert "0 IPs, 1 messages from senders" in page
    assert "1 unread message" in page and _count(page, "Unread messages") == 1
    page = c.get("/crip/?view=unread&lang=en").data.decode()
    assert sample_ip.reference in page
    case = c.get(f"/crip/ip/{sample_ip.reference}?lang=en").data.decode()
    assert "1 new message from the sender" in case
    assert case.index("REPLY-FROM-SENDER-42") < case.index('id="body"')    # unread first, above the form
    with crip_app.app_context():
        assert db.session.scalar(select(Message)).read_at is not None
    page = c.get("/crip/?lang=en").data.decode()
    assert "unread message" not in page and _count(page, "Unread messages") == 0


def test_each_change_shows_only_its_fields_and_ends_with_a_notice(crip_app, users, signed_in, sample_ip):
    sup = signed_in("supervisor")
    ref = sample_ip.reference
    page = sup.get(f"/crip/ip/{ref}?lang=en").data.decode()
    assert 'name="to" value="analysis"' in page and "Start the analysis" in page
    form = page[page.index('name="to" value="analysis"'):]
    form = form[:form.index("</form>")]
    assert "reason" not in form and "team" not in form and "due" not in form
    r = sup.post(f"/crip/ip/{ref}/statut?lang=en", data={"to": "analysis"}, follow_redirects=True)
    assert f"The status of {ref} is now “In analysis” (it was “New”)." in r.data.decode()
    page = sup.get(f"/crip/ip/{ref}?lang=en").data.decode()
    ev = page[page.index('name="to" value="evaluation"'):]
    ev = ev[:ev.index("</form>")]
    assert 'name="evaluation-team"' in ev and 'name="evaluation-due"' in ev and "reason" not in ev
    cl = page[page.index('name="to" value="signalement"'):]
    cl = cl[:cl.index("</form>")]
    assert 'name="signalement-signalement_on"' in cl and 'name="signalement-reason"' in cl and "team" not in cl
    # a refused change comes back open, with the field in error
    r = sup.post(f"/crip/ip/{ref}/statut?lang=en", data={"to": "closed"})
    body = r.data.decode()
    assert r.status_code == 400 and 'href="#closed-reason"' in body and "Give a reason for this decision." in body
    assert re.search(r'<details class="action-group" open>\s*<summary>Close without further action', body)
    with crip_app.app_context():
        assert db.session.scalar(select(IP).where(IP.reference == ref)).taken_by_id == users["supervisor"][0]
    assert _count(sup.get("/crip/?lang=en").data.decode(), "Mine") == 1


def test_empty_message_gets_a_specific_error_and_a_sent_one_a_notice(crip_app, users, signed_in, sample_ip):
    c = signed_in("agent")
    r = c.post(f"/crip/ip/{sample_ip.reference}/message?lang=en", data={"body": "  "})
    assert r.status_code == 400
    body = r.data.decode()
    assert "Write your message before sending it: it is empty." in body and 'href="#body"' in body
    r = c.post(f"/crip/ip/{sample_ip.reference}/message?lang=en", data={"body": "Bonjour"}, follow_redirects=True)
    assert f"Your message was sent to the sender of {sample_ip.reference}." in r.data.decode()


def _ip_about(app, *, first, last, born, postcode, commune_name, commune=""):
    with app.app_context():
        answers = {"source_type": "public",
                   "children": [{"first_name": first, "last_name": last, "birth_date": born, "age": 6,
                                 "sex": "f", "postcode": postcode, "commune": commune, "commune_name": commune_name}],
                   "concern": {"categories": ["neglect"], "account": "x", "danger_now": "no"},
                   "sender": {"anonymous": "yes"}}
        r = intake.submit(db.session, answers=answers, files=[], received_by="31", served=app.config["PROFILES"],
                          crip_key=keys.active_key(db.session, "31"), secret_key=app.config["SECRET_KEY"],
                          submission_token=None, language="fr", probably_automated=False,
                          now=datetime.now(timezone.utc))
        db.session.commit()
        return r.reference


def test_earlier_ips_about_the_same_child_are_linked_once_opened(crip_app, users, signed_in):
    first = _ip_about(crip_app, first="Zoé", last="Le Gall", born="2019-03-12", postcode="31800",
                      commune_name="Saint-Gaudens")
    second = _ip_about(crip_app, first="ZOE", last="le gall", born="2019-03-12", postcode="31800",
                       commune_name="St Gaudens")
    cousin = _ip_about(crip_app, first="Léo", last="Le Gall", born="2017-01-01", postcode="31800",
                       commune_name="saint gaudens")
    other = _ip_about(crip_app, first="Zoé", last="Martin", born="2019-03-12", postcode="31600",
                      commune_name="Muret")
    c = signed_in("agent")
    page = c.get(f"/crip/ip/{second}?lang=en").data.decode()
    assert "Earlier IPs about the same child" not in page          # the others were never opened
    for ref in (first, cousin, other):
        c.get(f"/crip/ip/{ref}")
    page = c.get(f"/crip/ip/{second}?lang=en").data.decode()
    section = page[page.index("Earlier IPs about the same child"):page.index("Key facts")]
    strong = section[:section.index("Same family name and commune")]
    assert f'href="/crip/ip/{first}"' in strong and cousin not in strong and other not in section
    weak = section[section.index("Same family name and commune"):]
    assert f'href="/crip/ip/{cousin}"' in weak
    with crip_app.app_context():
        from portal.models import IpChild
        rows = list(db.session.scalars(select(IpChild.child_index)))
        assert all(r is None or re.fullmatch(r"[0-9a-f]{64}", r) for r in rows)
        assert "Zoé" not in "".join(r or "" for r in rows)


def test_queue_commune_from_the_desk_digest(crip_app, users, signed_in, monkeypatch):
    """The first view opens the sealed answers and stores a digest only the CRIP's key opens; later
    views show the same commune from it without opening the sealed answers again; a digest copied
    onto another IP is not believed."""
    from portal.domain import desk_digest, sealing
    from portal.models import IpChild
    def add(commune_name, postcode):
        with crip_app.app_context():
            answers = {"source_type": "public",
                       "children": [{"first_name": "Ana", "age": 4, "sex": "f", "postcode": postcode,
                                     "commune_name": commune_name}],
                       "concern": {"categories": ["neglect"], "account": "R", "danger_now": "no"},
                       "sender": {"anonymous": "yes", "contact_language": "fr"}}
            receipt = intake.submit(db.session, answers=answers, files=[], received_by="31",
                                    served=crip_app.config["PROFILES"], crip_key=keys.active_key(db.session, "31"),
                                    secret_key=crip_app.config["SECRET_KEY"], submission_token=None, language="fr",
                                    probably_automated=False, now=datetime.now(timezone.utc))
            db.session.commit()
            return receipt
    a = add("Montréjeau", "31210")
    b = add("Muret", "31600")
    c = signed_in("agent")

    def commune(page, reference):
        row = page[page.index(reference):]
        return row[:row.index("</tr>")]

    first = c.get("/crip/?lang=en").data.decode()
    assert "Montréjeau" in commune(first, a.reference) and "Muret" in commune(first, b.reference)
    with crip_app.app_context():
        rows = {ch.ip_id: ch for ch in db.session.scalars(select(IpChild))}
        digest = rows[a.ip_id].desk_digest
        assert digest and "Montréjeau".encode() not in digest
        private = crip_app.config["TEST_CRIP_KEYS"]["31"]
        public = keys.active_key(db.session, "31").public_key
        assert desk_digest.read(desk_digest.derive_key(private), digest, ip_id=a.ip_id,
                                sealed=rows[a.ip_id].sealed) == "Montréjeau"
        assert desk_digest.read(desk_digest.derive_key(public), digest, ip_id=a.ip_id,
                                sealed=rows[a.ip_id].sealed) is None
    opened = []
    real_open = sealing.open_json
    monkeypatch.setattr(sealing, "open_json", lambda *args: opened.append(1) or real_open(*args))
    again = c.get("/crip/?lang=en").data.decode()
    assert commune(again, a.reference) == commune(first, a.reference) and not opened
    with crip_app.app_context():           # a's digest written onto b's child: b's own commune is shown
        child_b = db.session.scalar(select(IpChild).where(IpChild.ip_id == b.ip_id))
        child_b.desk_digest = digest
        db.session.commit()
    page = c.get("/crip/?lang=en").data.decode()
    assert "Montréjeau" not in commune(page, b.reference) and opened
    assert commune(page, b.reference) == commune(first, b.reference)
