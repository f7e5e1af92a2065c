"""Is the line open now? Opening hours are Paris local time, whatever the server's clock zone."""
from __future__ import annotations

from datetime import datetime, time, timezone
from zoneinfo import ZoneInfo

import pytest

from portal.domain.hours import DAYS, PARIS, status

UTC = timezone.utc
SLOT = ((time(8, 30), time(17, 0)),)
EVERY_DAY = {d: SLOT for d in DAYS}
WEEKDAYS = {d: SLOT for d in DAYS[:5]}


def paris(*args):
    return datetime(*args, tzinfo=PARIS)


def test_open_in_the_middle_of_the_day():
    s = status(EVERY_DAY, paris(2024, 3, 5, 10, 0))      # a Tuesday
    assert s.known and s.open
    assert s.closes_at == paris(2024, 3, 5, 17, 0)
    assert s.opens_at is None


def test_summer_utc_morning_is_open_in_paris():
    # 07:45 UTC in July is 09:45 in Paris (UTC+2): open, although 07:45 is before 08:30.
    s = status(EVERY_DAY, datetime(2024, 7, 10, 7, 45, tzinfo=UTC))
    assert s.open
    assert s.closes_at == paris(2024, 7, 10, 17, 0)
    assert s.closes_at.utcoffset().total_seconds() == 2 * 3600


def test_summer_utc_early_morning_is_closed_in_paris():
    # 06:15 UTC in July is 08:15 in Paris: not open yet, opens at 08:30 the same day.
    s = status(EVERY_DAY, datetime(2024, 7, 10, 6, 15, tzinfo=UTC))
    assert s.known and not s.open
    assert s.opens_at == paris(2024, 7, 10, 8, 30)


def test_winter_utc_afternoon_is_closed_in_paris():
    # 16:30 UTC in January is 17:30 in Paris (UTC+1): closed, although 16:30 is before 17:00.
    s = status(EVERY_DAY, datetime(2024, 1, 16, 16, 30, tzinfo=UTC))
    assert s.known and not s.open
    assert s.closes_at is None
    assert s.opens_at == paris(2024, 1, 17, 8, 30)       # next morning
    assert s.opens_at.utcoffset().total_seconds() == 3600


def test_other_zone_input_is_converted():
    # 03:30 in New York (EDT, UTC-4) is 09:30 in Paris (CEST).
    s = status(EVERY_DAY, datetime(2024, 7, 10, 3, 30, tzinfo=ZoneInfo("America/New_York")))
    assert s.open


def test_boundaries_start_inclusive_end_exclusive():
    assert status(EVERY_DAY, paris(2024, 3, 5, 8, 30)).open
    assert not status(EVERY_DAY, paris(2024, 3, 5, 8, 29, 59)).open
    assert status(EVERY_DAY, paris(2024, 3, 5, 16, 59, 59)).open
    closed = status(EVERY_DAY, paris(2024, 3, 5, 17, 0))
    assert not closed.open
    assert closed.opens_at == paris(2024, 3, 6, 8, 30)


def test_dst_spring_forward_day():
    # 31 March 2024: clocks go from 02:00 to 03:00 in Paris. 08:00 UTC is 10:00 CEST.
    s = status(EVERY_DAY, datetime(2024, 3, 31, 8, 0, tzinfo=UTC))
    assert s.open
    # The evening before (Saturday 30 March, CET): 16:15 UTC is 17:15 Paris, closed; the next
    # opening is Sunday 08:30 CEST = 06:30 UTC.
    s = status(EVERY_DAY, datetime(2024, 3, 30, 16, 15, tzinfo=UTC))
    assert not s.open
    assert s.opens_at == paris(2024, 3, 31, 8, 30)
    assert s.opens_at.astimezone(UTC) == datetime(2024, 3, 31, 6, 30, tzinfo=UTC)


def test_dst_fall_back_day():
    # 27 October 2024: clocks go from 03:00 back to 02:00. 15:45 UTC is 16:45 CET: open.
    s = status(EVERY_DAY, datetime(2024, 10, 27, 15, 45, tzinfo=UTC))
    assert s.open
    assert s.closes_at.astimezone(UTC) == datetime(2024, 10, 27, 16, 0, tzinfo=UTC)
    # The day before, 15:45 UTC is 17:45 CEST: closed.
    assert not status(EVERY_DAY, datetime(2024, 10, 26, 15, 45, tzinfo=UTC)).open


def test_opens_at_later_the_same_day_between_two_slots():
    hours = {"mon": ((time(8, 30), time(12, 0)), (time(13, 30), time(17, 0)))}
    s = status(hours, paris(2024, 3, 4, 12, 15))          # a Monday lunchtime
    assert not s.open
    assert s.opens_at == paris(2024, 3, 4, 13, 30)


def test_weekend_without_weekend_hours_opens_monday():
    friday_evening = status(WEEKDAYS, paris(2024, 3, 8, 18, 0))
    assert friday_evening.known and not friday_evening.open
    assert friday_evening.opens_at == paris(2024, 3, 11, 8, 30)
    saturday = status(WEEKDAYS, paris(2024, 3, 9, 11, 0))
    assert not saturday.open
    assert saturday.opens_at == paris(2024, 3, 11, 8, 30)
    sunday = status(WEEKDAYS, paris(2024, 3, 10, 23, 0))
    assert sunday.opens_at == paris(2024, 3, 11, 8, 30)


def test_single_weekly_slot_found_a_week_ahead():
    hours = {"tue": SLOT}
    s = status(hours, paris(2024, 3, 5, 18, 0))           # Tuesday evening
    assert s.known and not s.open
    assert s.opens_at == paris(2024, 3, 12, 8, 30)


def test_round_the_clock_line_is_open_at_night():
    always = {d: ((time(0, 0), time(23, 59, 59)),) for d in DAYS}
    s = status(always, paris(2024, 3, 9, 3, 0))
    assert s.open
    assert status(always, paris(2024, 3, 9, 0, 0)).open


@pytest.mark.parametrize("hours", [{}, None])
def test_no_hours_means_unknown(hours):
    s = status(hours, datetime(2024, 3, 5, 9, 0, tzinfo=UTC))
    assert s.known is False
    assert s.open is False
    assert s.opens_at is None and s.closes_at is None


def test_days_present_but_all_empty_is_known_and_closed():
    s = status({"mon": ()}, paris(2024, 3, 4, 10, 0))
    assert s.known and not s.open
    assert s.opens_at is None


def test_default_clock_is_now():
    s = status(EVERY_DAY)
    assert s.known
    assert s.open == (s.closes_at is not None)



def test_round_the_clock_line_is_open_in_the_last_second_of_the_day():
    # A "00:00-24:00" slot ends at 23:59:59 once parsed; a 24/7 line must not flip to closed.
    from portal.departements import _hours
    always = _hours({d: ["00:00-24:00"] for d in DAYS}, "x.toml", "hours")
    s = status(always, paris(2024, 3, 9, 23, 59, 59, 500000))
    assert s.known and s.open
    assert getattr(s, "always", True) is True
