"""Retention (portal.domain.retention): which IPs are due, and a purge that leaves nothing behind."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from portal.domain import audit, keys, retention
from portal.extensions import db
from portal.models import (
    AuditEntry, Attachment, Draft, FollowUp, InformationPreoccupante, IpCategory, IpChild, IpEvent,
    IpLink, Message,
)

NOW = datetime(2026, 6, 1, 12, tzinfo=timezone.utc)


def uniform(days, undecided=3650):
    """The same duration for every decided outcome."""
    return retention.Policy(days, days, days, days, undecided)
_n = [0]


def make_ip(session, *, status="closed", decided_days_ago=None, received_days_ago=900, full=True):
    _n[0] += 1
    received = NOW - timedelta(days=received_days_ago)
    ip = InformationPreoccupante(
        reference=f"RET-{_n[0]:06d}", received_by="31", routing_status="routed", departement="31",
        territory="toulouse", source_type="public", language="fr", youngest_age_band="6-10",
        urgency=3, status=status, received_at=received, analysis_due=received.date(),
        evaluation_due=received.date() + timedelta(days=92),
        crip_key_id=keys.active_key(session, "31").id, sealed=b"\x00sealed",
        outcome=status if decided_days_ago is not None else None,
        decided_at=NOW - timedelta(days=decided_days_ago) if decided_days_ago is not None else None)
    if full:
        ip.children.append(IpChild(position=0, age_band="6-10", sex="f", sealed=b"c"))
        ip.categories.append(IpCategory(category="neglect"))
        ip.attachments.append(Attachment(mime="image/png", size=3, sealed=b"att"))
        ip.followup = FollowUp(code_hash=f"{_n[0]:064d}", kdf_salt=b"s" * 16, public_key=b"p" * 32)
        ip.messages.append(Message(direction="to_crip", sealed_for_crip=b"m", sealed_for_sender=b"m"))
    session.add(ip)
    session.flush()
    if full:
        session.add(IpEvent(ip_id=ip.id, from_status="new", to_status="analysis"))
        # An attachment sent with a message (FK to both the IP and the message).
        session.add(Attachment(ip_id=ip.id, message_id=ip.messages[0].id, mime="image/png", size=1, sealed=b"a"))
        session.flush()
    return ip


def _count(session, model):
    return session.scalar(select(func.count()).select_from(model))


def test_due_and_not_due(app):
    with app.app_context():
        s = db.session
        old_closed = make_ip(s, status="closed", decided_days_ago=800, full=False)
        old_signal = make_ip(s, status="signalement", decided_days_ago=731, full=False)
        old_linked = make_ip(s, status="linked", decided_days_ago=1000, full=False)
        make_ip(s, status="transferred", decided_days_ago=729, full=False)      # not yet
        make_ip(s, status="help", decided_days_ago=10, full=False)               # recent
        make_ip(s, status="evaluation", received_days_ago=2000, full=False)      # still open
        make_ip(s, status="analysis", decided_days_ago=900, full=False)          # reopened (odd data)
        make_ip(s, status="closed", decided_days_ago=None, full=False)           # no decision date
        s.commit()
        due = retention.due_for_purge(s, NOW, uniform(730))
        assert due == sorted([old_closed.id, old_signal.id, old_linked.id])
        # The duration is a parameter: a shorter retention catches more.
        assert len(retention.due_for_purge(s, NOW, uniform(5))) == 5
        # Naive "now" is read as UTC.
        assert retention.due_for_purge(s, NOW.replace(tzinfo=None), uniform(730)) == due
        with pytest.raises(ValueError):
            uniform(0)


def test_purge_removes_everything_that_belongs_to_the_ip(app):
    with app.app_context():
        s = db.session
        gone = make_ip(s, decided_days_ago=800)
        kept = make_ip(s, status="evaluation")
        retention_link = make_ip(s, decided_days_ago=800, full=False)
        s.add(IpLink(ip_id=gone.id, linked_ip_id=kept.id))
        s.add(IpLink(ip_id=kept.id, linked_ip_id=gone.id))
        s.add(Draft(id="d" * 43, departement="31", ciphertext=b"x", submission_token="t" * 43, ip_id=gone.id))
        s.commit()
        gone_id, kept_id = gone.id, kept.id
        assert _count(s, Attachment) == 4 and _count(s, Message) == 2

        ids = retention.due_for_purge(s, NOW, uniform(730))
        assert ids == [gone_id, retention_link.id]
        assert retention.purge(s, ids) == 2
        s.commit()
        s.expire_all()

        assert s.get(InformationPreoccupante, gone_id) is None
        assert s.get(InformationPreoccupante, kept_id) is not None
        for model in (Attachment, Message, IpChild, IpCategory, FollowUp, IpEvent):
            left = s.scalars(select(model.ip_id)).all()
            assert left == [kept_id] * len(left) and left, model.__name__
        assert _count(s, Attachment) == 2 and _count(s, Message) == 1
        assert _count(s, IpLink) == 0
        assert s.get(Draft, "d" * 43).ip_id is None


def test_purge_works_in_batches_and_reports_progress(app):
    with app.app_context():
        s = db.session
        ids = [make_ip(s, decided_days_ago=800, full=False).id for _ in range(5)]
        s.commit()
        seen = []
        assert retention.purge(s, ids + [ids[0]], seen.append, batch=2) == 5
        s.commit()
        assert seen == [2, 4, 5]
        assert _count(s, InformationPreoccupante) == 0
        assert retention.purge(s, []) == 0


def _cli(app):
    return app.test_cli_runner()


def test_cli_dry_run_deletes_nothing(app):
    with app.app_context():
        make_ip(db.session, decided_days_ago=800)
        make_ip(db.session, decided_days_ago=800)
        db.session.commit()
    result = _cli(app).invoke(args=["purge", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "2 IP(s) in all" in result.output and "nothing deleted" in result.output
    with app.app_context():
        assert _count(db.session, InformationPreoccupante) == 2
        assert _count(db.session, Attachment) == 4
        assert _count(db.session, AuditEntry) == 0


def test_cli_asks_before_deleting(app):
    with app.app_context():
        make_ip(db.session, decided_days_ago=800)
        db.session.commit()
    result = _cli(app).invoke(args=["purge"], input="n\n")
    assert result.exit_code != 0
    with app.app_context():
        assert _count(db.session, InformationPreoccupante) == 1


@pytest.mark.parametrize("how", [["--yes"], []])
def test_cli_purges_and_records_it(app, how):
    with app.app_context():
        make_ip(db.session, decided_days_ago=800)
        make_ip(db.session, status="evaluation")
        db.session.commit()
    result = _cli(app).invoke(args=["purge", *how], input="y\n")
    assert result.exit_code == 0, result.output
    assert "Deleted 1 IP(s)." in result.output
    with app.app_context():
        s = db.session
        assert _count(s, InformationPreoccupante) == 1
        entries = s.scalars(select(AuditEntry)).all()
        assert [e.action for e in entries] == ["purge"] and entries[0].detail.startswith("1 IP")
        assert audit.verify(s, key=app.config["AUDIT_KEY"]) == []


def test_cli_retention_from_config(app):
    with app.app_context():
        make_ip(db.session, decided_days_ago=100)
        db.session.commit()
    runner = _cli(app)
    assert "0 IP(s) in all" in runner.invoke(args=["purge", "--dry-run"]).output
    app.config["RETENTION_CLOSED_DAYS"] = 90
    out = runner.invoke(args=["purge", "--dry-run"]).output
    assert "closed without further action: kept 90 days after the decision (RETENTION_CLOSED_DAYS): 1 IP(s) due." in out


# One rule per outcome, undecided IPs included ---------------------------------------------------

def test_each_outcome_has_its_own_duration(app):
    with app.app_context():
        s = db.session
        closed = make_ip(s, status="closed", decided_days_ago=200, full=False)
        helped = make_ip(s, status="help", decided_days_ago=200, full=False)
        judicial = make_ip(s, status="signalement", decided_days_ago=200, full=False)
        transferred = make_ip(s, status="transferred", decided_days_ago=200, full=False)
        linked = make_ip(s, status="linked", decided_days_ago=200, full=False)
        undecided = make_ip(s, status="evaluation", received_days_ago=400, full=False)
        fresh = make_ip(s, status="new", received_days_ago=10, full=False)
        s.commit()
        policy = retention.Policy(no_followup_days=100, help_days=300, judicial_days=150, passed_on_days=250,
                                  undecided_days=365)
        got = {rule.name: ids for rule, ids in retention.due_by_rule(s, NOW, policy)}
        assert got == {"no_followup": [closed.id], "help": [], "judicial": [judicial.id], "passed_on": [],
                       "undecided": [undecided.id]}
        assert retention.due_for_purge(s, NOW, policy) == sorted([closed.id, judicial.id, undecided.id])
        policy = retention.Policy(300, 100, 300, 100, 5)
        assert retention.due_for_purge(s, NOW, policy) == sorted(
            [helped.id, transferred.id, linked.id, undecided.id, fresh.id])


def test_policy_from_the_settings(app):
    policy = retention.Policy.from_config(app.config)
    assert [(r.name, r.days, r.since) for r in policy.rules()] == [
        ("no_followup", 730, "decision"), ("help", 730, "decision"), ("judicial", 730, "decision"),
        ("passed_on", 730, "decision"), ("undecided", 1095, "receipt")]


def test_cli_dry_run_shows_each_rule(app):
    with app.app_context():
        make_ip(db.session, status="help", decided_days_ago=800, full=False)
        make_ip(db.session, status="analysis", received_days_ago=1200, full=False)
        db.session.commit()
    out = _cli(app).invoke(args=["purge", "--dry-run"]).output
    lines = out.splitlines()
    assert lines[:6] == [
        "closed without further action: kept 730 days after the decision (RETENTION_CLOSED_DAYS): 0 IP(s) due.",
        "administrative help: kept 730 days after the decision (RETENTION_HELP_DAYS): 1 IP(s) due.",
        "referred to the judicial authority: kept 730 days after the decision (RETENTION_JUDICIAL_DAYS): 0 IP(s) due.",
        "transferred to another CRIP or linked to another IP: kept 730 days after the decision "
        "(RETENTION_PASSED_ON_DAYS): 0 IP(s) due.",
        "never decided: kept 1095 days after receipt (RETENTION_UNDECIDED_DAYS): 1 IP(s) due.",
        "2 IP(s) in all are due for deletion.",
    ]
    with app.app_context():
        assert _count(db.session, InformationPreoccupante) == 2
