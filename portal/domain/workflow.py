"""The IP workflow: statuses, who may move an IP from one to another, and what each step needs.

new → analysis (→ more_info → analysis) → evaluation (assigned to a territory, due date) →
decided: closed (classement sans suite) | help (administrative help proposed) |
signalement (to the procureur, with its date) | transferred (to another département's CRIP) |
linked (to an existing IP about the same child). A signalement may be made at any point.
Reopening a decided IP needs a reason. Anything else is refused with a clear message.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session

from ..models import InformationPreoccupante, IpEvent, IpLink
from . import sealing

OPEN = ("new", "analysis", "more_info", "evaluation")
DECIDED = ("closed", "help", "signalement", "transferred", "linked")
STATUSES = OPEN + DECIDED

# (from, to): roles allowed
TRANSITIONS = {
    ("new", "analysis"): {"agent", "supervisor"},
    ("analysis", "more_info"): {"agent", "supervisor"},
    ("more_info", "analysis"): {"agent", "supervisor"},
    ("analysis", "evaluation"): {"supervisor"},
    ("more_info", "evaluation"): {"supervisor"},
}
for _src in ("analysis", "more_info", "evaluation"):
    for _dst in ("closed", "help", "transferred", "linked"):
        TRANSITIONS[(_src, _dst)] = {"supervisor"}
for _src in OPEN:
    TRANSITIONS[(_src, "signalement")] = {"supervisor"}
for _src in DECIDED:
    TRANSITIONS[(_src, "analysis")] = {"supervisor"}   # reopening

NEEDS_REASON = set(DECIDED) | {"more_info"}


class TransitionError(ValueError):
    """`code` is a short reason the web layer translates."""

    def __init__(self, code: str):
        self.code = code
        super().__init__(code)


@dataclass
class Change:
    to: str
    reason: str = ""
    team: str | None = None
    due: date | None = None
    signalement_on: date | None = None
    transfer_to: str | None = None
    linked_ip: InformationPreoccupante | None = None


def allowed_targets(status: str, role: str) -> list[str]:
    return [dst for (src, dst), roles in TRANSITIONS.items() if src == status and role in roles]


def apply(session: Session, ip: InformationPreoccupante, change: Change, *, role: str, actor_id: int,
          crip_public_key: bytes, now: datetime, teams: tuple = ()) -> IpEvent:
    src, dst = ip.status, change.to
    if dst not in STATUSES:
        raise TransitionError("unknown_status")
    roles = TRANSITIONS.get((src, dst))
    if roles is None:
        raise TransitionError("not_allowed")
    if role not in roles:
        raise TransitionError("role")
    reopening = src in DECIDED
    if (dst in NEEDS_REASON or reopening) and not (change.reason or "").strip():
        raise TransitionError("reason")
    if dst == "evaluation":
        if not change.team or (teams and change.team not in teams):
            raise TransitionError("team")
        if change.due is None:
            raise TransitionError("due")
        ip.assigned_team = change.team
        ip.evaluation_due = min(change.due, ip.evaluation_due) if ip.evaluation_due else change.due
    if dst == "signalement":
        if change.signalement_on is None:
            raise TransitionError("signalement_date")
        ip.signalement_on = change.signalement_on
    if dst == "transferred":
        if not change.transfer_to:
            raise TransitionError("transfer_to")
        ip.transfer_to = change.transfer_to
    if dst == "linked":
        other = change.linked_ip
        if other is None or other.id == ip.id or other.received_by != ip.received_by:
            raise TransitionError("link")
        link(session, ip, other)
    if dst in DECIDED:
        ip.outcome = dst
        ip.decided_at = now
    if reopening:
        ip.outcome = None
        ip.decided_at = None
    event = IpEvent(ip_id=ip.id, at=now, actor_id=actor_id, from_status=src, to_status=dst,
                    reason_sealed=sealing.seal_json(crip_public_key, {"reason": change.reason})
                    if change.reason else None)
    ip.status = dst
    session.add(event)
    session.flush()
    return event


def link(session: Session, a: InformationPreoccupante, b: InformationPreoccupante) -> None:
    for x, y in ((a, b), (b, a)):
        if session.get(IpLink, (x.id, y.id)) is None:
            session.add(IpLink(ip_id=x.id, linked_ip_id=y.id))
    session.flush()
