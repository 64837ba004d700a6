"""Fixtures for the billing tests: usage counters that tests set, a finance user."""

import pytest

from core.roles import Role


@pytest.fixture
def usage(monkeypatch):
    """usage[(subscription_id, month_start)] = segments, read by billing.usage."""
    counts: dict = {}

    def by_subscription(ids, start, end):
        return {sid: counts[(sid, start)] for sid in ids if (sid, start) in counts}

    monkeypatch.setattr("billing.usage.billable_segments_by_subscription", by_subscription)
    return counts


@pytest.fixture
def finance(make_user):
    return make_user(Role.FINANCE, username="finance_a")
