"""The CRIP queue: urgency first, then the oldest; keyset pagination that stays fast at any depth."""
from __future__ import annotations

from datetime import date, datetime, timezone
from functools import lru_cache
from typing import NamedTuple

from sqlalchemy import and_, bindparam, case, func, select, tuple_
from sqlalchemy.orm import Session

from ..models import InformationPreoccupante as IP, Message
from .workflow import OPEN

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


# What a queue row shows (never the sealed answers), and `unread`: the sender's unread messages.
ROW_COLUMNS = (IP.id, IP.reference, IP.urgency, IP.received_at, IP.status, IP.source_type, IP.channel,
               IP.probably_automated, IP.routing_status, IP.departement, IP.territory, IP.assigned_team,
               IP.youngest_age_band, IP.evaluation_due)


@lru_cache(maxsize=1)
def _unread_column():
    return (select(func.count()).where(Message.ip_id == IP.id, Message.direction == "to_crip",
                                       Message.read_at.is_(None)).correlate(IP).scalar_subquery().label("unread"))


def page(session: Session, conditions, after=None, size: int = PAGE_SIZE):
    """One page of IPs matching `conditions`, after the (urgency, received_at, id) cursor.
    Returns (rows, has_more): rows of ROW_COLUMNS and `unread`, in one round trip (the unread count
    is a correlated subquery served by the index on messages.ip_id). Served by the ix_ips_queue index."""
    q = select(*ROW_COLUMNS, _unread_column()).where(*conditions)
    if after is not None:
        # A row-value comparison: the database jumps straight into ix_ips_queue at the cursor.
        q = q.where(tuple_(IP.urgency, IP.received_at, IP.id) > tuple_(*after))
    q = q.order_by(IP.urgency, IP.received_at, IP.id).limit(size + 1)
    rows = session.execute(q).all()
    return rows[:size], len(rows) > size


_PAGE_STATEMENTS: dict = {}
_PAGE_STATEMENTS_MAX = 256


def page_by_shape(session: Session, shape: tuple, conditions_of, params: dict, after=None,
                  size: int = PAGE_SIZE):
    """page(), with its statement built once per `shape` (which conditions there are, not their
    values) instead of on every request: `conditions_of()` builds the conditions, in which every value
    that differs between two requests of the same shape is a bound parameter named in `params`."""
    key = (shape, after is not None, size)
    q = _PAGE_STATEMENTS.get(key)
    if q is None:
        q = select(*ROW_COLUMNS, _unread_column()).where(*conditions_of())
        if after is not None:
            q = q.where(tuple_(IP.urgency, IP.received_at, IP.id) > tuple_(
                bindparam("after_urgency", type_=IP.urgency.type), bindparam("after_at", type_=IP.received_at.type),
                bindparam("after_id", type_=IP.id.type)))
        q = q.order_by(IP.urgency, IP.received_at, IP.id).limit(size + 1)
        if len(_PAGE_STATEMENTS) >= _PAGE_STATEMENTS_MAX:
            _PAGE_STATEMENTS.pop(next(iter(_PAGE_STATEMENTS)))
        _PAGE_STATEMENTS[key] = q
    if after is not None:
        params = dict(params, after_urgency=after[0], after_at=after[1], after_id=after[2])
    rows = session.execute(q, params).all()
    return rows[:size], len(rows) > size


class Scope(NamedTuple):
    """What a staff member may see: the IPs their département's CRIP holds; a territorial evaluator
    (`team_only`), only those assigned to their team."""
    departement: str
    team: str | None = None
    team_only: bool = False

    def conditions(self) -> list:
        return _scope_conditions(self.departement, self.team, self.team_only)

    def shape(self) -> tuple:
        """What changes the statement (not only its parameters)."""
        return (self.team_only, self.team_only and self.team is None)

    def params(self) -> dict:
        return {"scope_dep": self.departement, "scope_team": self.team}

    def bound_conditions(self) -> list:
        """conditions() with the bound parameters of params(), for a statement built once per shape()."""
        return _scope_conditions(bindparam("scope_dep", self.departement),
                                 None if self.team_only and self.team is None else bindparam("scope_team", self.team),
                                 self.team_only)


def _scope_conditions(departement, team, team_only: bool) -> list:
    cond = [IP.received_by == departement]
    if team_only:
        cond.append(IP.assigned_team == team)
    return cond


# The agent's desk -----------------------------------------------------------------------------

# The common filters, one click away; each is a condition on open IPs (except "all").
VIEWS = ("open", "mine", "new", "overdue", "urgent", "unread", "waiting", "transfer", "automated", "all")


def _unread_ip_ids():
    return select(Message.ip_id).where(Message.direction == "to_crip", Message.read_at.is_(None))


def view_conditions(view: str, *, user_id: int, today: date) -> list:
    """The conditions of a common filter; the values that vary are the bound parameters "view_user"
    (`user_id`) and "view_today" (`today`)."""
    if view == "all":
        return []
    cond = [IP.status.in_(OPEN)]
    extra = {
        "mine": lambda: IP.taken_by_id == bindparam("view_user", user_id),
        "new": lambda: IP.status == "new",
        "overdue": lambda: IP.evaluation_due < bindparam("view_today", today),
        "urgent": lambda: IP.urgency <= 2,
        "unread": lambda: IP.id.in_(_unread_ip_ids()),
        "waiting": lambda: IP.status == "more_info",
        "transfer": lambda: IP.routing_status == "transfer",
        "automated": lambda: IP.probably_automated.is_(True),
    }.get(view)
    if extra is not None:
        cond.append(extra())
    return cond


def desk_counts(session: Session, scope: Scope, *, user_id: int, today: date, since: datetime | None = None) -> dict:
    """How many open IPs each common filter holds, in one round trip (open IPs only: they stay few);
    the IPs with unread sender messages are counted by an uncorrelated subquery of the same statement.
    With `since`, the same statement also counts what arrived since then (see new_since): keys
    "new_ips" and "new_messages". The statement is built once per shape, with bound parameters."""
    statement, keys = _desk_counts_statement(scope.shape(), since is not None)
    params = dict(scope.params(), desk_user=user_id, desk_today=today, desk_since=since)
    row = session.execute(statement, params).one()
    return {k: int(v or 0) for k, v in zip(keys, row)}


@lru_cache(maxsize=8)
def _desk_counts_statement(shape: tuple, with_since: bool):
    team_only, team_null = shape
    visible = _scope_conditions(bindparam("scope_dep"), None if team_null else bindparam("scope_team"), team_only)

    def n(c):
        return func.coalesce(func.sum(case((c, 1), else_=0)), 0)
    unread = (select(func.count(func.distinct(Message.ip_id))).join(IP, IP.id == Message.ip_id)
              .where(*visible, IP.status.in_(OPEN), Message.direction == "to_crip", Message.read_at.is_(None))
              .correlate(None).scalar_subquery())
    columns = [func.count(), n(IP.taken_by_id == bindparam("desk_user")), n(IP.status == "new"),
               n(IP.evaluation_due < bindparam("desk_today")), n(IP.urgency <= 2), n(IP.status == "more_info"),
               n(IP.routing_status == "transfer"), n(IP.probably_automated.is_(True)), unread]
    keys = ("open", "mine", "new", "overdue", "urgent", "waiting", "transfer", "automated", "unread")
    if with_since:
        columns += [q.correlate(None).scalar_subquery() for q in _new_since(visible, bindparam("desk_since"))]
        keys += ("new_ips", "new_messages")
    return select(*columns).where(*visible, IP.status.in_(OPEN)), keys


def _new_since(visible, since: datetime):
    ips = select(func.count()).select_from(IP).where(*visible, IP.received_at > since)
    msgs = (select(func.count()).select_from(Message).join(IP, IP.id == Message.ip_id)
            .where(*visible, Message.direction == "to_crip", Message.created_at > since))
    return ips, msgs


def new_since(session: Session, visible, since: datetime) -> tuple[int, int]:
    """IPs received and sender messages arrived since `since`."""
    ips, msgs = _new_since(visible, since)
    return int(session.scalar(ips) or 0), int(session.scalar(msgs) or 0)


FEEDBACK_FILTERS = ("due", "overdue", "given")


def feedback_condition(kind: str, today: date):
    """Query condition of the back-office filter on the feedback owed to a professional or an
    elected official (CASF L226-5): "due" (not yet given), "overdue" (not given, due date passed,
    `today` a Paris date, the bound parameter "feedback_today"), "given"; None for an unknown kind."""
    owed = IP.feedback_due.is_not(None)
    if kind == "due":
        return and_(owed, IP.feedback_given_on.is_(None))
    if kind == "overdue":
        return and_(owed, IP.feedback_given_on.is_(None), IP.feedback_due < bindparam("feedback_today", today))
    if kind == "given":
        return IP.feedback_given_on.is_not(None)
    return None
