"""Routing between the CRIPs of one instance, and the transfer of an IP from one CRIP to another."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
from sqlalchemy import select

from portal.domain import audit, intake, keys, routing, sealing, staff, transfer, workflow
from portal.domain.attachments import CheckedFile
from portal.extensions import db
from portal.models import AuditEntry, InformationPreoccupante as IP, IpEvent, IpTransfer, Message

pytestmark = pytest.mark.settings(PORTAL_DEPARTEMENTS=["31", "38", "39", "44"])   # `app`: four CRIPs

NOW = datetime(2026, 11, 28, 23, 30, tzinfo=timezone.utc)     # 29 Nov 2026, 00:30 in Paris

GRENOBLE = {"commune": "38185", "postcode": "38000"}
TOULOUSE = {"commune": "31555", "postcode": "31000"}
PARIS = {"commune": "75056", "postcode": "75001"}
UNKNOWN = {"postcode": "99999"}
NOWHERE = {}


# The decision (no database) -----------------------------------------------------------------------

SERVED = {"31": object(), "38": object()}


@pytest.mark.parametrize("where, expected", [
    (routing.Route(routing.ROUTED, "31", "toulouse"), routing.Destination("31", None, None)),
    (routing.Route(routing.ROUTED, "38", "grenoble"), routing.Destination("38", "31", None)),
    (routing.Route(routing.TRANSFER, "75", None), routing.Destination("31", None, "75")),
    (routing.Route(routing.UNROUTED, None, None), routing.Destination("31", None, None)),
])
def test_destination_for_every_combination(where, expected):
    assert routing.destination(where, received_on="31", served=SERVED) == expected


# Intake --------------------------------------------------------------------------------------------

def _answers(place, source_type="public", **extra):
    answers = {"source_type": source_type,
               "children": [dict({"first_name": "Zéphyrine", "age": 5, "sex": "f"}, **place)],
               "concern": {"categories": ["neglect"], "account": "XYLOPHONE", "danger_now": "no"},
               "sender": {"anonymous": "yes", "contact_language": "fr"}}
    answers.update(extra)
    return answers


def _submit(app, place, received_by="31", files=(), **kw):
    receipt = intake.submit(db.session, answers=_answers(place, **kw), files=list(files), received_by=received_by,
                            served=app.config["PROFILES"], crip_key=keys.active_key(db.session, received_by),
                            secret_key=app.config["SECRET_KEY"], submission_token=None, language="fr",
                            probably_automated=False, now=NOW)
    db.session.commit()
    return receipt, db.session.get(IP, receipt.ip_id)


@pytest.mark.parametrize("place, holder, via, status, dep", [
    (TOULOUSE, "31", None, "routed", "31"),           # same département
    (GRENOBLE, "38", "31", "routed", "38"),           # another served département
    (PARIS, "31", None, "transfer", "75"),            # an unserved département: accepted, flagged
    (UNKNOWN, "31", None, "unrouted", None),          # unknown commune: stays with the receiving CRIP
    (NOWHERE, "31", None, "unrouted", None),
])
def test_intake_queues_the_ip_for_the_right_crip_sealed_to_its_key(app, place, holder, via, status, dep):
    with app.app_context():
        receipt, ip = _submit(app, place)
        assert (receipt.crip, receipt.routing_status, receipt.departement) == (holder, status, dep)
        assert (ip.received_by, ip.received_via, ip.routing_status, ip.departement) == (holder, via, status, dep)
        assert ip.crip_key_id == keys.active_key(db.session, holder).id
        mine = app.config["TEST_CRIP_KEYS"][holder]
        assert sealing.open_json(mine, ip.sealed)["concern"]["account"] == "XYLOPHONE"
        assert sealing.open_json(mine, ip.children[0].sealed)["first_name"] == "Zéphyrine"
        for other, key in app.config["TEST_CRIP_KEYS"].items():
            if other != holder:
                with pytest.raises(sealing.SealError):
                    sealing.open_json(key, ip.sealed)


def test_the_holding_crip_deadlines_and_holidays_apply(app):
    with app.app_context():
        _receipt, ip = _submit(app, GRENOBLE)
        assert ip.evaluation_due == date(2027, 2, 28)      # 3 calendar months from the Paris date 29/11
        assert ip.analysis_due == date(2026, 11, 30)


def test_feedback_due_for_professionals_and_elected_officials_only(app):
    with app.app_context():
        _r, pro = _submit(app, TOULOUSE, source_type="professional", pro={"signalement": "yes"})
        _r, mayor = _submit(app, TOULOUSE, source_type="elected")
        _r, public = _submit(app, TOULOUSE)
        assert pro.feedback_due == mayor.feedback_due == date(2027, 2, 28)
        assert pro.wants_feedback and mayor.wants_feedback and not mayor.anonymous
        assert public.feedback_due is None
        assert pro.sender_signalement == "yes" and public.sender_signalement is None


# Transfer ------------------------------------------------------------------------------------------

def _agent(app, dep, email):
    user = staff.create_user(db.session, email=email, name=f"Agent {dep}", role="agent", departement=dep,
                             password="correct horse battery staple",
                             crip_private_key=app.config["TEST_CRIP_KEYS"][dep])
    db.session.flush()
    return user


def test_transfer_reseals_everything_and_the_destination_agent_reads_it(app):
    with app.app_context():
        s = db.session
        src_key = app.config["TEST_CRIP_KEYS"]["31"]
        _receipt, ip = _submit(app, UNKNOWN, files=[CheckedFile("note.txt", "text/plain", b"PIECE-JOINTE")])
        sender_msg = intake.post_sender_message(s, ip=ip, crip_public_key=keys.active_key(s, "31").public_key,
                                                text="MESSAGE-DE-L-AUTEUR", now=NOW)
        workflow.apply(s, ip, workflow.Change(to="analysis"), role="agent", actor_id=None,
                       crip_public_key=keys.active_key(s, "31").public_key, now=NOW)
        workflow.apply(s, ip, workflow.Change(to="more_info", reason="RAISON-SCELLEE"), role="agent", actor_id=None,
                       crip_public_key=keys.active_key(s, "31").public_key, now=NOW)
        s.commit()
        stub = transfer.transfer(s, ip, source_private_key=src_key, destination="38",
                                 served=app.config["PROFILES"], actor_id=None, now=NOW,
                                 audit_key=app.config["AUDIT_KEY"])
        s.commit()
        assert (stub.reference, stub.from_departement, stub.to_departement) == (ip.reference, "31", "38")
        s.expire_all()
        ip = s.get(IP, ip.id)
        assert (ip.received_by, ip.received_via, ip.status) == ("38", "31", "new")
        assert ip.crip_key_id == keys.active_key(s, "38").id
        # The destination's agent opens everything with the key their password unwraps.
        agent38 = _agent(app, "38", "agent38@crip.test")
        dest_key = staff.authenticate(s, email="agent38@crip.test", password="correct horse battery staple",
                                      now=NOW).crip_key
        assert dest_key == app.config["TEST_CRIP_KEYS"]["38"]
        assert sealing.open_json(dest_key, ip.sealed)["concern"]["account"] == "XYLOPHONE"
        assert sealing.open_json(dest_key, ip.children[0].sealed)["first_name"] == "Zéphyrine"
        meta, data = intake.open_attachment(dest_key, ip.attachments[0].sealed)
        assert (meta["name"], data) == ("note.txt", b"PIECE-JOINTE")
        msg = s.get(Message, sender_msg.id)
        assert sealing.open_json(dest_key, msg.sealed_for_crip)["text"] == "MESSAGE-DE-L-AUTEUR"
        reasons = [sealing.open_json(dest_key, e.reason_sealed)["reason"]
                   for e in s.scalars(select(IpEvent).where(IpEvent.ip_id == ip.id)) if e.reason_sealed]
        assert reasons == ["RAISON-SCELLEE"]
        # The source's key opens nothing any more.
        for blob in (ip.sealed, ip.children[0].sealed, ip.attachments[0].sealed, msg.sealed_for_crip):
            with pytest.raises(sealing.SealError):
                sealing.open_bytes(src_key, blob)
        # The source keeps a stub; both sides are in the audit log, whose chain holds.
        assert [t.to_departement for t in transfer.stubs(s, "31")] == ["38"]
        assert transfer.stubs(s, "38") == []
        lines = [(a.action, a.detail) for a in s.scalars(select(AuditEntry).where(AuditEntry.target == ip.reference))]
        assert ("transfer_out", "from 31 to 38") in lines and ("transfer_in", "to 38 from 31") in lines
        assert audit.verify(s, key=app.config["AUDIT_KEY"]) == []
        assert agent38.departement == "38"


@pytest.mark.parametrize("destination, code", [("31", "same"), ("75", "not_served"), ("", "not_served")])
def test_transfer_refusals_change_nothing(app, destination, code):
    with app.app_context():
        s = db.session
        _receipt, ip = _submit(app, TOULOUSE)
        before = ip.sealed
        with pytest.raises(transfer.TransferError) as exc:
            transfer.transfer(s, ip, source_private_key=app.config["TEST_CRIP_KEYS"]["31"],
                              destination=destination, served=app.config["PROFILES"], actor_id=None, now=NOW,
                              audit_key=app.config["AUDIT_KEY"])
        assert exc.value.code == code
        assert ip.sealed == before and ip.received_by == "31"
        assert s.scalars(select(IpTransfer)).all() == []


def test_transfer_needs_the_source_private_key(app):
    with app.app_context():
        s = db.session
        _receipt, ip = _submit(app, TOULOUSE)
        with pytest.raises(transfer.TransferError) as exc:
            transfer.transfer(s, ip, source_private_key=app.config["TEST_CRIP_KEYS"]["39"],
                              destination="38", served=app.config["PROFILES"], actor_id=None, now=NOW,
                              audit_key=app.config["AUDIT_KEY"])
        assert exc.value.code == "wrong_key"
        assert ip.received_by == "31"



def test_transfer_on_both_databases(any_app):
    """One transaction on SQLite and on PostgreSQL: everything re-sealed, read back with the destination key."""
    app = any_app
    with app.app_context():
        s = db.session
        _receipt, ip = _submit(app, TOULOUSE)
        ref = ip.reference
        transfer.transfer(s, ip, source_private_key=app.config["TEST_CRIP_KEYS"]["31"], destination="39",
                          served=app.config["PROFILES"], actor_id=None, now=NOW,
                          audit_key=app.config["AUDIT_KEY"])
        s.commit()
        s.expire_all()
        ip = s.scalar(select(IP).where(IP.reference == ref))
        assert ip.received_by == "39" and ip.received_via == "31"
        assert sealing.open_json(app.config["TEST_CRIP_KEYS"]["39"], ip.sealed)["concern"]["account"] == "XYLOPHONE"
        assert transfer.stub_of(s, ref, "31").to_departement == "39"
        assert audit.verify(s, key=app.config["AUDIT_KEY"]) == []
