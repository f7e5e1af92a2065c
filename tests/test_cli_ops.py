"""The operations commands (portal/cli/: audit, purge, outbox, stats) through Flask's CLI runner."""
import csv
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, text

from portal.domain import audit, keys
from portal.extensions import db
from portal.models import AuditEntry, InformationPreoccupante, IpCategory, IpChild, OutboxMail, StaffUser

_n = [0]


def runner_for(app):
    return app.test_cli_runner()


def make_ip(session, *, dep="31", received_at=None, evaluation_due=None, status="evaluation"):
    _n[0] += 1
    received_at = received_at or datetime.now(timezone.utc)
    ip = InformationPreoccupante(
        reference=f"CLI-{_n[0]:06d}", received_by=dep, routing_status="routed", departement=dep,
        territory="toulouse", source_type="public", language="fr", youngest_age_band="2-5",
        urgency=3, status=status, received_at=received_at, analysis_due=received_at.date(),
        evaluation_due=evaluation_due or received_at.date() + timedelta(days=92),
        crip_key_id=keys.active_key(session, dep).id, sealed=b"\x00secret free text")
    ip.children.append(IpChild(position=0, age_band="2-5", sex="m", sealed=b"c"))
    ip.categories.append(IpCategory(category="psychological"))
    session.add(ip)
    session.flush()
    return ip


def staff(session, email, role="agent", dep="31", active=True):
    session.add(StaffUser(email=email, name=email.split("@")[0], role=role, departement=dep,
                          password_hash="x", active=active))


def test_commands_are_registered(app):
    runner = runner_for(app)
    for args in (["audit", "--help"], ["purge", "--help"], ["outbox", "--help"], ["stats", "--help"]):
        result = runner.invoke(args=args)
        assert result.exit_code == 0, result.output


def test_audit_verify_intact_then_damaged(app):
    runner = runner_for(app)
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0 and "audit log intact: 0 entries" in result.output
    with app.app_context():
        for i in range(5):
            audit.record(db.session, key=app.config["AUDIT_KEY"], actor_id=1, action="signin", detail=str(i))
        db.session.commit()
        second = db.session.scalars(select(AuditEntry.id).order_by(AuditEntry.id)).all()[1]
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0 and "audit log intact: 5 entries" in result.output
    with app.app_context():
        db.session.execute(text("UPDATE audit_log SET actor_id = 2 WHERE id = :i"), {"i": second})
        db.session.commit()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"entry {second}: hash mismatch" in result.output


def test_outbox_send_on_the_console(app):
    runner = runner_for(app)
    assert app.config["MAIL_SERVER"] == ""
    with app.app_context():
        from portal.domain import outbox
        outbox.queue_mail(db.session, recipient="agent@cd31.fr", subject="Une IP vous attend",
                          body="Connectez-vous.", kind="test")
        db.session.commit()
    result = runner.invoke(args=["outbox", "send"])
    assert result.exit_code == 0, result.output
    assert "agent@cd31.fr" in result.output and "Une IP vous attend" in result.output
    assert "1 sent, 0 failed" in result.output
    result = runner.invoke(args=["outbox", "send"])
    assert "0 sent, 0 failed" in result.output


def test_outbox_send_through_smtp(app, monkeypatch):
    from portal.domain import outbox
    delivered = []

    class FakeSMTP:
        def __init__(self, host, port, timeout=None):
            if host == "down.example":
                raise OSError("connection refused")

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def send_message(self, msg):
            delivered.append(msg["To"])

    monkeypatch.setattr(outbox.smtplib, "SMTP", FakeSMTP)
    runner = runner_for(app)
    with app.app_context():
        outbox.queue_mail(db.session, recipient="a@cd31.fr", subject="s", body="b", kind="test")
        db.session.commit()
    app.config["MAIL_SERVER"] = "down.example"
    result = runner.invoke(args=["outbox", "send"])
    assert result.exit_code == 0 and "0 sent, 1 failed" in result.output
    app.config["MAIL_SERVER"] = "relay.example"
    result = runner.invoke(args=["outbox", "send"])
    assert "1 sent, 0 failed" in result.output and delivered == ["a@cd31.fr"]
    with app.app_context():
        assert db.session.scalar(select(OutboxMail.attempts)) == 2


def test_outbox_remind_queues_for_active_agents_and_supervisors(app):
    runner = runner_for(app)
    today = datetime.now(timezone.utc).astimezone(ZoneInfo("Europe/Paris")).date()
    with app.app_context():
        s = db.session
        staff(s, "agent@cd31.fr", "agent")
        staff(s, "chef@cd31.fr", "supervisor")
        staff(s, "parti@cd31.fr", "agent", active=False)
        staff(s, "eval@cd31.fr", "evaluator")
        staff(s, "agent@cd38.fr", "agent", dep="38")
        make_ip(s, evaluation_due=today + timedelta(days=7))
        make_ip(s, evaluation_due=today + timedelta(days=1))
        make_ip(s, evaluation_due=today + timedelta(days=2))
        s.commit()
    result = runner.invoke(args=["outbox", "remind"])
    assert result.exit_code == 0, result.output
    assert "Queued 4 reminder(s) for 2 IP(s)." in result.output
    with app.app_context():
        recipients = sorted(db.session.scalars(select(OutboxMail.recipient)))
    assert recipients == ["agent@cd31.fr", "agent@cd31.fr", "chef@cd31.fr", "chef@cd31.fr"]
    again = runner.invoke(args=["outbox", "remind"])
    assert "Queued 0 reminder(s)" in again.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(OutboxMail)) == 4


def test_outbox_remind_queues_the_feedback_owed_to_professionals_and_elected_officials(app):
    runner = runner_for(app)
    today = datetime.now(timezone.utc).astimezone(ZoneInfo("Europe/Paris")).date()
    with app.app_context():
        s = db.session
        staff(s, "agent@cd31.fr", "agent")
        due = make_ip(s, evaluation_due=today + timedelta(days=40))
        due.feedback_due = today + timedelta(days=14)
        late = make_ip(s, evaluation_due=today + timedelta(days=40))
        late.feedback_due = today + timedelta(days=3)                  # not a reminder day
        s.commit()
        ref = due.reference
    result = runner.invoke(args=["outbox", "remind"])
    assert result.exit_code == 0, result.output
    assert "Queued 1 reminder(s) for 1 IP(s)." in result.output
    with app.app_context():
        mail = db.session.scalars(select(OutboxMail)).one()
        assert mail.kind == "feedback" and ref in mail.body and mail.recipient == "agent@cd31.fr"
    only_three = runner.invoke(args=["outbox", "remind", "--feedback-days", "3"])
    assert "Queued 1 reminder(s) for 1 IP(s)." in only_three.output


def test_stats_export(app, tmp_path):
    runner = runner_for(app)
    with app.app_context():
        refs = [make_ip(db.session, received_at=datetime(2026, 4, d, 10, tzinfo=timezone.utc)).reference
                for d in (3, 17)]
        make_ip(db.session, dep="38", received_at=datetime(2026, 4, 5, 10, tzinfo=timezone.utc))
        db.session.commit()
    out = tmp_path / "stats.csv"
    result = runner.invoke(args=["stats", "export", "31", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "Wrote 2 row(s)" in result.output
    content = out.read_text(encoding="utf-8")
    rows = list(csv.DictReader(content.splitlines()))
    assert len(rows) == 2 and {r["month_received"] for r in rows} == {"2026-04"}
    assert all(ref not in content for ref in refs)
    assert "secret" not in content and "2026-04-03" not in content
    period = runner.invoke(args=["stats", "export", "31", "--out", str(out), "--since", "2026-04-10"])
    assert "Wrote 1 row(s)" in period.output
    with app.app_context():
        assert [e.action for e in db.session.scalars(select(AuditEntry))] == ["stats_export", "stats_export"]


@pytest.mark.parametrize("dep", ["75", "xx", ""])
def test_stats_export_bad_departement(app, tmp_path, dep):
    result = runner_for(app).invoke(args=["stats", "export", dep, "--out", str(tmp_path / "x.csv")])
    assert result.exit_code == 2
    assert len(result.output.strip().splitlines()) == 1
    assert "not served" in result.output
    assert not (tmp_path / "x.csv").exists()


def test_stats_export_unwritable_file(app, tmp_path):
    result = runner_for(app).invoke(args=["stats", "export", "31", "--out", str(tmp_path / "no" / "x.csv")])
    assert result.exit_code == 2 and "cannot write" in result.output


def test_purge_dry_run_and_yes(app):
    runner = runner_for(app)
    with app.app_context():
        ip = make_ip(db.session, status="closed")
        ip.outcome = "closed"
        ip.decided_at = datetime.now(timezone.utc) - timedelta(days=app.config["RETENTION_CLOSED_DAYS"] + 1)
        db.session.commit()
    dry = runner.invoke(args=["purge", "--dry-run"])
    assert dry.exit_code == 0 and "1 IP(s)" in dry.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(InformationPreoccupante)) == 1
    done = runner.invoke(args=["purge", "--yes"])
    assert done.exit_code == 0 and "Deleted 1 IP(s)." in done.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(InformationPreoccupante)) == 0
    assert runner.invoke(args=["audit", "verify"]).output.strip() == "audit log intact: 1 entries, 0 anchor(s) checked"


def test_missing_schema_is_one_line_error(tmp_path):
    from portal import create_app
    bare = create_app({"TESTING": True, "SECRET_KEY": "k" * 40, "INSTANCE_PATH": str(tmp_path / "i"),
                       "DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}"}, env={})
    runner = runner_for(bare)
    for args in (["audit", "verify"], ["purge", "--dry-run"], ["outbox", "send"], ["outbox", "remind"],
                 ["stats", "export", "31", "--out", str(tmp_path / "s.csv")]):
        result = runner.invoke(args=args)
        assert result.exit_code == 2, (args, result.output)
        assert "cannot use the database" in result.output
        assert "Traceback" not in result.output


def test_commands_that_write_audit_lines_refuse_the_public_sites_settings(tmp_path):
    """Audit lines are keyed with AUDIT_KEY, which the public site never holds: a command that
    writes one stops with one line before doing anything, rather than writing an unkeyed line."""
    from tests.conftest import make_app
    public = make_app(tmp_path, PORTAL_SERVES=["public"])
    assert public.config["AUDIT_KEY"] is None
    with public.app_context():
        make_ip(db.session, status="closed", received_at=datetime.now(timezone.utc) - timedelta(days=4000))
        db.session.commit()
    runner = runner_for(public)
    r = runner.invoke(args=["purge", "--yes"])
    assert r.exit_code == 2 and "keyed with AUDIT_KEY" in r.output
    r = runner.invoke(args=["stats", "export", "31", "--out", str(tmp_path / "s.csv")])
    assert r.exit_code == 2 and "keyed with AUDIT_KEY" in r.output
    assert not (tmp_path / "s.csv").exists()
    with public.app_context():
        assert db.session.scalar(select(func.count()).select_from(InformationPreoccupante)) == 1
        assert audit.count(db.session) == 0
    assert runner.invoke(args=["purge", "--dry-run"]).exit_code == 0
