"""Notification outbox (portal.domain.outbox): dedup, sending and retries, and mails that say nothing."""
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import select

from portal.domain import keys, outbox, sealing
from portal.domain.priority import paris_date
from portal.extensions import db
from portal.models import InformationPreoccupante, IpCategory, IpChild, OutboxMail

NOW = datetime(2026, 3, 10, 8, 0, tzinfo=timezone.utc)
CHILD_NAME = "Zébulon Tartempion"
_n = [0]


def make_ip(session, *, dep="31", evaluation_due=date(2026, 6, 1), status="evaluation", decided=False,
            urgency=1):
    _n[0] += 1
    pk = keys.active_key(session, dep).public_key
    ip = InformationPreoccupante(
        reference=f"OBX-{_n[0]:06d}", received_by=dep, routing_status="routed", departement=dep,
        territory="toulouse", source_type="public", language="fr", youngest_age_band="0-1",
        urgency=urgency, urgency_reasons="sexual_young_child", status=status, received_at=NOW,
        analysis_due=NOW.date(), evaluation_due=evaluation_due,
        crip_key_id=keys.active_key(session, dep).id,
        sealed=sealing.seal_json(pk, {"concern": {"text": f"{CHILD_NAME} est en danger"}}),
        outcome="closed" if decided else None, decided_at=NOW if decided else None)
    ip.children.append(IpChild(position=0, age_band="0-1", sex="f",
                               sealed=sealing.seal_json(pk, {"first_name": "Zébulon", "last_name": "Tartempion"})))
    ip.categories.append(IpCategory(category="sexual"))
    session.add(ip)
    session.flush()
    return ip


def _mails(session):
    return session.scalars(select(OutboxMail).order_by(OutboxMail.id)).all()


def test_queue_mail_ignores_a_duplicate_dedup_key(app):
    with app.app_context():
        s = db.session
        assert outbox.queue_mail(s, recipient="a@x.fr", subject="s", body="b", kind="k", dedup_key="k1")
        assert outbox.queue_mail(s, recipient="a@x.fr", subject="s2", body="b2", kind="k", dedup_key="k1") is None
        assert outbox.queue_mail(s, recipient="a@x.fr", subject="s", body="b", kind="k")
        assert outbox.queue_mail(s, recipient="a@x.fr", subject="s", body="b", kind="k")
        s.commit()
        assert len(_mails(s)) == 3


def test_notifications_are_deduplicated_per_recipient(app):
    with app.app_context():
        s = db.session
        ip = make_ip(s)
        assert len(outbox.notify_new_urgent(s, ip, ["a@x.fr", "b@x.fr", "a@x.fr"])) == 2
        assert outbox.notify_new_urgent(s, ip, ["a@x.fr", "b@x.fr"]) == []
        assert len(outbox.notify_deadline(s, ip, ["a@x.fr"], 7)) == 1
        assert outbox.notify_deadline(s, ip, ["a@x.fr"], 7) == []
        assert len(outbox.notify_deadline(s, ip, ["a@x.fr"], 1)) == 1    # another day
        ip.evaluation_due = date(2026, 5, 1)                              # new due date: new reminder
        assert len(outbox.notify_deadline(s, ip, ["a@x.fr"], 7)) == 1
        s.commit()
        mails = _mails(s)
        assert len(mails) == 5
        assert all(len(m.dedup_key) <= 120 for m in mails)


def test_mails_say_nothing_about_the_child(app):
    with app.app_context():
        s = db.session
        ip = make_ip(s)
        outbox.notify_new_urgent(s, ip, ["a@x.fr"])
        outbox.notify_deadline(s, ip, ["a@x.fr"], 7)
        outbox.notify_deadline(s, ip, ["a@x.fr"], 1)
        s.commit()
        mails = _mails(s)
        assert len(mails) == 3
        for m in mails:
            text = f"{m.recipient} {m.subject} {m.body} {m.kind} {m.dedup_key}".lower()
            for word in ("zébulon", "tartempion", "sexual", "sexuel", "violence", "toulouse",
                         "0-1", "danger", "sexual_young_child"):
                assert word not in text, (word, m.subject, m.body)
            assert ip.reference in m.body          # the reference is what staff look up
            assert "back-office" in m.body
        assert "01/06/2026" in mails[1].body and "dans 7 jours" in mails[1].subject
        assert "demain" in mails[2].subject


def test_send_pending_and_failing_sender_counts_attempts(app):
    with app.app_context():
        s = db.session
        for i in range(3):
            outbox.queue_mail(s, recipient=f"r{i}@x.fr", subject=f"s{i}", body="b", kind="k")
        s.commit()
        calls = []

        def flaky(recipient, subject, body):
            calls.append(recipient)
            if recipient == "r1@x.fr":
                raise OSError("relay down")

        assert outbox.send_pending(s, sender=flaky, now=NOW) == (2, 1)
        s.expire_all()
        by = {m.recipient: m for m in _mails(s)}
        assert by["r0@x.fr"].sent_at is not None and by["r0@x.fr"].attempts == 1
        assert by["r1@x.fr"].sent_at is None and by["r1@x.fr"].attempts == 1
        # Sent mails are not sent again; the failed one is retried until max_attempts.
        calls.clear()
        for _ in range(5):
            outbox.send_pending(s, sender=flaky, now=NOW, max_attempts=3)
        assert calls == ["r1@x.fr", "r1@x.fr"]
        s.expire_all()
        assert s.scalar(select(OutboxMail.attempts).where(OutboxMail.recipient == "r1@x.fr")) == 3
        assert outbox.send_pending(s, sender=flaky, now=NOW, max_attempts=3) == (0, 0)


def test_console_sender_prints_the_mail():
    lines = []
    outbox.console_sender(lines.append)("a@x.fr", "Sujet", "Corps du message")
    out = "\n".join(lines)
    assert "a@x.fr" in out and "Sujet" in out and "Corps du message" in out


def test_smtp_sender_builds_an_email(monkeypatch):
    sent = []

    class FakeSMTP:
        def __init__(self, host, port, timeout=None):
            sent.append(("connect", host, port))

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def starttls(self, context=None):
            sent.append(("starttls",))

        def login(self, user, password):
            sent.append(("login", user))

        def send_message(self, msg):
            sent.append(("send", msg["From"], msg["To"], msg["Subject"], msg.get_content()))

    monkeypatch.setattr(outbox.smtplib, "SMTP", FakeSMTP)
    outbox.smtp_sender("mail.example", 2525, "crip@example.fr")("a@x.fr", "Échéance", "Bonjour")
    assert sent[0] == ("connect", "mail.example", 2525)
    assert sent[1][:4] == ("send", "crip@example.fr", "a@x.fr", "Échéance")
    assert sent[1][4].strip() == "Bonjour"
    sent.clear()
    outbox.smtp_sender("m", 587, "f@x", starttls=True, username="u", password="p")("a@x.fr", "s", "b")
    assert [c[0] for c in sent] == ["connect", "starttls", "login", "send"]


def test_deadline_reminders(app):
    with app.app_context():
        s = db.session
        today = NOW.date()
        in7 = make_ip(s, evaluation_due=today + timedelta(days=7))
        in1 = make_ip(s, evaluation_due=today + timedelta(days=1), status="analysis")
        in3 = make_ip(s, evaluation_due=today + timedelta(days=3))
        make_ip(s, evaluation_due=today + timedelta(days=7), status="closed", decided=True)
        other = make_ip(s, dep="38", evaluation_due=today + timedelta(days=1))
        s.commit()
        got = outbox.deadline_reminders(s, NOW)
        assert [(ip.id, d) for ip, d in got] == [(in1.id, 1), (other.id, 1), (in7.id, 7)]
        got31 = outbox.deadline_reminders(s, NOW, departement="31")
        assert [(ip.id, d) for ip, d in got31] == [(in1.id, 1), (in7.id, 7)]
        assert [ip.id for ip, _ in outbox.deadline_reminders(s, NOW, (3,))] == [in3.id]
        assert outbox.deadline_reminders(s, NOW, ()) == []


def test_feedback_reminders_for_professionals_and_elected_officials(app):
    """L226-5: the sender is told what followed within 3 months; reminders on the Paris date."""
    with app.app_context():
        s = db.session
        today = paris_date(NOW)
        in14 = make_ip(s, status="closed", decided=True)           # whatever the status
        in14.feedback_due = today + timedelta(days=14)
        in1 = make_ip(s)
        in1.feedback_due = today + timedelta(days=1)
        given = make_ip(s)
        given.feedback_due, given.feedback_given_on = today + timedelta(days=1), today
        no_duty = make_ip(s)                                         # a member of the public: no date
        other = make_ip(s, dep="38")
        other.feedback_due = today
        s.commit()
        got = outbox.feedback_reminders(s, NOW, (14, 1, 0))
        assert [(ip.id, d) for ip, d in got] == [(other.id, 0), (in1.id, 1), (in14.id, 14)]
        assert [ip.id for ip, _d in outbox.feedback_reminders(s, NOW, (14, 1, 0), departement="31")] == [in1.id, in14.id]
        assert no_duty.id not in [ip.id for ip, _d in got] and given.id not in [ip.id for ip, _d in got]
        mails = outbox.notify_feedback(s, in1, ["a@x.fr"], 1)
        assert len(mails) == 1 and outbox.notify_feedback(s, in1, ["a@x.fr"], 1) == []
        body = mails[0].body
        assert in1.reference in body and in1.feedback_due.strftime("%d/%m/%Y") in body and "L226-5" in body
        assert CHILD_NAME not in body and "Zébulon" not in body and mails[0].kind == "feedback"


def test_feedback_due_at_half_past_midnight_in_paris(app):
    """At 23:30 UTC on 31 May it is already 1 June in Paris: a feedback due on 1 June is due today."""
    with app.app_context():
        s = db.session
        ip = make_ip(s)
        ip.feedback_due = date(2026, 6, 1)
        s.commit()
        late_evening = datetime(2026, 5, 31, 22, 30, tzinfo=timezone.utc)    # 00:30 in Paris (summer time)
        assert [(x.id, d) for x, d in outbox.feedback_reminders(s, late_evening, (0,))] == [(ip.id, 0)]
