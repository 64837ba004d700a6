"""How a repair clock counts time: around the clock (24x7) or on a business calendar.

A clock answers two questions, and the SLA engine needs nothing else:

- `measure(a, b)`: how many seconds of clock time lie between two instants;
- `add(a, seconds)`: the instant at which `seconds` of clock time have passed since `a`.

`AroundTheClock` counts wall time. `BusinessHours` counts only the working hours of
working days, in the calendar's time zone: Monday to Friday by default, with dated
overrides for public holidays (not working) and the make-up working days (调休) that
China's calendar moves onto weekends. This module does no I/O and knows no models, so
the rules are tested on their own.
"""

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")
MAX_DAYS = 3 * 366  # a deadline further than this is a configuration error


class AroundTheClock:
    """Every second counts (the default: repair clocks run 24x7)."""

    def measure(self, a: dt.datetime, b: dt.datetime) -> float:
        return max(0.0, (b - a).total_seconds())

    def add(self, a: dt.datetime, seconds: float) -> dt.datetime:
        return a + dt.timedelta(seconds=seconds)


@dataclass(frozen=True)
class BusinessHours:
    """Working hours `start`–`end` on working days in `tz`.

    `weekdays` are ISO weekday numbers (1 = Monday); `overrides` maps a date to whether it
    is a working day, whatever its weekday (holidays → False, make-up days → True).
    """

    start: dt.time = dt.time(8, 30)
    end: dt.time = dt.time(17, 30)
    weekdays: frozenset[int] = frozenset({1, 2, 3, 4, 5})
    overrides: dict[dt.date, bool] = field(default_factory=dict)
    tz: ZoneInfo = SHANGHAI

    def __hash__(self) -> int:
        return hash((self.start, self.end, self.weekdays, self.tz.key))

    def is_working_day(self, day: dt.date) -> bool:
        if day in self.overrides:
            return self.overrides[day]
        return day.isoweekday() in self.weekdays

    def _hours(self, day: dt.date) -> tuple[dt.datetime, dt.datetime] | None:
        if not self.is_working_day(day):
            return None
        opens = dt.datetime.combine(day, self.start, tzinfo=self.tz)
        closes = dt.datetime.combine(day, self.end, tzinfo=self.tz)
        return (opens, closes) if closes > opens else None

    def measure(self, a: dt.datetime, b: dt.datetime) -> float:
        if b <= a:
            return 0.0
        total = 0.0
        day = a.astimezone(self.tz).date()
        last = b.astimezone(self.tz).date()
        while day <= last:
            hours = self._hours(day)
            if hours is not None:
                lo, hi = max(a, hours[0]), min(b, hours[1])
                if hi > lo:
                    total += (hi - lo).total_seconds()
            day += dt.timedelta(days=1)
        return total

    def add(self, a: dt.datetime, seconds: float) -> dt.datetime:
        remaining = max(0.0, seconds)
        day = a.astimezone(self.tz).date()
        for _ in range(MAX_DAYS):
            hours = self._hours(day)
            if hours is not None:
                lo = max(a, hours[0])
                if hours[1] > lo:
                    available = (hours[1] - lo).total_seconds()
                    if remaining <= available:
                        return lo + dt.timedelta(seconds=remaining)
                    remaining -= available
            day += dt.timedelta(days=1)
        raise ValueError("the business calendar has no working hours in the next three years")
