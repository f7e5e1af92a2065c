"""The CRIP queue: urgency first, then the oldest; keyset pagination that stays fast at any depth."""
from __future__ import annotations

from datetime import date, datetime, timezone

from sqlalchemy import and_, select, tuple_
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


FEEDBACK_FILTERS = ("due", "overdue", "given")


def feedback_condition(kind: str, today: date):
    """Query condition of the back-office filter on the feedback owed to a professional or an
    elected official (CASF L226-5): "due" (not yet given), "overdue" (not given, due date passed,
    `today` a Paris date), "given"; None for an unknown kind."""
    owed = IP.feedback_due.is_not(None)
    if kind == "due":
        return and_(owed, IP.feedback_given_on.is_(None))
    if kind == "overdue":
        return and_(owed, IP.feedback_given_on.is_(None), IP.feedback_due < today)
    if kind == "given":
        return IP.feedback_given_on.is_not(None)
    return None
