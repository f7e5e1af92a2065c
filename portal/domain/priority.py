"""Urgency and due dates of an IP: a documented, testable rule set.

Urgency (1 is the most urgent; the queue sorts on it, then on the time of receipt):
  1 IMMEDIATE  the sender says the child is in danger right now, or sexual violence is reported
               together with a child under 6;
  2 HIGH       a child under 2 (shorter evaluation deadline, CASF D226-2-4), sexual or physical
               violence, an unaccompanied minor, or a report written by a young person themselves
               (answered first, as the 119 does);
  3 NORMAL     everything else.
Due dates:
  analysis    first analysis (qualification) by the CRIP: next working day for urgency 1-2, within
              5 working days otherwise (Essonne qualifies every IP within 24 working hours);
  evaluation  3 months from receipt (CASF D226-2-4); shorter for a child under 2 and for urgency 1,
              the durations coming from configuration (EVALUATION_DAYS*).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from . import questionnaire

IMMEDIATE, HIGH, NORMAL = 1, 2, 3
CATEGORIES = questionnaire.CATEGORY_CODES     # the codes of "What worries you?", declared once
AGE_BANDS = ("0-1", "2-5", "6-10", "11-14", "15-17", "18+", "unknown")


def age_band(age_years: int | None) -> str:
    if age_years is None or age_years < 0:
        return "unknown"
    if age_years < 2:
        return "0-1"
    if age_years < 6:
        return "2-5"
    if age_years < 11:
        return "6-10"
    if age_years < 15:
        return "11-14"
    if age_years < 18:
        return "15-17"
    return "18+"


def age_on(birth: date, today: date) -> int:
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


@dataclass(frozen=True)
class Priority:
    urgency: int
    reasons: tuple
    analysis_due: date
    evaluation_due: date


def add_working_days(start: date, days: int) -> date:
    d = start
    while days > 0:
        d += timedelta(days=1)
        if d.weekday() < 5:
            days -= 1
    return d


def assess(*, danger_now: bool, categories, ages, source_type: str, received: date,
           evaluation_days: int = 92, evaluation_days_under_2: int = 30,
           evaluation_days_urgent: int = 15) -> Priority:
    """`ages`: the children's ages in years (None when unknown)."""
    cats = set(categories)
    known = [a for a in ages if a is not None]
    youngest = min(known) if known else None
    reasons = []
    if danger_now:
        reasons.append("danger_now")
    if "sexual" in cats and youngest is not None and youngest < 6:
        reasons.append("sexual_young_child")
    if reasons:
        urgency = IMMEDIATE
    else:
        if youngest is not None and youngest < 2:
            reasons.append("under_2")
        if "sexual" in cats:
            reasons.append("sexual")
        if "physical" in cats:
            reasons.append("physical")
        if "unaccompanied" in cats:
            reasons.append("unaccompanied")
        if source_type == "young":
            reasons.append("young_sender")
        urgency = HIGH if reasons else NORMAL
    days = evaluation_days
    if youngest is not None and youngest < 2:
        days = min(days, evaluation_days_under_2)
    if urgency == IMMEDIATE:
        days = min(days, evaluation_days_urgent)
    analysis = add_working_days(received, 1 if urgency <= HIGH else 5)
    return Priority(urgency, tuple(reasons), analysis, received + timedelta(days=days))
