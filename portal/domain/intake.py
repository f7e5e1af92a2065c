"""Turning a finished draft into an IP in the CRIP's queue: one transaction, sealed, routed, prioritised.

No Flask here: the web layer passes the cleaned answers, the files, the served profiles and the
CRIP's public key, and commits (or rolls back) the session.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import nacl.utils
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Attachment, FollowUp, InformationPreoccupante, IpCategory, IpChild, Message
from . import codes, keys, priority, routing, sealing
from .sealing import KDF_SALT_BYTES


@dataclass(frozen=True)
class Receipt:
    ip_id: int
    reference: str
    code: str
    crip: str = ""                  # the département whose CRIP holds the IP
    routing_status: str = ""        # routed | transfer | unrouted
    departement: str | None = None  # the child's département according to routing


def child_age(child: dict, today: date) -> int | None:
    """Age in years from the date of birth, else the age given, else the estimate's lower bound."""
    if child.get("birth_date"):
        try:
            return priority.age_on(date.fromisoformat(child["birth_date"]), today)
        except ValueError:
            pass
    if child.get("age") not in (None, ""):
        return int(child["age"])
    band = child.get("age_estimate")
    lower = {"0-1": 0, "2-5": 2, "6-10": 6, "11-14": 11, "15-17": 15}
    return lower.get(band)


def _route_of(answers: dict, served: dict) -> routing.Route:
    """Route on the first child whose place is known (siblings live together in most reports)."""
    for child in answers.get("children", []):
        if child.get("commune") or child.get("postcode"):
            return routing.route(insee=child.get("commune") or None,
                                 postcode=child.get("postcode") or None, served=served)
    return routing.Route(routing.UNROUTED, None, None)


def _unique_reference(session: Session) -> str:
    while True:
        ref = codes.new_reference()
        if session.scalar(select(InformationPreoccupante.id).where(InformationPreoccupante.reference == ref)) is None:
            return ref


def submit(session: Session, *, answers: dict, files: list, received_by: str, served: dict,
           crip_key, secret_key: str, submission_token: str | None, language: str,
           probably_automated: bool, now: datetime, channel: str = "online") -> Receipt:
    """Add the IP and everything that belongs to it to `session` (flushed, not committed).

    `files`: CheckedFile-like objects (name, mime, data). `received_by`: the département whose site
    (or back office) received it, `crip_key` its CripKey row. A child of another served département
    goes to that département's CRIP, sealed to its key (routing.destination); `received_by` is then
    kept as "received via". The caller commits; on any error it rolls back and nothing is stored.
    Dates (ages, due dates) are Paris dates; the deadlines are the holding CRIP's (its profile's
    `[deadlines]`).
    """
    today = priority.paris_date(now)
    where = _route_of(answers, served)
    dest = routing.destination(where, received_on=received_by, served=served)
    holder, via = received_by, None
    if dest.crip != received_by:
        other_key = keys.active_key(session, dest.crip)
        if other_key is not None:          # without a key there, the receiving CRIP routes it by hand
            holder, via, crip_key = dest.crip, received_by, other_key
    children = answers.get("children") or [{}]
    ages = [child_age(c, today) for c in children]
    categories = sorted(set(answers.get("concern", {}).get("categories", [])) & set(priority.CATEGORIES))
    danger_now = answers.get("concern", {}).get("danger_now") == "yes"
    source_type = answers.get("source_type", "public")
    prio = priority.assess(danger_now=danger_now, categories=categories, ages=ages,
                           source_type=source_type, received=today, departement=holder,
                           deadlines=served[holder].deadlines)
    known = [a for a in ages if a is not None]
    sender = answers.get("sender", {})
    owed_feedback = source_type in priority.FEEDBACK_DUTY_SOURCES
    anonymous = not owed_feedback and sender.get("anonymous") == "yes"
    said = (answers.get("pro") or {}).get("signalement")
    pk = crip_key.public_key

    ip = InformationPreoccupante(
        reference=_unique_reference(session),
        submission_token=submission_token,
        received_by=holder,
        received_via=via,
        routing_status=where.status,
        departement=where.departement,
        territory=where.territory,
        channel=channel,
        source_type=source_type,
        source_sector=answers.get("sector") or None,
        language=language,
        contact_language=sender.get("contact_language") or language,
        anonymous=anonymous,
        wants_feedback=owed_feedback or bool(sender.get("wants_feedback")),
        feedback_due=priority.feedback_due(now, source_type),
        sender_signalement=said if said in ("no", "yes", "planned") else None,
        danger_now=danger_now,
        child_count=len(children),
        youngest_age_band=priority.age_band(min(known)) if known else "unknown",
        urgency=prio.urgency,
        urgency_reasons=",".join(prio.reasons),
        probably_automated=probably_automated,
        status="new",
        received_at=now,
        analysis_due=prio.analysis_due,
        evaluation_due=prio.evaluation_due,
        crip_key_id=crip_key.id,
        sealed=sealing.seal_json(pk, {k: v for k, v in answers.items() if k != "children"}),
    )
    for i, (child, age) in enumerate(zip(children, ages)):
        ip.children.append(IpChild(position=i, age_band=priority.age_band(age),
                                   sex=child.get("sex") if child.get("sex") in ("f", "m") else "x",
                                   sealed=sealing.seal_json(pk, child)))
    for cat in categories:
        ip.categories.append(IpCategory(category=cat))
    code = codes.new_followup_code()
    salt = nacl.utils.random(KDF_SALT_BYTES)
    _sk, followup_pk = sealing.derive_keypair(code, salt, sealing.FOLLOWUP_KDF)
    ip.followup = FollowUp(code_hash=codes.code_hash(secret_key, code), kdf_salt=salt, public_key=followup_pk,
                           kdf=sealing.FOLLOWUP_KDF)
    session.add(ip)
    session.flush()
    add_attachments(session, ip_id=ip.id, files=files, public_key=pk)
    return Receipt(ip.id, ip.reference, code, holder, where.status, where.departement)


def add_attachments(session: Session, *, ip_id: int, files, public_key: bytes, message_id: int | None = None) -> int:
    """Seal and write each file, one at a time: `files` may be a generator that reads each from
    storage only when asked, and each sealed copy is let go once written (flushed and expunged),
    so memory holds one file, not all of them. Returns the number written."""
    n = 0
    for f in files:
        mime, size = f.mime, len(f.data)
        blob = json.dumps({"name": f.name, "mime": mime}).encode() + b"\n" + f.data
        del f
        attachment = Attachment(ip_id=ip_id, message_id=message_id, mime=mime, size=size,
                                sealed=sealing.seal_bytes(public_key, blob))
        del blob
        session.add(attachment)
        session.flush()
        session.expunge(attachment)
        n += 1
    return n


def open_attachment(private_key: bytes, sealed: bytes) -> tuple[dict, bytes]:
    blob = sealing.open_bytes(private_key, sealed)
    head, _, data = blob.partition(b"\n")
    return json.loads(head), data


# Follow-up channel ------------------------------------------------------------------------------

@dataclass(frozen=True)
class FollowUpAccess:
    ip_id: int
    private_key: bytes


class FollowUpLocked(Exception):
    def __init__(self, until: datetime):
        self.until = until


def check_followup(session: Session, *, reference: str, code: str, secret_key: str, now: datetime,
                   lock_after: int, lock_seconds: int) -> FollowUpAccess | None:
    """Return access for a right reference + code, None for anything else (one message whatever
    the reason). Never locks: anyone who knows a reference could lock its sender out. Wrong codes
    are counted against the reference for `lock_seconds` after the last one, and slow every
    attempt on it down (see followup_delay); the right code always opens. `lock_after` is kept for
    the callers' signature (the free failures are given to followup_delay)."""
    ref = codes.normalize_reference(reference)
    norm = codes.normalize_code(code)
    if ref is None:
        return None
    ip = session.scalar(select(InformationPreoccupante).where(InformationPreoccupante.reference == ref))
    if ip is None or ip.followup is None:
        return None
    fu = ip.followup
    import hmac
    if norm is None or not hmac.compare_digest(fu.code_hash, codes.code_hash(secret_key, norm)):
        window_end = _aware(fu.locked_until)
        if window_end is None or window_end <= now:
            fu.failed_attempts = 0          # the last failures are old: count afresh
        fu.failed_attempts += 1
        fu.locked_until = now + timedelta(seconds=lock_seconds)   # failures counted until then
        session.flush()
        return None
    fu.failed_attempts = 0
    fu.locked_until = None
    fu.last_seen_at = now
    sk, pk = sealing.derive_keypair(norm, fu.kdf_salt, fu.kdf or sealing.FOLLOWUP_KDF_ARGON2ID)
    if pk != fu.public_key:
        return None
    session.flush()
    return FollowUpAccess(ip.id, sk)


def followup_delay(session: Session, *, reference: str, now: datetime, free: int, base_ms: int,
                   max_ms: int) -> float:
    """Seconds to wait before checking a code for this reference: none for its first `free`
    recent failures, then doubling from `base_ms` up to `max_ms` (slowed, never locked)."""
    from .staff import throttle_delay
    ref = codes.normalize_reference(reference)
    if ref is None:
        return 0.0
    fu = session.scalar(select(FollowUp).join(InformationPreoccupante).where(InformationPreoccupante.reference == ref))
    if fu is None or fu.locked_until is None or _aware(fu.locked_until) <= now:
        return 0.0
    return throttle_delay(fu.failed_attempts, free=free, base_ms=base_ms, max_ms=max_ms)


def _aware(dt: datetime | None) -> datetime | None:
    from datetime import timezone
    return dt.replace(tzinfo=timezone.utc) if dt is not None and dt.tzinfo is None else dt


def post_sender_message(session: Session, *, ip: InformationPreoccupante, crip_public_key: bytes,
                        text: str, now: datetime, files=()) -> Message:
    """A message from the sender: sealed to the CRIP, and to the sender's own follow-up key.

    `files` (checked files, see attachments.check_upload) are added to the IP's attachments, sealed
    to the CRIP like the report's own, and tied to this message (added by the sender after sending);
    both sealed copies of the message carry their names."""
    files = list(files)
    body = {"text": text}
    if files:
        body["files"] = [f.name for f in files]
    msg = Message(ip_id=ip.id, direction="to_crip", created_at=now,
                  sealed_for_crip=sealing.seal_json(crip_public_key, body),
                  sealed_for_sender=sealing.seal_json(ip.followup.public_key, body))
    session.add(msg)
    session.flush()
    if files:
        add_attachments(session, ip_id=ip.id, files=files, public_key=crip_public_key, message_id=msg.id)
    return msg


def post_crip_message(session: Session, *, ip: InformationPreoccupante, crip_public_key: bytes,
                      text: str, author: str, now: datetime) -> Message:
    """A message from the CRIP: readable by the holder of the follow-up code, and by the CRIP."""
    body = {"text": text, "author": author}
    msg = Message(ip_id=ip.id, direction="to_sender", created_at=now,
                  sealed_for_crip=sealing.seal_json(crip_public_key, body),
                  sealed_for_sender=sealing.seal_json(ip.followup.public_key, body))
    session.add(msg)
    session.flush()
    return msg


def sender_messages(ip: InformationPreoccupante, private_key: bytes, now: datetime) -> list[dict]:
    """The messages the follow-up code opens; marks CRIP messages as read."""
    out = []
    for m in ip.messages:
        if m.sealed_for_sender is None:
            continue
        try:
            body = sealing.open_json(private_key, m.sealed_for_sender)
        except sealing.SealError:
            continue
        if m.direction == "to_sender" and m.read_at is None:
            m.read_at = now
        out.append({"direction": m.direction, "text": body.get("text", ""), "files": body.get("files", []),
                    "at": m.created_at})
    return out


COARSE_STATUS = {
    "new": "received", "analysis": "assessing", "more_info": "assessing", "evaluation": "assessing",
    "closed": "closed", "help": "closed", "signalement": "closed", "transferred": "closed", "linked": "closed",
}


def coarse_status(status: str) -> str:
    return COARSE_STATUS.get(status, "assessing")
