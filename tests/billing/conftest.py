"""Fixtures for the billing tests: smsgw usage counters, a finance user."""

import datetime as dt

import pytest

from core.roles import Role


class Usage:
    """usage[(subscription_id, month_start)] = segments: spread over smsgw DailyUsage rows
    on the month's first two days (as the sender records them)."""

    def __setitem__(self, key, segments: int) -> None:
        from smsgw.models import DailyUsage

        subscription_id, month = key
        first = segments // 2
        for day, count in ((month, first), (month + dt.timedelta(days=1), segments - first)):
            DailyUsage.objects.update_or_create(
                subscription_id=subscription_id,
                day=day,
                defaults={"submitted_segments": count, "delivered_segments": count},
            )


@pytest.fixture
def usage(db):
    return Usage()


@pytest.fixture
def finance(make_user):
    return make_user(Role.FINANCE, username="finance_a")
