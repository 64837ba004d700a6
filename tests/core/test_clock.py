import datetime as dt

from core import clock as project_clock


def test_frozen_clock_moves_only_when_told(clock):
    start = project_clock.now()
    assert project_clock.now() == start
    clock.advance(hours=6)
    assert project_clock.now() - start == dt.timedelta(hours=6)


def test_today_is_the_shanghai_date(clock):
    clock.freeze(dt.datetime(2026, 12, 31, 16, 30, tzinfo=dt.UTC))  # 00:30 on 1 Jan in Shanghai
    assert project_clock.today() == dt.date(2027, 1, 1)
