"""Every route against every role; the workflow's allowed and refused transitions; decryption only
after sign-in; every view, download and export in the audit log."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal.domain import audit
from portal.extensions import db
from portal.models import AuditEntry, InformationPreoccupante, Message

from tests.crip.conftest import ROLES, add_ip

# route (method, path template) -> roles allowed; {ref} is a sample IP of the signed-in person's CRIP
ROUTES = {
    ("GET", "/crip/"): {"agent", "supervisor", "evaluator"},
    ("GET", "/crip/ip/{ref}"): {"agent", "supervisor", "evaluator"},
    ("POST", "/crip/ip/{ref}/statut"): {"agent", "supervisor"},
    ("POST", "/crip/ip/{ref}/message"): {"agent", "supervisor"},
    ("GET", "/crip/saisie"): {"agent", "supervisor"},
    ("GET", "/crip/statistiques"): {"supervisor"},
    ("GET", "/crip/statistiques.csv"): {"supervisor"},
    ("GET", "/crip/comptes"): {"admin"},
    ("GET", "/crip/mot-de-passe"): set(ROLES),
}


@pytest.mark.parametrize("role", ROLES)
def test_every_route_against_every_role(crip_app, users, signed_in, role):
    receipt = add_ip(crip_app, territory="toulouse")   # assigned to the evaluator's team
    client = signed_in(role)
    for (method, template), allowed in ROUTES.items():
        path = template.format(ref=receipt.reference)
        data = {"to": "analysis"} if path.endswith("statut") else {"body": "Une question"}
        r = client.get(path) if method == "GET" else client.post(path, data=data)
        if role in allowed:
            assert r.status_code in (200, 302, 303), (role, path, r.status_code)
        else:
            assert r.status_code == 403, (role, path, r.status_code)


def test_signed_out_is_sent_to_sign_in(crip_app, sample_ip):
    c = crip_app.test_client()
    for (method, template) in ROUTES:
        path = template.format(ref=sample_ip.reference)
        r = c.get(path) if method == "GET" else c.post(path)
        assert r.status_code == 302 and "/crip/connexion" in r.headers["Location"], path


def test_evaluator_sees_only_their_team(crip_app, users, signed_in):
    mine = add_ip(crip_app, territory="toulouse")
    other = add_ip(crip_app, territory="muret")
    c = signed_in("evaluator")
    page = c.get("/crip/").data.decode()
    assert mine.reference in page and other.reference not in page
    assert c.get(f"/crip/ip/{other.reference}").status_code == 404


def test_case_is_decrypted_for_staff_and_audited(crip_app, users, signed_in, sample_ip):
    c = signed_in("agent")
    r = c.get(f"/crip/ip/{sample_ip.reference}")
    assert r.status_code == 200
    assert "Zéphyrine".encode() in r.data and b"XYLOPHONE" in r.data
    with crip_app.app_context():
        rows = list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == "view")))
        assert rows and rows[-1].target == sample_ip.reference
        assert audit.verify(db.session, key=crip_app.config["AUDIT_KEY"]) == []


def test_case_cannot_be_read_without_the_key_in_the_session(crip_app, users, signed_in, sample_ip):
    c = signed_in("agent")
    from portal.models import StaffSession
    with crip_app.app_context():
        for row in db.session.scalars(select(StaffSession)):
            row.sealed_key = None
        db.session.commit()
    assert c.get(f"/crip/ip/{sample_ip.reference}").status_code == 403


def test_session_cookie_holds_no_key_in_clear(crip_app, users, signed_in):
    c = signed_in("agent")
    key = crip_app.config["TEST_CRIP_KEYS"]["31"]
    import base64
    import zlib
    cookies = [ck.value for name in ("crip_sid", "crip_session", "session")
               for ck in [c.get_cookie(name, path="/crip") or c.get_cookie(name)] if ck]
    assert cookies
    for cookie in cookies:
        raw = cookie.split(".")[0] if not cookie.startswith(".") else cookie[1:].split(".")[0]
        try:
            payload = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))
            payload = zlib.decompress(payload) if cookie.startswith(".") else payload
        except Exception:
            payload = b""
        assert key.hex().encode() not in payload and key not in payload


def _status(app, ref):
    with app.app_context():
        return db.session.scalar(select(InformationPreoccupante.status).where(InformationPreoccupante.reference == ref))


def _change(client, ref, to, **fields):
    """Post one change of status as the case page does: the target as `to`, its fields prefixed."""
    data = {"to": to, **{f"{to}-{k}": v for k, v in fields.items()}}
    return client.post(f"/crip/ip/{ref}/statut?lang=en", data=data)


def _refused(r, message):
    page = r.data.decode()
    return r.status_code == 400 and message in page and 'class="error-summary"' in page


def test_workflow_allowed_and_refused_transitions(crip_app, users, signed_in, sample_ip):
    agent, sup = signed_in("agent"), signed_in("supervisor")
    ref = sample_ip.reference
    # refused: straight to a decision from "new"
    assert _refused(_change(sup, ref, "closed", reason="x"), "This change of status is not possible from the current status.")
    assert _status(crip_app, ref) == "new"
    assert _change(agent, ref, "analysis").status_code == 303
    assert _status(crip_app, ref) == "analysis"
    # an agent may not decide
    assert _refused(_change(agent, ref, "closed", reason="no danger"), "Your role does not allow this decision.")
    # more information needs a reason
    assert _refused(_change(agent, ref, "more_info"), "Give a reason for this decision.")
    assert _change(agent, ref, "more_info", reason="ask the school").status_code == 303
    assert _change(agent, ref, "analysis").status_code == 303
    # evaluation needs a known team and a due date
    assert _refused(_change(sup, ref, "evaluation", due="2027-01-10"), "Choose the territory or team that evaluates.")
    assert _refused(_change(sup, ref, "evaluation", team="muret"), "Give the evaluation due date.")
    assert _change(sup, ref, "evaluation", team="muret", due="2027-01-10").status_code == 303
    # signalement needs its date
    assert _refused(_change(sup, ref, "signalement", reason="serious"), "Give the date of the signalement.")
    assert _change(sup, ref, "signalement", reason="serious", signalement_on="2026-11-20").status_code == 303
    assert _status(crip_app, ref) == "signalement"
    # reopening needs a reason
    assert _refused(_change(sup, ref, "analysis"), "Give a reason for this decision.")
    assert _change(sup, ref, "analysis", reason="new facts").status_code == 303
    with crip_app.app_context():
        ip = db.session.scalar(select(InformationPreoccupante).where(InformationPreoccupante.reference == ref))
        assert ip.status == "analysis" and ip.outcome is None
    page = sup.get(f"/crip/ip/{ref}").data.decode()
    assert "ask the school" in page and "new facts" in page   # reasons are sealed, shown after sign-in


def test_transfer_and_link(crip_app, users, signed_in):
    sup = signed_in("supervisor")
    a, b = add_ip(crip_app), add_ip(crip_app)
    for ref in (a.reference, b.reference):
        _change(sup, ref, "analysis")
    r = _change(sup, a.reference, "linked", reason="same child", linked_reference="IP-0000-0000")
    assert _refused(r, "Give the reference of another IP of this CRIP.")
    assert _change(sup, a.reference, "linked", reason="same child", linked_reference=b.reference).status_code == 303
    assert b.reference in sup.get(f"/crip/ip/{a.reference}").data.decode()
    assert _refused(_change(sup, b.reference, "transferred", reason="lives in 09"), "Give the département to transfer to.")
    assert _change(sup, b.reference, "transferred", reason="lives in 09", transfer_to="09").status_code == 303


def test_message_to_sender_is_sealed(crip_app, users, signed_in, sample_ip):
    c = signed_in("agent")
    c.post(f"/crip/ip/{sample_ip.reference}/message", data={"body": "QUESTION-UNIQUE-77"})
    with crip_app.app_context():
        msg = db.session.scalars(select(Message)).one()
        assert msg.direction == "to_sender"
        assert b"QUESTION-UNIQUE-77" not in msg.sealed_for_crip and b"QUESTION-UNIQUE-77" not in msg.sealed_for_sender
    assert b"QUESTION-UNIQUE-77" in c.get(f"/crip/ip/{sample_ip.reference}").data


def test_attachment_download_is_audited_and_never_inline(crip_app, users, signed_in):
    from datetime import datetime, timezone
    from portal.domain import attachments, intake, keys
    with crip_app.app_context():
        f = attachments.check("note.txt", b"certificat medical", max_bytes=10_000)
        receipt = intake.submit(db.session, answers={"source_type": "public", "children": [{"age": 4}],
                                                     "concern": {"categories": ["neglect"], "account": "x"}},
                                files=[f], received_by="31", served=crip_app.config["PROFILES"],
                                crip_key=keys.active_key(db.session, "31"), secret_key=crip_app.config["SECRET_KEY"],
                                submission_token=None, language="fr", probably_automated=False,
                                now=datetime.now(timezone.utc))
        db.session.commit()
        att_id = db.session.get(InformationPreoccupante, receipt.ip_id).attachments[0].id
    c = signed_in("agent")
    r = c.get(f"/crip/ip/{receipt.reference}/piece/{att_id}")
    assert r.status_code == 200 and r.data == b"certificat medical"
    assert r.headers["Content-Disposition"].startswith("attachment")
    assert r.mimetype == "application/octet-stream"
    with crip_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "download")) == 1


def test_queue_filters_and_search(crip_app, users, signed_in):
    young = add_ip(crip_app, source_type="young", categories=("sexual",), age=1)
    plain = add_ip(crip_app, categories=("neglect",), age=12)
    c = signed_in("agent")
    page = c.get("/crip/?source=young").data.decode()
    assert young.reference in page and plain.reference not in page
    page = c.get("/crip/?category=neglect").data.decode()
    assert plain.reference in page and young.reference not in page
    page = c.get("/crip/?age=0-1").data.decode()
    assert young.reference in page and plain.reference not in page
    r = c.get(f"/crip/?ref={plain.reference.lower().replace('-', ' ')}")
    assert r.status_code == 302 and plain.reference in r.headers["Location"]
    # urgency first: the young person's report about a baby comes before the other one
    page = c.get("/crip/").data.decode()
    assert page.index(young.reference) < page.index(plain.reference)


def test_keyset_pagination(crip_app, users, signed_in):
    refs = {add_ip(crip_app).reference for _ in range(3)}
    from portal.domain import queue
    with crip_app.app_context():
        seen = set()
        rows, more = queue.page(db.session, [InformationPreoccupante.received_by == "31"], size=2)
        seen |= {r.reference for r in rows}
        assert more
        rows, more = queue.page(db.session, [InformationPreoccupante.received_by == "31"],
                                after=queue.parse_cursor(queue.cursor_of(rows[-1])), size=2)
        seen |= {r.reference for r in rows}
        assert not more and seen == refs


def test_record_an_ip_received_by_phone(crip_app, users, signed_in):
    c = signed_in("agent")
    r = c.post("/crip/saisie", data={
        "ip-channel": "phone", "ip-source_type": "public", "child-first_name": "Noé", "child-age": "3",
        "child-postcode": "31000", "concern-categories": ["neglect"], "concern-account": "Appel reçu",
        "concern-danger_now": "no", "sender-anonymous": "yes", "sender-contact_language": "fr"})
    assert r.status_code == 200 and b"code-box" in r.data
    with crip_app.app_context():
        ip = db.session.scalars(select(InformationPreoccupante)).one()
        assert ip.channel == "phone" and ip.taken_by_id == users["agent"][0]
    bad = c.post("/crip/saisie", data={"ip-channel": "phone", "child-first_name": "Kept"})
    assert bad.status_code == 400 and b"error-summary" in bad.data and b'value="Kept"' in bad.data


def test_admin_deactivates_but_never_deletes(crip_app, users, signed_in):
    from portal.models import StaffUser
    c = signed_in("admin")
    assert c.post(f"/crip/comptes/{users['agent'][0]}/desactiver").status_code == 303
    with crip_app.app_context():
        u = db.session.get(StaffUser, users["agent"][0])
        assert u is not None and u.active is False


def test_public_only_instance_has_no_staff_route(tmp_path):
    from tests.conftest import make_app
    app = make_app(tmp_path, PORTAL_DEPARTEMENTS=["31"], PORTAL_SERVES=["public"])
    assert app.test_client().get("/crip/connexion").status_code == 404
    (tmp_path / "b").mkdir()
    crip_only = make_app(tmp_path / "b", PORTAL_DEPARTEMENTS=["31"], PORTAL_SERVES=["crip"])
    assert crip_only.test_client().get("/signaler/").status_code == 404
    assert crip_only.test_client().get("/crip/connexion").status_code == 200
