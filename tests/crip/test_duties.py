"""Legal duties on a case (feedback to the sender, notice to the parents, the procureur prompt), the
feedback filter of the queue, and the transfer of an IP to another CRIP read back by its agent."""
from __future__ import annotations

import html
from datetime import datetime, timedelta, timezone

import pyotp
import pytest
from sqlalchemy import select

from portal.domain import intake, keys, staff
from portal.domain.priority import add_months, paris_date
from portal.extensions import db
from portal.models import AuditEntry, InformationPreoccupante as IP, IpTransfer

from tests.crip.conftest import PASSWORD, sign_in
from tests.crip.test_error_pages import assert_kept_at_its_field


def _submit(app, *, source_type="public", danger="no", postcode="31000", pro=None, now=None):
    with app.app_context():
        answers = {"source_type": source_type,
                   "children": [{"first_name": "Zéphyrine", "age": 5, "sex": "f", "postcode": postcode}],
                   "concern": {"categories": ["neglect"], "account": "XYLOPHONE", "danger_now": danger},
                   "sender": {"anonymous": "no", "contact_language": "fr"}}
        if pro is not None:
            answers["pro"] = pro
        receipt = intake.submit(db.session, answers=answers, files=[], received_by="31",
                                served=app.config["PROFILES"], crip_key=keys.active_key(db.session, "31"),
                                secret_key=app.config["SECRET_KEY"], submission_token=None, language="fr",
                                probably_automated=False, now=now or datetime.now(timezone.utc))
        db.session.commit()
        return receipt.reference


def _ip(app, ref):
    with app.app_context():
        ip = db.session.scalar(select(IP).where(IP.reference == ref))
        db.session.expunge(ip)
        return ip


def _page(client, ref):
    r = client.get(f"/crip/ip/{ref}?lang=en")
    assert r.status_code == 200
    return r.data.decode()


def test_professional_feedback_date_shown_recorded_and_filtered(crip_app, users, signed_in):
    ref = _submit(crip_app, source_type="professional", pro={"signalement": "no"})
    public = _submit(crip_app)
    ip = _ip(crip_app, ref)
    due = add_months(paris_date(ip.received_at), 3)
    assert ip.feedback_due == due
    agent = signed_in("agent")
    page = _page(agent, ref)
    assert "Feedback to the sender due (professional or elected official, CASF L226-5)" in page
    assert "Evaluation due (3 months from receipt at most, CASF D226-2-4)" in page
    assert "Record the feedback" in page
    assert "Feedback to the sender due" not in _page(agent, public)
    # The queue's filter.
    q = agent.get("/crip/?lang=en&feedback=due").data.decode()
    assert ref in q and public not in q
    assert ref not in agent.get("/crip/?lang=en&feedback=overdue").data.decode()
    # A future date is refused, today's recorded.
    tomorrow = (paris_date(datetime.now(timezone.utc)) + timedelta(days=1)).isoformat()
    r = agent.post(f"/crip/ip/{ref}/retour-auteur?lang=en", data={"feedback-on": tomorrow})
    assert r.status_code == 400
    assert_kept_at_its_field(r.data.decode(), "feedback-on", tomorrow, "The date cannot be in the future.")
    assert _ip(crip_app, ref).feedback_given_on is None
    today = paris_date(datetime.now(timezone.utc))
    r = agent.post(f"/crip/ip/{ref}/retour-auteur", data={"feedback-on": today.isoformat()})
    assert r.status_code == 303
    assert _ip(crip_app, ref).feedback_given_on == today
    assert "Record the feedback" not in _page(agent, ref)
    assert ref in agent.get("/crip/?lang=en&feedback=given").data.decode()
    assert ref not in agent.get("/crip/?lang=en&feedback=due").data.decode()


def test_overdue_feedback_is_filtered_on_the_paris_date(crip_app, users, signed_in):
    long_ago = datetime.now(timezone.utc) - timedelta(days=120)
    ref = _submit(crip_app, source_type="elected", now=long_ago)
    agent = signed_in("agent")
    assert ref in agent.get("/crip/?lang=en&feedback=overdue").data.decode()
    assert "overdue" in _page(agent, ref)


def test_immediate_danger_prompts_the_referral_to_the_procureur(crip_app, users, signed_in):
    ref = _submit(crip_app, danger="yes")
    page = _page(signed_in("agent"), ref)
    assert "refer the situation to the procureur de la République without delay (CASF D226-2-4 I 2°)" in page


def test_the_professionals_signalement_is_taken_into_account(crip_app, users, signed_in):
    ref = _submit(crip_app, source_type="professional", danger="yes", pro={"signalement": "yes"})
    page = _page(signed_in("agent"), ref)
    assert "says a signalement was already sent to the procureur" in page
    assert "without delay (CASF D226-2-4 I 2°)." not in page


def test_parents_notice_recorded_after_the_case_goes_to_the_judge(crip_app, users, signed_in):
    ref = _submit(crip_app)
    sup = signed_in("supervisor")
    today = paris_date(datetime.now(timezone.utc))
    assert sup.post(f"/crip/ip/{ref}/statut", data={"to": "analysis"}).status_code == 303
    assert sup.post(f"/crip/ip/{ref}/statut", data={"to": "signalement", "signalement-reason": "grave",
                                                   "signalement-signalement_on": today.isoformat()}).status_code == 303
    page = _page(sup, ref)
    assert "Written notice to the parents that the situation goes to the judicial authority (CASF L226-5)" in page
    assert "Not recorded yet" in page
    r = sup.post(f"/crip/ip/{ref}/avis-parents?lang=en", data={"parents-on": "hier"})
    assert r.status_code == 400 and "<title>Error: " in r.data.decode()
    assert_kept_at_its_field(r.data.decode(), "parents-on", "hier", "Not a valid date value.")
    with crip_app.app_context():
        assert not db.session.scalar(select(AuditEntry).where(AuditEntry.action == "parents_notified"))
    r = sup.post(f"/crip/ip/{ref}/avis-parents", data={"parents-on": today.isoformat()})
    assert r.status_code == 303
    assert _ip(crip_app, ref).parents_notified_on == today
    with crip_app.app_context():
        assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "parents_notified")).detail == today.isoformat()
    assert "Not recorded yet" not in _page(sup, ref)


@pytest.fixture
def two_crips(tmp_path):
    from tests.conftest import make_app
    return make_app(tmp_path, PORTAL_DEPARTEMENTS=["31", "38"])


def _staff(app, dep, role):
    with app.app_context():
        email = f"{role}.{dep}@crip.test"
        u = staff.create_user(db.session, email=email, name=f"{role} {dep}", role=role, departement=dep,
                              password=PASSWORD, crip_private_key=app.config["TEST_CRIP_KEYS"][dep])
        secret = pyotp.random_base32()
        u.totp_secret = staff.encrypt_totp_secret(app.config["SECRET_KEY"], secret)
        u.totp_enrolled = True
        db.session.commit()
    return sign_in(app.test_client(), email, secret)


def test_transfer_from_the_back_office_read_back_by_the_destination_agent(two_crips):
    app = two_crips
    ref = _submit(app, postcode="99999")            # unknown commune: stays with the receiving CRIP
    sup31 = _staff(app, "31", "supervisor")
    page = _page(sup31, ref)
    assert "Transfer to another CRIP of this site" in page
    r = sup31.post(f"/crip/ip/{ref}/transferer?lang=en", data={"transfer-destination": ""})
    assert r.status_code == 400
    assert_kept_at_its_field(r.data.decode(), "transfer-destination", "", "Choose the CRIP to transfer to.")
    r = sup31.post(f"/crip/ip/{ref}/transferer?lang=en", data={"transfer-destination": "31"})
    assert r.status_code == 400
    assert_kept_at_its_field(r.data.decode(), "transfer-destination", None, "This IP is already with this CRIP.")
    r = sup31.post(f"/crip/ip/{ref}/transferer", data={"transfer-destination": "38"})
    assert r.status_code == 303 and r.headers["Location"].endswith(f"/crip/transfere/{ref}")
    stub = sup31.get(f"/crip/transfere/{ref}?lang=en").data.decode()
    assert "This IP was transferred to the CRIP of Isère" in stub
    assert "XYLOPHONE" not in stub
    assert sup31.get(f"/crip/ip/{ref}").status_code == 404
    agent38 = _staff(app, "38", "agent")
    assert ref in agent38.get("/crip/?lang=en").data.decode()
    page = _page(agent38, ref)
    assert "XYLOPHONE" in page and "Zéphyrine" in page
    assert "the site of Haute-Garonne" in page
    with app.app_context():
        assert [(t.from_departement, t.to_departement) for t in db.session.scalars(select(IpTransfer))] == [("31", "38")]
    # Searching the reference at the source leads to the stub.
    r = sup31.get(f"/crip/?ref={ref}")
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/crip/transfere/{ref}")


def test_transfer_is_for_supervisors(two_crips):
    ref = _submit(two_crips)
    agent = _staff(two_crips, "31", "agent")
    assert agent.post(f"/crip/ip/{ref}/transferer", data={"transfer-destination": "38"}).status_code == 403
    assert _ip(two_crips, ref).received_by == "31"


def test_an_ip_recorded_by_phone_about_a_child_of_another_crip_goes_there(two_crips):
    agent31 = _staff(two_crips, "31", "agent")
    r = agent31.post("/crip/saisie?lang=en", data={
        "ip-channel": "phone", "ip-source_type": "elected", "child-first_name": "Zéphyrine", "child-age": "5",
        "child-sex": "f", "child-postcode": "38000", "child-commune": "38185",
        "concern-categories": ["neglect"], "concern-account": "XYLOPHONE", "concern-danger_now": "no",
        "sender-anonymous": "no", "sender-name": "Le maire", "sender-phone": "0400000000",
        "sender-contact_language": "fr"})
    page = r.data.decode()
    assert r.status_code == 200, page[:2000]
    assert ("The child lives in Isère: the IP was queued for that département's CRIP (CRIP de l'Isère), sealed to its key"
            in html.unescape(page))
    with two_crips.app_context():
        ip = db.session.scalar(select(IP))
        assert (ip.received_by, ip.received_via, ip.source_type, ip.channel) == ("38", "31", "elected", "phone")
        assert ip.feedback_due is not None
