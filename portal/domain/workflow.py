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
from .priority import paris_date

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
    parents_notified_on: date | None = None   # the written notice to the parents (L226-5), when sent


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
        if change.parents_notified_on is not None:
            record_parents_notice(ip, change.parents_notified_on, paris_date(now))
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


# Duties around the decision -------------------------------------------------------------------------

REFER_NOW, SENDER_REFERRED, SENDER_WILL_REFER = "refer_now", "sender_referred", "sender_will_refer"


def referral_prompt(ip: InformationPreoccupante) -> str | None:
    """What the case page must prompt about the procureur, for an open IP without a signalement:
    REFER_NOW when the danger is serious and immediate (CASF D226-2-4 I 2°: the CRIP refers to the
    procureur without delay); SENDER_REFERRED when the professional says a signalement was already
    sent (the CRIP gets its copy, L226-4 II: no second signalement is needed for the same facts, the
    CRIP checks with the parquet); SENDER_WILL_REFER when the professional says one will be sent."""
    if ip.status not in OPEN or ip.signalement_on is not None:
        return None
    if ip.sender_signalement == "yes":
        return SENDER_REFERRED
    if not (ip.danger_now or ip.urgency == 1):
        return None
    if ip.sender_signalement == "planned":
        return SENDER_WILL_REFER
    return REFER_NOW


def _check_day(ip: InformationPreoccupante, on: date, today: date) -> None:
    if on is None:
        raise TransitionError("date")
    if on > today:
        raise TransitionError("future_date")
    received = paris_date(ip.received_at) if ip.received_at is not None else None
    if received is not None and on < received:
        raise TransitionError("before_receipt")


def record_feedback(ip: InformationPreoccupante, on: date, today: date) -> None:
    """The sender (a professional or an elected official) was told what followed (L226-5)."""
    if ip.feedback_due is None and not ip.wants_feedback:
        raise TransitionError("no_feedback")
    _check_day(ip, on, today)
    ip.feedback_given_on = on


def record_parents_notice(ip: InformationPreoccupante, on: date, today: date) -> None:
    """The parents were told in writing that the situation goes to the judicial authority (L226-5)."""
    _check_day(ip, on, today)
    ip.parents_notified_on = on


def parents_notice_missing(ip: InformationPreoccupante) -> bool:
    """The case went to the judicial authority and no written notice to the parents is recorded."""
    return ip.status == "signalement" and ip.parents_notified_on is None
