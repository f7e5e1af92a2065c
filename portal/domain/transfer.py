"""Transfer of an IP from one CRIP of this instance to another (the child lives in the other
département, or moved there).

Only the holder of the source CRIP's private key can do it: every sealed part of the IP (its text,
each child, each attachment, the CRIP's copy of each message, the reasons of its history) is opened
with that key and sealed again to the destination's public key, in the caller's transaction (flushed,
not committed: all or nothing). The IP then belongs to the destination's queue as a new IP; the source
keeps a stub (IpTransfer: reference, destination, when, who) and both sides' audit lines are written.
The sender's copy of each message (sealed to the follow-up code) is left as it is: the follow-up code
keeps working.

No Flask here.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from ..models import InformationPreoccupante as IP, IpEvent, IpLink, IpTransfer
from . import audit, keys, priority, sealing


class TransferError(ValueError):
    """`code` is a short reason the web layer words: same, not_served, no_key, wrong_key, decided."""

    def __init__(self, code: str):
        self.code = code
        super().__init__(code)


def _reseal(private_key: bytes, public_key: bytes, sealed: bytes) -> bytes:
    return sealing.seal_bytes(public_key, sealing.open_bytes(private_key, sealed))


def transfer(session: Session, ip: IP, *, source_private_key: bytes, destination: str, served: dict,
             actor_id: int | None, now: datetime, audit_key: str | bytes | None) -> IpTransfer:
    """Move `ip` to `destination`'s CRIP, re-sealed to its key. Raises TransferError (nothing changed).
    `audit_key` (AUDIT_KEY) keys the two audit lines written; without it nothing is done."""
    if not audit_key:
        raise audit.AuditKeyMissing("a transfer is audited: AUDIT_KEY is needed")
    source = ip.received_by
    destination = (destination or "").strip().upper()
    if destination == source:
        raise TransferError("same")
    if destination not in (served or {}):
        raise TransferError("not_served")
    dest_key = keys.active_key(session, destination)
    if dest_key is None:
        raise TransferError("no_key")
    try:
        sealing.open_bytes(source_private_key, ip.sealed)
    except sealing.SealError:
        raise TransferError("wrong_key") from None
    pk = dest_key.public_key
    try:
        ip.sealed = _reseal(source_private_key, pk, ip.sealed)
        for child in ip.children:
            child.sealed = _reseal(source_private_key, pk, child.sealed)
            child.desk_digest = None     # keyed from the source's private key: the destination makes its own
        for att in ip.attachments:
            att.sealed = _reseal(source_private_key, pk, att.sealed)
        for msg in ip.messages:
            msg.sealed_for_crip = _reseal(source_private_key, pk, msg.sealed_for_crip)
        for event in session.scalars(select(IpEvent).where(IpEvent.ip_id == ip.id)):
            if event.reason_sealed:
                event.reason_sealed = _reseal(source_private_key, pk, event.reason_sealed)
    except sealing.SealError:
        raise TransferError("wrong_key") from None
    # Links join IPs of one CRIP only.
    session.execute(delete(IpLink).where(or_(IpLink.ip_id == ip.id, IpLink.linked_ip_id == ip.id)),
                    execution_options={"synchronize_session": False})
    today = priority.paris_date(now)
    from_status = ip.status
    ip.received_by = destination
    ip.received_via = ip.received_via or source
    ip.crip_key_id = dest_key.id
    ip.status = "new"
    ip.outcome = None
    ip.decided_at = None
    ip.taken_by_id = None
    ip.assigned_team = None
    ip.transfer_to = None
    if ip.routing_status != "routed" or ip.departement != destination:
        ip.territory = None
    # Blind indexes were keyed from the source's private key: the destination computes its own.
    ip.child_index = None
    ip.family_hint = None
    # The destination's own first-analysis delay, from today; the evaluation keeps its date.
    ip.analysis_due = priority.add_working_days(today, served[destination].deadlines.analysis_working_days,
                                                destination)
    session.add(IpEvent(ip_id=ip.id, at=now, actor_id=actor_id, from_status=from_status, to_status="new"))
    stub = IpTransfer(reference=ip.reference, from_departement=source, to_departement=destination, at=now,
                      actor_id=actor_id)
    session.add(stub)
    session.flush()
    audit.record(session, key=audit_key, actor_id=actor_id, action="transfer_out", target=ip.reference,
                 detail=f"from {source} to {destination}")
    audit.record(session, key=audit_key, actor_id=actor_id, action="transfer_in", target=ip.reference,
                 detail=f"to {destination} from {source}")
    return stub


def stubs(session: Session, departement: str, limit: int = 50) -> list[IpTransfer]:
    """The IPs this CRIP transferred away, most recent first."""
    return list(session.scalars(select(IpTransfer).where(IpTransfer.from_departement == departement)
                                .order_by(IpTransfer.at.desc(), IpTransfer.id.desc()).limit(limit)))


def stub_of(session: Session, reference: str, departement: str) -> IpTransfer | None:
    """The latest stub `departement` keeps of the IP `reference` it transferred away, if any."""
    return session.scalar(select(IpTransfer).where(IpTransfer.reference == reference,
                                                   IpTransfer.from_departement == departement)
                          .order_by(IpTransfer.id.desc()).limit(1))
