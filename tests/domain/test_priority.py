"""Urgency and due dates of an IP (portal.domain.priority), in the law's units, with a fixed clock."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from portal.departements import DEADLINE_DEFAULTS
from portal.domain.priority import (
    AGE_BANDS, HIGH, IMMEDIATE, NORMAL, Deadlines, add_months, add_working_days, age_band, age_on,
    assess, feedback_due, holiday_subdivision, is_working_day, paris_date,
)

MONDAY = date(2024, 3, 4)
FRIDAY = date(2024, 3, 8)
DEFAULTS = Deadlines(**DEADLINE_DEFAULTS)


@pytest.mark.parametrize("age, band", [
    (None, "unknown"), (-1, "unknown"),
    (0, "0-1"), (1, "0-1"),
    (2, "2-5"), (5, "2-5"),
    (6, "6-10"), (10, "6-10"),
    (11, "11-14"), (14, "11-14"),
    (15, "15-17"), (17, "15-17"),
    (18, "18+"), (20, "18+"),
])
def test_age_band_boundaries(age, band):
    assert age_band(age) == band
    assert band in AGE_BANDS


def test_age_on_birthday_boundary():
    assert age_on(date(2022, 3, 5), date(2024, 3, 4)) == 1
    assert age_on(date(2022, 3, 5), date(2024, 3, 5)) == 2
    assert age_on(date(2020, 2, 29), date(2024, 2, 28)) == 3


def normal(**kw):
    args = dict(danger_now=False, categories=["neglect"], ages=[8], source_type="family", received=MONDAY,
                deadlines=DEFAULTS)
    args.update(kw)
    return assess(**args)


def test_danger_now_is_immediate():
    p = normal(danger_now=True)
    assert p.urgency == IMMEDIATE == 1
    assert "danger_now" in p.reasons


def test_danger_now_overrides_everything_else():
    p = normal(danger_now=True, categories=["physical", "unaccompanied"], ages=[1], source_type="young")
    assert p.urgency == IMMEDIATE
    assert p.reasons[0] == "danger_now"


@pytest.mark.parametrize("age", [0, 3, 5])
def test_sexual_violence_and_child_under_6_is_immediate(age):
    p = normal(categories=["sexual"], ages=[12, age])
    assert p.urgency == IMMEDIATE
    assert "sexual_young_child" in p.reasons


def test_sexual_violence_and_child_of_6_is_high():
    p = normal(categories=["sexual"], ages=[6])
    assert p.urgency == HIGH
    assert p.reasons == ("sexual",)


def test_sexual_violence_unknown_age_is_high():
    assert normal(categories=["sexual"], ages=[None]).urgency == HIGH


def test_child_under_2_is_high_with_the_departements_30_days():
    p = normal(ages=[1])
    assert p.urgency == HIGH == 2
    assert p.reasons == ("under_2",)
    assert p.evaluation_due == MONDAY + timedelta(days=30)
    assert p.analysis_due == date(2024, 3, 5)                # next working day


def test_under_2_uses_the_youngest_known_child():
    p = normal(ages=[None, 9, 0])
    assert p.urgency == HIGH
    assert p.evaluation_due == MONDAY + timedelta(days=30)


def test_child_of_2_is_not_under_2_and_gets_three_calendar_months():
    p = normal(ages=[2])
    assert p.urgency == NORMAL
    assert p.evaluation_due == date(2024, 6, 4)


def test_young_sender_is_high():
    p = normal(source_type="young")
    assert p.urgency == HIGH
    assert p.reasons == ("young_sender",)
    assert p.evaluation_due == date(2024, 6, 4)   # the age, not the sender, shortens it


@pytest.mark.parametrize("category", ["physical", "unaccompanied"])
def test_other_high_categories(category):
    p = normal(categories=[category])
    assert p.urgency == HIGH
    assert p.reasons == (category,)


def test_normal_case_first_analysis_within_the_departements_working_day():
    p = normal()
    assert p.urgency == NORMAL == 3
    assert p.reasons == ()
    assert p.evaluation_due == date(2024, 6, 4)
    assert p.analysis_due == date(2024, 3, 5)


def test_received_on_friday_analysis_due_monday():
    p = normal(received=FRIDAY)
    assert p.analysis_due == date(2024, 3, 11)
    assert p.evaluation_due == date(2024, 6, 8)


def test_received_on_saturday():
    assert normal(received=date(2024, 3, 9)).analysis_due == date(2024, 3, 11)


def test_urgent_evaluation_within_15_days():
    p = normal(danger_now=True, received=FRIDAY)
    assert p.evaluation_due == FRIDAY + timedelta(days=15)
    assert p.analysis_due == date(2024, 3, 11)


def test_urgent_and_under_2_takes_the_shortest():
    p = normal(danger_now=True, ages=[0])
    assert p.evaluation_due == MONDAY + timedelta(days=15)


def test_deadlines_come_from_the_departements_profile():
    p = normal(ages=[1], deadlines=Deadlines(under_2_days=20, urgent_days=10, analysis_working_days=3))
    assert p.evaluation_due == MONDAY + timedelta(days=20)
    assert p.analysis_due == date(2024, 3, 7)
    p = normal(danger_now=True, deadlines=Deadlines(under_2_days=30, urgent_days=5, analysis_working_days=1))
    assert p.evaluation_due == MONDAY + timedelta(days=5)
    # A Département's "shorter" delay longer than the law's 3 months never lengthens them.
    p = normal(ages=[1], received=date(2027, 2, 1),
               deadlines=Deadlines(under_2_days=92, urgent_days=15, analysis_working_days=1))
    assert p.evaluation_due == date(2027, 5, 1)


def test_no_ages_given():
    assert normal(ages=[]).urgency == NORMAL


# Calendar months ---------------------------------------------------------------------------------

@pytest.mark.parametrize("received, due", [
    (date(2026, 11, 29), date(2027, 2, 28)),   # no 29 February in 2027
    (date(2027, 3, 31), date(2027, 6, 30)),    # no 31 June
    (date(2027, 11, 29), date(2028, 2, 29)),   # leap year
    (date(2027, 11, 30), date(2028, 2, 29)),
    (date(2028, 2, 29), date(2028, 5, 29)),    # from a 29 February
    (date(2026, 10, 31), date(2027, 1, 31)),   # over the new year
    (date(2026, 1, 15), date(2026, 4, 15)),
])
def test_three_calendar_months(received, due):
    assert add_months(received, 3) == due
    assert normal(received=received).evaluation_due == due


# Paris dates -------------------------------------------------------------------------------------

def test_paris_date_of_a_utc_moment():
    assert paris_date(datetime(2027, 2, 28, 23, 30, tzinfo=timezone.utc)) == date(2027, 3, 1)   # 00:30 in Paris (winter)
    assert paris_date(datetime(2027, 6, 30, 22, 30, tzinfo=timezone.utc)) == date(2027, 7, 1)   # 00:30 in Paris (summer)
    assert paris_date(datetime(2027, 6, 30, 21, 30, tzinfo=timezone.utc)) == date(2027, 6, 30)
    assert paris_date(datetime(2027, 2, 28, 23, 30)) == date(2027, 3, 1)                        # naive = UTC


def test_a_child_born_two_years_ago_today_is_2_at_half_past_midnight_in_paris():
    moment = datetime(2027, 2, 28, 23, 30, tzinfo=timezone.utc)   # 1 March 2027, 00:30 in Paris
    birth = date(2025, 3, 1)
    assert age_on(birth, paris_date(moment)) == 2
    assert age_on(birth, moment.date()) == 1                         # what a UTC date would say
    p = normal(ages=[age_on(birth, paris_date(moment))], received=moment)
    assert "under_2" not in p.reasons
    assert p.evaluation_due == date(2027, 6, 1)                       # 3 months from the Paris date


def test_received_at_half_past_midnight_in_paris_counts_from_the_paris_day():
    p = normal(received=datetime(2026, 11, 28, 23, 30, tzinfo=timezone.utc))   # 29 Nov, 00:30 in Paris
    assert p.evaluation_due == date(2027, 2, 28)
    assert p.analysis_due == date(2026, 11, 30)                                 # a Sunday, then Monday


# Working days and public holidays ----------------------------------------------------------------

@pytest.mark.parametrize("start, days, expected", [
    (FRIDAY, 1, date(2024, 3, 11)),            # over the weekend
    (FRIDAY, 5, date(2024, 3, 15)),
    (date(2024, 3, 9), 1, date(2024, 3, 11)),  # from a Saturday
    (date(2024, 3, 10), 1, date(2024, 3, 11)), # from a Sunday
    (MONDAY, 1, date(2024, 3, 5)),
    (MONDAY, 4, FRIDAY),
    (MONDAY, 10, date(2024, 3, 18)),
    (MONDAY, 0, MONDAY),
    (date(2026, 12, 24), 1, date(2026, 12, 28)),   # Thursday 24/12: 25/12 (Fri) is Christmas
    (date(2027, 12, 24), 1, date(2027, 12, 27)),   # Friday 24/12: the weekend, Monday 27
    (date(2026, 4, 30), 1, date(2026, 5, 4)),      # Thursday 30/04: 1 May (Fri) skipped
    (date(2027, 4, 30), 1, date(2027, 5, 3)),      # Friday 30/04: 1 May is a Saturday anyway
    (date(2026, 7, 13), 1, date(2026, 7, 15)),     # Monday 13/07: 14 July (Tue) skipped
    (date(2027, 5, 5), 1, date(2027, 5, 7)),       # Ascension 2027 is Thursday 6 May
    (date(2027, 5, 5), 2, date(2027, 5, 10)),
])
def test_add_working_days_skips_weekends_and_public_holidays(start, days, expected):
    assert add_working_days(start, days, "31") == expected


def test_analysis_due_skips_christmas():
    assert normal(received=date(2026, 12, 24)).analysis_due == date(2026, 12, 28)


@pytest.mark.parametrize("departement, subdivision", [
    ("57", "57"), ("67", "6AE"), ("68", "6AE"), ("971", "971"), ("974", "974"), ("976", "976"),
    ("31", None), ("38", None), ("", None), (None, None),
])
def test_holiday_subdivisions(departement, subdivision):
    assert holiday_subdivision(departement) == subdivision


def test_alsace_moselle_has_good_friday_and_saint_stephen():
    good_friday = date(2027, 3, 26)
    assert not is_working_day(good_friday, "57") and not is_working_day(good_friday, "67")
    assert is_working_day(good_friday, "31")
    assert not is_working_day(date(2026, 12, 25), "31")
    assert not is_working_day(date(2026, 12, 26), "68")   # a Saturday, and Saint-Étienne
    assert add_working_days(date(2028, 12, 22), 1, "67") == date(2028, 12, 27)   # Fri: 25 and 26 Dec off
    assert add_working_days(date(2028, 12, 22), 1, "31") == date(2028, 12, 26)


def test_overseas_abolition_of_slavery_day():
    # Réunion: 20 December (a Monday in 2027).
    assert not is_working_day(date(2027, 12, 20), "974")
    assert is_working_day(date(2027, 12, 20), "31")


# Feedback to professionals and elected officials (L226-5) ----------------------------------------

def test_feedback_due_three_calendar_months_after_sending_in_paris():
    sent = datetime(2026, 11, 28, 23, 30, tzinfo=timezone.utc)     # 29 Nov, 00:30 in Paris
    assert feedback_due(sent, "professional") == date(2027, 2, 28)
    assert feedback_due(sent, "elected") == date(2027, 2, 28)
    assert feedback_due(date(2027, 3, 31), "professional") == date(2027, 6, 30)


@pytest.mark.parametrize("source", ["public", "young", "family", ""])
def test_no_feedback_duty_for_other_senders(source):
    assert feedback_due(date(2027, 3, 31), source) is None
