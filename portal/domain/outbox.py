"""Notifications to CRIP staff, queued in the `outbox` table and sent by `flask outbox send`.

A notification says only that something is waiting in the back office, with the IP's reference
and, for a deadline, the due date: never a name, a category, an age, a place or any text from the
report. Mail is not a safe channel; the back office is.

Queueing is idempotent through `dedup_key` (kind + IP + reference [+ day] + recipient), so that
running `flask outbox remind` twice, or notifying the same IP twice, queues one mail.

Senders are plain callables `sender(recipient, subject, body)` that raise on failure:
`smtp_sender()` (smtplib) or `console_sender()` (the embedded default: prints the mail).

No Flask here.
"""
from __future__ import annotations

import hashlib
import logging
import smtplib
import ssl
from datetime import date, datetime, timedelta
from email.message import EmailMessage
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, defer

from ..models import InformationPreoccupante as IP, OutboxMail, StaffUser, as_utc

log = logging.getLogger(__name__)

PARIS = ZoneInfo("Europe/Paris")
KIND_NEW_URGENT = "new_urgent"
KIND_DEADLINE = "deadline"
KIND_FEEDBACK = "feedback"
OPEN_STATUSES = ("new", "analysis", "more_info", "evaluation")
NOTIFIED_ROLES = ("agent", "supervisor")
FOOTER = (
    "\n\nCe message ne contient volontairement aucun détail sur la situation : "
    "connectez-vous au back-office de la CRIP pour la consulter.\n"
    "Message automatique, merci de ne pas y répondre."
)


def _recipient_tag(recipient: str) -> str:
    return hashlib.sha256(recipient.strip().lower().encode()).hexdigest()[:16]


def dedup_key(kind: str, ip: IP, recipient: str, day: str = "") -> str:
    return f"{kind}:{ip.id}:{ip.reference}:{day}:{_recipient_tag(recipient)}"[:120]


def staff_recipients(session: Session, departement: str, roles=NOTIFIED_ROLES) -> list[str]:
    """E-mail addresses of the active agents and supervisors of a département's CRIP."""
    return list(session.scalars(
        select(StaffUser.email).where(StaffUser.departement == departement, StaffUser.role.in_(roles),
                                      StaffUser.active.is_(True)).order_by(StaffUser.id)))


def queue_mail(session: Session, *, recipient: str, subject: str, body: str, kind: str,
               dedup_key: str | None = None) -> OutboxMail | None:
    """Queue one mail (flushed, not committed); None when `dedup_key` is already queued."""
    if dedup_key is not None:
        exists = session.scalar(select(OutboxMail.id).where(OutboxMail.dedup_key == dedup_key))
        if exists is not None:
            return None
    mail = OutboxMail(recipient=recipient[:200], subject=subject[:200], body=body, kind=kind[:30],
                      dedup_key=dedup_key, attempts=0)
    session.add(mail)
    session.flush()
    return mail


def _ip_subject_prefix(ip: IP) -> str:
    return f"CRIP {ip.received_by}"


def _notify(session: Session, ip: IP, recipients, *, kind: str, subject: str, text: str,
            base_url: str | None, day: str = "") -> list[OutboxMail]:
    """Queue one mail about `ip` to each recipient (once each, and once per `day` for a reminder):
    `text`, then the back office's address when known, then the footer."""
    body = f"Bonjour,\n\n{text}"
    if base_url:
        body += f"\n\nBack-office : {base_url}"
    body += FOOTER
    out = []
    for r in dict.fromkeys(recipients):
        m = queue_mail(session, recipient=r, subject=f"{_ip_subject_prefix(ip)} : {subject}", body=body,
                       kind=kind, dedup_key=dedup_key(kind, ip, r, day))
        if m is not None:
            out.append(m)
    return out


def notify_new_urgent(session: Session, ip: IP, recipients, *, base_url: str | None = None) -> list[OutboxMail]:
    """Tell `recipients` that an urgent IP is waiting in the queue (reference only)."""
    return _notify(session, ip, recipients, kind=KIND_NEW_URGENT, base_url=base_url,
                   subject="une information préoccupante urgente vous attend",
                   text=(f"Une information préoccupante urgente (référence {ip.reference}) "
                         f"est arrivée dans la file de la CRIP {ip.received_by}."))


def notify_deadline(session: Session, ip: IP, recipients, days_left: int, *,
                    base_url: str | None = None) -> list[OutboxMail]:
    """Remind `recipients` that an IP's evaluation is due in `days_left` days (reference and date only)."""
    due: date = ip.evaluation_due
    when = "demain" if days_left == 1 else f"dans {days_left} jours"
    return _notify(session, ip, recipients, kind=KIND_DEADLINE, base_url=base_url,
                   day=f"{due.isoformat()}/{days_left}", subject=f"échéance d'évaluation {when}",
                   text=(f"L'évaluation de l'information préoccupante {ip.reference} arrive à "
                         f"échéance le {due.strftime('%d/%m/%Y')} ({when}) et aucune décision n'est encore "
                         "enregistrée."))


def _due_in(session: Session, now: datetime, days_before, due_column, *conditions,
            departement: str | None, tz) -> list[tuple[IP, int]]:
    """The IPs whose `due_column` falls in exactly one of `days_before` days (local date) and that
    meet `conditions`, with that number of days, earliest first."""
    today = as_utc(now).astimezone(tz).date()
    targets = {today + timedelta(days=int(d)): int(d) for d in days_before}
    if not targets:
        return []
    q = (select(IP).options(defer(IP.sealed))
         .where(due_column.in_(list(targets)), *conditions)
         .order_by(due_column, IP.id))
    if departement is not None:
        q = q.where(IP.received_by == departement)
    return [(ip, targets[getattr(ip, due_column.key)]) for ip in session.scalars(q)]


def deadline_reminders(session: Session, now: datetime, days_before=(7, 1), *,
                       departement: str | None = None, tz=PARIS) -> list[tuple[IP, int]]:
    """Undecided IPs whose evaluation is due in exactly one of `days_before` days (local date)."""
    return _due_in(session, now, days_before, IP.evaluation_due, IP.decided_at.is_(None),
                   IP.status.in_(OPEN_STATUSES), departement=departement, tz=tz)


def feedback_reminders(session: Session, now: datetime, days_before=(14, 1), *,
                       departement: str | None = None, tz=PARIS) -> list[tuple[IP, int]]:
    """IPs whose sender (a professional or an elected official) must be told what followed
    (CASF L226-5) in exactly one of `days_before` days (Paris date), whatever the IP's status, and
    who has not been told yet."""
    return _due_in(session, now, days_before, IP.feedback_due, IP.feedback_given_on.is_(None),
                   departement=departement, tz=tz)


def notify_feedback(session: Session, ip: IP, recipients, days_left: int, *,
                    base_url: str | None = None) -> list[OutboxMail]:
    """Remind `recipients` that the sender of an IP must be told what followed by its due date
    (reference and date only)."""
    due: date = ip.feedback_due
    when = "aujourd'hui" if days_left == 0 else ("demain" if days_left == 1 else f"dans {days_left} jours")
    return _notify(session, ip, recipients, kind=KIND_FEEDBACK, base_url=base_url,
                   day=f"{due.isoformat()}/{days_left}",
                   subject=f"retour à l'auteur de l'information préoccupante {when}",
                   text=(f"L'auteur de l'information préoccupante {ip.reference} (un professionnel ou un "
                         f"élu) doit être informé des suites données au plus tard le {due.strftime('%d/%m/%Y')} "
                         f"({when}), trois mois après son envoi (article L226-5 du code de l'action sociale et des "
                         "familles). Aucun retour n'est encore enregistré."))


def send_pending(session: Session, *, sender, now: datetime, max_attempts: int = 5,
                 limit: int | None = None) -> tuple[int, int]:
    """Send the mails not yet sent that have had fewer than `max_attempts` tries; return
    (sent, failed). Each mail is committed as soon as it is tried, so that a crash never sends
    a mail twice; on PostgreSQL each mail is claimed with FOR UPDATE SKIP LOCKED so that two
    senders running at once do not both send it."""
    pg = session.get_bind().dialect.name == "postgresql"
    sent = failed = 0
    last_id = 0
    while limit is None or sent + failed < limit:
        q = (select(OutboxMail).where(OutboxMail.sent_at.is_(None), OutboxMail.attempts < max_attempts,
                                      OutboxMail.id > last_id)
             .order_by(OutboxMail.id).limit(1))
        if pg:
            q = q.with_for_update(skip_locked=True)
        mail = session.scalars(q).first()
        if mail is None:
            break
        last_id = mail.id
        mail.attempts = (mail.attempts or 0) + 1
        try:
            sender(mail.recipient, mail.subject, mail.body)
        except Exception as exc:
            failed += 1
            log.warning("outbox mail %s not sent (attempt %s of %s): %s", mail.id, mail.attempts,
                        max_attempts, type(exc).__name__)
        else:
            mail.sent_at = as_utc(now)
            sent += 1
        session.commit()
    return sent, failed


def smtp_sender(server: str, port: int, mail_from: str, *, starttls: bool = False,
                username: str | None = None, password: str | None = None, timeout: float = 30):
    """A sender that delivers through an SMTP relay (one connection per mail)."""
    def send(recipient: str, subject: str, body: str) -> None:
        msg = EmailMessage()
        msg["From"] = mail_from
        msg["To"] = recipient
        msg["Subject"] = subject
        msg.set_content(body)
        with smtplib.SMTP(server, int(port), timeout=timeout) as smtp:
            if starttls:
                smtp.starttls(context=ssl.create_default_context())
            if username:
                smtp.login(username, password or "")
            smtp.send_message(msg)
    return send


def console_sender(echo=print):
    """A sender that prints the mail (embedded default, when no MAIL_SERVER is set)."""
    def send(recipient: str, subject: str, body: str) -> None:
        echo(f"To: {recipient}\nSubject: {subject}\n\n{body}\n" + "-" * 40)
    return send
