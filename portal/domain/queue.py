"""The CRIP queue: urgency first, then the oldest; keyset pagination that stays fast at any depth."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from ..models import InformationPreoccupante as IP

PAGE_SIZE = 50


def cursor_of(ip: IP) -> str:
    return f"{ip.urgency}_{ip.received_at.isoformat()}_{ip.id}"


MAX_ID = 2**31 - 1   # an INTEGER column, on SQLite and PostgreSQL alike


def parse_cursor(text: str):
    """(urgency, received_at, id) from a cursor, or None when it is malformed or out of range
    (a number the database cannot hold must never reach it)."""
    try:
        u, ts, i = (text or "")[:80].split("_")
        urgency, at, ip_id = int(u), datetime.fromisoformat(ts), int(i)
    except (ValueError, AttributeError, OverflowError):
        return None
    if not (0 <= urgency <= 9 and 0 <= ip_id <= MAX_ID):
        return None
    at = at.replace(tzinfo=timezone.utc) if at.tzinfo is None else at.astimezone(timezone.utc)
    return urgency, at, ip_id


def page(session: Session, conditions, after=None, size: int = PAGE_SIZE):
    """One page of IPs matching `conditions`, after the (urgency, received_at, id) cursor.
    Returns (rows, has_more). Served by the ix_ips_queue index."""
    q = select(IP).where(*conditions)
    if after is not None:
        # A row-value comparison: the database jumps straight into ix_ips_queue at the cursor.
        q = q.where(tuple_(IP.urgency, IP.received_at, IP.id) > tuple_(*after))
    q = q.order_by(IP.urgency, IP.received_at, IP.id).limit(size + 1)
    rows = list(session.scalars(q))
    return rows[:size], len(rows) > size
