"""Is a phone line open now? Opening hours are local to Europe/Paris (overseas profiles may set their own zone)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class LineStatus:
    known: bool                 # False when the profile gives no hours
    open: bool
    closes_at: datetime | None  # local time, when open
    opens_at: datetime | None   # local time of the next opening, when closed
    always: bool = False        # open 24 hours a day, 7 days a week


def status(hours: dict, now: datetime | None = None, tz: ZoneInfo = PARIS) -> LineStatus:
    if not hours:
        return LineStatus(False, False, None, None)
    now = (now or datetime.now(timezone.utc)).astimezone(tz)
    if all(any(s.hour == 0 and s.minute == 0 and e.hour == 23 and e.minute == 59 for s, e in hours.get(d, ()))
           for d in DAYS):
        return LineStatus(True, True, None, None, always=True)
    today = DAYS[now.weekday()]
    for start, end in hours.get(today, ()):
        if start <= now.time() < end:
            return LineStatus(True, True, datetime.combine(now.date(), end, tz), None)
    for offset in range(8):
        day = now.date() + timedelta(days=offset)
        for start, _end in sorted(hours.get(DAYS[day.weekday()], ())):
            candidate = datetime.combine(day, start, tz)
            if candidate > now:
                return LineStatus(True, False, None, candidate)
    return LineStatus(True, False, None, None)
