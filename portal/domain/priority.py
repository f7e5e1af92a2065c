"""Urgency and due dates of an IP: a documented, testable rule set, in the law's units.

Urgency (1 is the most urgent; the queue sorts on it, then on the time of receipt):
  1 IMMEDIATE  the sender says the child is in danger right now, or sexual violence is reported
               together with a child under 6;
  2 HIGH       a child under 2, sexual or physical violence, an unaccompanied minor, or a report
               written by a young person themselves (answered first, as the 119 does);
  3 NORMAL     everything else.

Due dates. What the law sets and what the Département chooses are kept apart:
  evaluation  the law: 3 calendar months from receipt, "reduced according to the nature of the
              danger and the child's age, in particular under 2" (CASF D226-2-4 II, décret
              n° 2016-1476 of 28 Oct 2016). The decree gives no number for the shorter delays: how
              much shorter (e.g. 30 days under 2, 15 days for an immediate danger) is the
              Département's choice, read from its profile (`[deadlines]`, see
              portal.departements.Deadlines). A shorter delay never lengthens the 3 months.
  analysis    the first analysis (qualification) by the CRIP: within the Département's chosen number
              of working days (profile `[deadlines] analysis_working_days`); no text sets it.
  feedback    a professional or an elected official who sent an IP is told what followed within
              3 months of sending (CASF L226-5 as amended by loi n° 2022-140 art. 24).

Every date is a Paris date (Europe/Paris): a report sent at 00:30 in Paris on 1 March (23:30 UTC on
28 February) is received on 1 March, and a child born on 1 March two years earlier is 2 that day.
Months are calendar months (python-dateutil's relativedelta: 29 Nov → 28 Feb, 31 Mar → 30 Jun).
Working days skip weekends and French public holidays (the `holidays` package), with the local days
of Alsace-Moselle (57, 67, 68) and of the overseas départements.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays
from dateutil.relativedelta import relativedelta

from ..models import as_utc
from . import questionnaire

IMMEDIATE, HIGH, NORMAL = 1, 2, 3
CATEGORIES = questionnaire.CATEGORY_CODES     # the codes of "What worries you?", declared once
AGE_BANDS = ("0-1", "2-5", "6-10", "11-14", "15-17", "18+", "unknown")

PARIS = ZoneInfo("Europe/Paris")
# CASF D226-2-4 II (décret n° 2016-1476): the evaluation is done within 3 months of receipt.
EVALUATION_MONTHS = 3
# CASF L226-5 (loi n° 2022-140, art. 24): professionals and elected officials are told what followed
# within 3 months of sending.
FEEDBACK_MONTHS = 3
# Senders to whom the CRIP owes feedback without their asking (L226-5).
FEEDBACK_DUTY_SOURCES = ("professional", "elected")


@dataclass(frozen=True)
class Deadlines:
    """The Département's own choices (its profile's `[deadlines]` table, defaults in
    portal.departements.DEADLINE_DEFAULTS); none of these numbers is set by a decree."""
    under_2_days: int            # evaluation of a child under 2, calendar days
    urgent_days: int             # evaluation when the danger is immediate, calendar days
    analysis_working_days: int   # first analysis, working days


def paris_date(moment: datetime | date) -> date:
    """The date in Paris at `moment` (a naive datetime is taken as UTC); a date is returned as is."""
    if not isinstance(moment, datetime):
        return moment
    return as_utc(moment).astimezone(PARIS).date()


def add_months(start: date, months: int) -> date:
    """Calendar months: the same day `months` later, or the month's last day when it has no such day."""
    return start + relativedelta(months=months)


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
    """Age in whole years on `today` (a Paris date: see paris_date)."""
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


# Working days ------------------------------------------------------------------------------------

# The `holidays` package's subdivisions of France that have public holidays of their own.
_SUBDIVISIONS = {"57": "57", "67": "6AE", "68": "6AE",
                 "971": "971", "972": "972", "973": "973", "974": "974", "976": "976"}


def holiday_subdivision(departement: str | None) -> str | None:
    """The `holidays` subdivision of a département, None where the national days alone apply."""
    return _SUBDIVISIONS.get((departement or "").strip().upper())


@lru_cache(maxsize=64)
def _holidays(subdivision: str | None, year: int) -> frozenset:
    return frozenset(holidays.France(subdiv=subdivision, years=year).keys())


def is_public_holiday(day: date, departement: str | None = None) -> bool:
    return day in _holidays(holiday_subdivision(departement), day.year)


def is_working_day(day: date, departement: str | None = None) -> bool:
    return day.weekday() < 5 and not is_public_holiday(day, departement)


def add_working_days(start: date, days: int, departement: str | None = None) -> date:
    """The `days`-th working day after `start` (weekends and the département's public holidays skipped)."""
    d = start
    while days > 0:
        d += timedelta(days=1)
        if is_working_day(d, departement):
            days -= 1
    return d


# Due dates -------------------------------------------------------------------------------------

def feedback_due(sent: datetime | date, source_type: str) -> date | None:
    """When a professional or an elected official must have been told what followed (L226-5);
    None for other senders, who may ask (D226-2-8)."""
    if source_type not in FEEDBACK_DUTY_SOURCES:
        return None
    return add_months(paris_date(sent), FEEDBACK_MONTHS)


@dataclass(frozen=True)
class Priority:
    urgency: int
    reasons: tuple
    analysis_due: date
    evaluation_due: date


def assess(*, danger_now: bool, categories, ages, source_type: str, received: datetime | date,
           deadlines: Deadlines, departement: str | None = None) -> Priority:
    """`ages`: the children's ages in years on the Paris date of receipt (None when unknown);
    `received`: the moment (or Paris date) of receipt; `departement`: the CRIP's, for its holidays."""
    day = paris_date(received)
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
    evaluation = add_months(day, EVALUATION_MONTHS)
    if youngest is not None and youngest < 2:
        evaluation = min(evaluation, day + timedelta(days=deadlines.under_2_days))
    if urgency == IMMEDIATE:
        evaluation = min(evaluation, day + timedelta(days=deadlines.urgent_days))
    analysis = add_working_days(day, deadlines.analysis_working_days, departement)
    return Priority(urgency, tuple(reasons), analysis, evaluation)
