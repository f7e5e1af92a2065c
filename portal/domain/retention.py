"""Retention: an IP decided (closed, help, signalement, transferred, linked) longer ago than the
configured duration (RETENTION_CLOSED_DAYS, the département's to set) is deleted with everything
that belongs to it.

The foreign keys say ON DELETE CASCADE (and SQLite enforces them: PRAGMA foreign_keys=ON in
portal.extensions), but the dependent rows are also deleted explicitly here, child tables first,
so that nothing is left behind whatever the database does. Drafts that became an IP only lose
their link (ON DELETE SET NULL). The audit log is kept: it holds no content of an IP.

No Flask here: the caller commits (and records the purge in the audit log).
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from ..models import (
    Attachment, Draft, FollowUp, InformationPreoccupante as IP, IpCategory, IpChild, IpEvent,
    IpLink, Message, as_utc,
)

CLOSED_STATUSES = ("closed", "help", "signalement", "transferred", "linked")
BATCH = 100


def cutoff(now: datetime, retention_closed_days: int) -> datetime:
    if retention_closed_days is None or int(retention_closed_days) < 1:
        raise ValueError("retention_closed_days must be a positive number of days")
    return as_utc(now) - timedelta(days=int(retention_closed_days))


def due_for_purge(session: Session, now: datetime, retention_closed_days: int) -> list[int]:
    """Ids of the decided IPs whose decision is older than the retention duration."""
    limit = cutoff(now, retention_closed_days)
    return list(session.scalars(
        select(IP.id).where(IP.status.in_(CLOSED_STATUSES), IP.decided_at.is_not(None),
                            IP.decided_at < limit).order_by(IP.id)))


def _purge_batch(session: Session, ids: list[int]) -> int:
    opts = {"synchronize_session": False}
    session.execute(delete(Attachment).where(Attachment.ip_id.in_(ids)), execution_options=opts)
    session.execute(delete(Message).where(Message.ip_id.in_(ids)), execution_options=opts)
    session.execute(delete(IpChild).where(IpChild.ip_id.in_(ids)), execution_options=opts)
    session.execute(delete(IpCategory).where(IpCategory.ip_id.in_(ids)), execution_options=opts)
    session.execute(delete(FollowUp).where(FollowUp.ip_id.in_(ids)), execution_options=opts)
    session.execute(delete(IpEvent).where(IpEvent.ip_id.in_(ids)), execution_options=opts)
    session.execute(delete(IpLink).where(or_(IpLink.ip_id.in_(ids), IpLink.linked_ip_id.in_(ids))),
                    execution_options=opts)
    session.execute(update(Draft).where(Draft.ip_id.in_(ids)).values(ip_id=None), execution_options=opts)
    result = session.execute(delete(IP).where(IP.id.in_(ids)), execution_options=opts)
    return result.rowcount or 0


def purge(session: Session, ids, progress=None, *, batch: int = BATCH) -> int:
    """Delete the IPs `ids` and their dependent rows, `batch` at a time; after each batch call
    `progress(n_done)` with the number of ids handled so far. Return the number of IPs deleted.
    Flushed, not committed."""
    ids = list(dict.fromkeys(int(i) for i in ids))
    session.flush()
    deleted = 0
    for start in range(0, len(ids), batch):
        chunk = ids[start:start + batch]
        deleted += _purge_batch(session, chunk)
        if progress is not None:
            progress(start + len(chunk))
    # Objects of the deleted rows that this session may still hold are gone from the database.
    gone = set(ids)
    for obj in list(session.identity_map.values()):
        if isinstance(obj, IP) and obj.id in gone:
            session.expunge(obj)
    return deleted
