"""Billing metrics on /metrics: runs by state and the progress of each run in progress."""

import datetime as dt

import pytest

from billing.models import BillingRun
from core.roles import Role

pytestmark = pytest.mark.django_db


def _scrape(client, make_user) -> str:
    client.force_login(make_user(Role.NOC_ENGINEER, username="noc_scrape"))
    response = client.get("/metrics")
    assert response.status_code == 200
    return response.content.decode()


def _run(start: dt.date, end: dt.date, **fields) -> BillingRun:
    run = BillingRun.objects.create(period_start=start, period_end=end)
    BillingRun.objects.filter(pk=run.pk).update(**fields)  # the state as a run leaves it
    return run


def test_runs_by_state_and_progress_of_the_running_one(client, make_user):
    text = _scrape(client, make_user)
    assert 'mas_billing_runs{state="running"} 0.0' in text
    assert "mas_billing_run_progress_ratio{" not in text

    _run(dt.date(2026, 4, 1), dt.date(2026, 7, 1), state="done", total_accounts=30)
    running = _run(
        dt.date(2026, 7, 1),
        dt.date(2026, 10, 1),
        state="running",
        total_accounts=40,
        processed_accounts=10,
    )
    labels = f'period="2026Q3",run="{running.pk}"'

    text = _scrape(client, make_user)
    assert 'mas_billing_runs{state="running"} 1.0' in text
    assert 'mas_billing_runs{state="done"} 1.0' in text
    assert f"mas_billing_run_progress_ratio{{{labels}}} 0.25" in text
    assert f'mas_billing_run_accounts{{count="processed",{labels}}} 10.0' in text
    assert f'mas_billing_run_accounts{{count="total",{labels}}} 40.0' in text
    assert text.count("mas_billing_run_progress_ratio{") == 1  # the done run is not listed

    BillingRun.objects.filter(pk=running.pk).update(processed_accounts=40, state="done")
    text = _scrape(client, make_user)
    assert "mas_billing_run_progress_ratio{" not in text
    assert 'mas_billing_runs{state="done"} 2.0' in text
