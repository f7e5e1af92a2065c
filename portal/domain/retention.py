"""Retention: how long an IP is kept, per outcome, and a purge that leaves nothing behind.

One rule per outcome, each duration set by the Département (settings RETENTION_*_DAYS, README; the
CNIL's reference framework for child-protection processing guides the choice; no number is
hard-coded as the law's):
  no follow-up     closed without further action (classement sans suite), counted from the decision;
  help             administrative help agreed with the parents, from the decision;
  judicial         referred to the procureur / juge des enfants, from the decision;
  passed on        transferred to another département's CRIP, or linked to another IP of the same
                   child (that one carries the record), from the decision;
  undecided        never decided (still open), counted from receipt: an IP is not kept for ever
                   because nobody closed it.
An IP due under its rule is deleted with everything that belongs to it.

The foreign keys say ON DELETE CASCADE (and SQLite enforces them: PRAGMA foreign_keys=ON in
portal.extensions), but the dependent rows are also deleted explicitly here, child tables first,
so that nothing is left behind whatever the database does. Drafts that became an IP only lose
their link (ON DELETE SET NULL). The audit log is kept: it holds no content of an IP.

No Flask here: the caller commits (and records the purge in the audit log).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from ..models import (
    Attachment, Draft, FollowUp, InformationPreoccupante as IP, IpCategory, IpChild, IpEvent,
    IpLink, Message, as_utc,
)

OPEN_STATUSES = ("new", "analysis", "more_info", "evaluation")
CLOSED_STATUSES = ("closed", "help", "signalement", "transferred", "linked")
BATCH = 100


@dataclass(frozen=True)
class Rule:
    name: str             # no_followup | help | judicial | passed_on | undecided
    statuses: tuple
    days: int
    since: str            # "decision" or "receipt"


@dataclass(frozen=True)
class Policy:
    """The Département's retention durations, in days (settings RETENTION_*_DAYS)."""
    no_followup_days: int
    help_days: int
    judicial_days: int
    passed_on_days: int
    undecided_days: int

    def __post_init__(self):
        for name in ("no_followup_days", "help_days", "judicial_days", "passed_on_days", "undecided_days"):
            value = getattr(self, name)
            if value is None or int(value) < 1:
                raise ValueError(f"{name} must be a positive number of days")

    @classmethod
    def from_config(cls, cfg) -> Policy:
        return cls(no_followup_days=int(cfg["RETENTION_CLOSED_DAYS"]), help_days=int(cfg["RETENTION_HELP_DAYS"]),
                   judicial_days=int(cfg["RETENTION_JUDICIAL_DAYS"]),
                   passed_on_days=int(cfg["RETENTION_PASSED_ON_DAYS"]),
                   undecided_days=int(cfg["RETENTION_UNDECIDED_DAYS"]))

    def rules(self) -> tuple[Rule, ...]:
        return (
            Rule("no_followup", ("closed",), int(self.no_followup_days), "decision"),
            Rule("help", ("help",), int(self.help_days), "decision"),
            Rule("judicial", ("signalement",), int(self.judicial_days), "decision"),
            Rule("passed_on", ("transferred", "linked"), int(self.passed_on_days), "decision"),
            Rule("undecided", OPEN_STATUSES, int(self.undecided_days), "receipt"),
        )


def cutoff(now: datetime, days: int) -> datetime:
    if days is None or int(days) < 1:
        raise ValueError("a retention duration must be a positive number of days")
    return as_utc(now) - timedelta(days=int(days))


def due_under(session: Session, now: datetime, rule: Rule) -> list[int]:
    """Ids of the IPs that `rule` makes due for deletion at `now`."""
    limit = cutoff(now, rule.days)
    if rule.since == "decision":
        cond = (IP.status.in_(rule.statuses), IP.decided_at.is_not(None), IP.decided_at < limit)
    else:
        cond = (IP.status.in_(rule.statuses), IP.received_at < limit)
    return list(session.scalars(select(IP.id).where(*cond).order_by(IP.id)))


def due_by_rule(session: Session, now: datetime, policy: Policy) -> list[tuple[Rule, list[int]]]:
    """Each rule of `policy` with the ids it makes due (every rule listed, due or not)."""
    return [(rule, due_under(session, now, rule)) for rule in policy.rules()]


def due_for_purge(session: Session, now: datetime, policy: Policy) -> list[int]:
    """Ids of every IP due for deletion under `policy`, in id order."""
    return sorted({i for _rule, ids in due_by_rule(session, now, policy) for i in ids})


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
