"""Urgency and due dates of an IP (portal.domain.priority)."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from portal.domain.priority import (
    AGE_BANDS, HIGH, IMMEDIATE, NORMAL, add_working_days, age_band, age_on, assess,
)

MONDAY = date(2024, 3, 4)
FRIDAY = date(2024, 3, 8)


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
    args = dict(danger_now=False, categories=["neglect"], ages=[8], source_type="family", received=MONDAY)
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
    p = normal(categories=["sexual"], ages=[None])
    assert p.urgency == HIGH


def test_child_under_2_is_high_with_30_day_evaluation():
    p = normal(ages=[1])
    assert p.urgency == HIGH == 2
    assert p.reasons == ("under_2",)
    assert p.evaluation_due == MONDAY + timedelta(days=30)
    assert p.analysis_due == date(2024, 3, 5)                # next working day


def test_under_2_uses_the_youngest_known_child():
    p = normal(ages=[None, 9, 0])
    assert p.urgency == HIGH
    assert p.evaluation_due == MONDAY + timedelta(days=30)


def test_child_of_2_is_not_under_2():
    p = normal(ages=[2])
    assert p.urgency == NORMAL
    assert p.evaluation_due == MONDAY + timedelta(days=92)


def test_young_sender_is_high():
    p = normal(source_type="young")
    assert p.urgency == HIGH
    assert p.reasons == ("young_sender",)
    assert p.evaluation_due == MONDAY + timedelta(days=92)   # the age, not the sender, shortens it


@pytest.mark.parametrize("category", ["physical", "unaccompanied"])
def test_other_high_categories(category):
    p = normal(categories=[category])
    assert p.urgency == HIGH
    assert p.reasons == (category,)


def test_normal_case():
    p = normal()
    assert p.urgency == NORMAL == 3
    assert p.reasons == ()
    assert p.evaluation_due == MONDAY + timedelta(days=92)
    assert p.analysis_due == date(2024, 3, 11)                # 5 working days


def test_normal_received_on_friday_analysis_due_next_friday():
    p = normal(received=FRIDAY)
    assert p.urgency == NORMAL
    assert p.analysis_due == date(2024, 3, 15)
    assert p.analysis_due.weekday() == 4
    assert p.evaluation_due == FRIDAY + timedelta(days=92)


def test_high_received_on_friday_analysis_due_monday():
    assert normal(received=FRIDAY, source_type="young").analysis_due == date(2024, 3, 11)


def test_received_on_saturday():
    p = normal(received=date(2024, 3, 9))
    assert p.analysis_due == date(2024, 3, 15)


def test_urgent_evaluation_within_15_days():
    p = normal(danger_now=True, received=FRIDAY)
    assert p.evaluation_due == FRIDAY + timedelta(days=15)
    assert p.analysis_due == date(2024, 3, 11)


def test_urgent_and_under_2_takes_the_shortest():
    p = normal(danger_now=True, ages=[0])
    assert p.evaluation_due == MONDAY + timedelta(days=15)


def test_deadlines_come_from_configuration():
    p = normal(ages=[1], evaluation_days=90, evaluation_days_under_2=20, evaluation_days_urgent=10)
    assert p.evaluation_due == MONDAY + timedelta(days=20)
    p = normal(evaluation_days=60)
    assert p.evaluation_due == MONDAY + timedelta(days=60)
    p = normal(danger_now=True, evaluation_days_urgent=5)
    assert p.evaluation_due == MONDAY + timedelta(days=5)
    # A configured "under 2" longer than the general deadline never lengthens it.
    p = normal(ages=[1], evaluation_days=20, evaluation_days_under_2=30)
    assert p.evaluation_due == MONDAY + timedelta(days=20)


def test_no_ages_given():
    p = normal(ages=[])
    assert p.urgency == NORMAL


@pytest.mark.parametrize("start, days, expected", [
    (FRIDAY, 1, date(2024, 3, 11)),            # over the weekend
    (FRIDAY, 5, date(2024, 3, 15)),
    (date(2024, 3, 9), 1, date(2024, 3, 11)),  # from a Saturday
    (date(2024, 3, 10), 1, date(2024, 3, 11)), # from a Sunday
    (MONDAY, 1, date(2024, 3, 5)),
    (MONDAY, 4, FRIDAY),
    (MONDAY, 10, date(2024, 3, 18)),
    (MONDAY, 0, MONDAY),
])
def test_add_working_days(start, days, expected):
    assert add_working_days(start, days) == expected
