"""The CRIP queue: urgency first, then the oldest; keyset pagination that stays fast at any depth."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from ..models import InformationPreoccupante as IP

PAGE_SIZE = 50


def cursor_of(ip: IP) -> str:
    return f"{ip.urgency}_{ip.received_at.isoformat()}_{ip.id}"


def parse_cursor(text: str):
    try:
        u, ts, i = text.split("_")
        return int(u), datetime.fromisoformat(ts), int(i)
    except (ValueError, AttributeError):
        return None


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
