"""flask --app portal outbox send | remind: notification mails to the CRIP staff."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from ..domain import outbox
from .common import database, now

group = AppGroup("outbox", help="Notification mails to the CRIP staff.")


def _sender():
    """The mail sender the settings ask for, and words saying which one it is."""
    cfg = current_app.config
    if not cfg.get("MAIL_SERVER"):
        return outbox.console_sender(click.echo), "console"
    sender = outbox.smtp_sender(cfg["MAIL_SERVER"], cfg.get("MAIL_PORT", 25), cfg.get("MAIL_FROM", "no-reply@localhost"),
                                starttls=bool(cfg.get("MAIL_USE_TLS", False)),
                                username=cfg.get("MAIL_USERNAME") or None,
                                password=cfg.get("MAIL_PASSWORD") or None)
    return sender, f"SMTP {cfg['MAIL_SERVER']}"


@group.command("send")
@click.option("--max-attempts", default=5, show_default=True, type=click.IntRange(1),
              help="Give up on a mail after this many failed tries.")
def send(max_attempts):
    """Send the queued mails (printed on the console when MAIL_SERVER is not set)."""
    sender, via = _sender()
    with database() as session:
        sent, failed = outbox.send_pending(session, sender=sender, now=now(), max_attempts=max_attempts)
    click.echo(f"Outbox via {via}: {sent} sent, {failed} failed.")


def _queue_reminders(session, code: str, moment, days, feedback_days=()) -> tuple[int, int]:
    """Queue the reminders of one CRIP (evaluation deadlines, and the feedback owed to professionals
    and elected officials); returns (mails queued, IPs concerned)."""
    due = outbox.deadline_reminders(session, moment, tuple(days), departement=code)
    feedback = outbox.feedback_reminders(session, moment, tuple(feedback_days), departement=code)
    if not due and not feedback:
        return 0, 0
    recipients = outbox.staff_recipients(session, code)
    if not recipients:
        click.echo(f"Warning: {len(due) + len(feedback)} IP(s) of {code} near a deadline but no active "
                   "agent or supervisor to remind.", err=True)
        return 0, 0
    queued = sum(len(outbox.notify_deadline(session, ip, recipients, days_left)) for ip, days_left in due)
    queued += sum(len(outbox.notify_feedback(session, ip, recipients, days_left)) for ip, days_left in feedback)
    return queued, len({ip.id for ip, _d in due} | {ip.id for ip, _d in feedback})


@group.command("remind")
@click.option("--days", "days", multiple=True, type=click.IntRange(0), default=(7, 1), show_default=True,
              help="Remind this many days before the evaluation is due (repeatable).")
@click.option("--feedback-days", "feedback_days", multiple=True, type=click.IntRange(0), default=(14, 1, 0),
              show_default=True,
              help="Remind this many days before the sender's feedback is due (L226-5; repeatable).")
def remind(days, feedback_days):
    """Queue reminders of the evaluation deadlines, and of the feedback owed to professionals and
    elected officials, for each CRIP's agents and supervisors."""
    moment = now()
    queued = ips = 0
    with database() as session:
        for code in current_app.config["PROFILES"]:
            q, n = _queue_reminders(session, code, moment, days, feedback_days)
            queued += q
            ips += n
        session.commit()
    click.echo(f"Queued {queued} reminder(s) for {ips} IP(s).")


def register(app) -> None:
    app.cli.add_command(group)
