"""The business calendar counts working hours only, with holidays and make-up days."""

import datetime as dt
from zoneinfo import ZoneInfo

from assurance.calendar import AroundTheClock, BusinessHours

CST = ZoneInfo("Asia/Shanghai")


def at(day: int, hour: int, minute: int = 0, month: int = 11) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=CST)


def test_around_the_clock_counts_every_second():
    c = AroundTheClock()
    assert c.measure(at(25, 10), at(25, 16)) == 6 * 3600
    assert c.add(at(25, 10), 24 * 3600) == at(26, 10)


def test_business_hours_skip_nights_and_weekends():
    c = BusinessHours()  # 08:30–17:30, Monday to Friday
    # Friday 2026-11-27 16:30 + 2 working hours → Monday 30th 09:30
    assert c.add(at(27, 16, 30), 2 * 3600) == at(30, 9, 30)
    assert c.measure(at(27, 16, 30), at(30, 9, 30)) == 2 * 3600


def test_holidays_and_make_up_days_override_the_weekday():
    holiday = dt.date(2026, 11, 30)  # a Monday off
    make_up = dt.date(2026, 11, 28)  # a Saturday worked
    c = BusinessHours(overrides={holiday: False, make_up: True})
    assert c.add(at(27, 17, 0), 3600) == at(28, 9, 0)
    assert c.measure(at(29, 0), at(30, 23)) == 0


def test_a_start_outside_working_hours_waits_for_the_next_opening():
    c = BusinessHours()
    assert c.add(at(25, 20), 3600) == at(26, 9, 30)
