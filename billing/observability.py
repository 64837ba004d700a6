"""Prometheus providers for billing (core.metrics): billing runs and their progress.

Discovered by core (CoreConfig.ready imports every app's `observability` module). The
runs commit their progress per chunk of accounts, so a scrape sees a run advance; a run
that stays `running` without progress is stuck (the MasBillingRunStuck alert).
"""

from core.metrics import Sample, counts_by, register_collector


def _running():
    from billing.models import BillingRun

    return list(
        BillingRun.objects.filter(state=BillingRun.State.RUNNING).only(
            "id", "period_start", "processed_accounts", "total_accounts"
        )
    )


def _labels(run) -> dict:
    quarter = (run.period_start.month - 1) // 3 + 1
    return {"run": str(run.pk), "period": f"{run.period_start:%Y}Q{quarter}"}


def runs_by_state() -> list[Sample]:
    from billing.models import BillingRun

    return counts_by(BillingRun.objects.all(), "state", BillingRun.State.values)


def run_progress() -> list[Sample]:
    """Processed / total accounts of each run in progress (0 before it has counted them)."""
    return [
        (
            _labels(run),
            min(1.0, run.processed_accounts / run.total_accounts) if run.total_accounts else 0.0,
        )
        for run in _running()
    ]


def run_accounts() -> list[Sample]:
    samples = []
    for run in _running():
        labels = _labels(run)
        samples.append(({**labels, "count": "processed"}, run.processed_accounts))
        samples.append(({**labels, "count": "total"}, run.total_accounts))
    return samples


register_collector("mas_billing_runs", runs_by_state)
register_collector("mas_billing_run_progress_ratio", run_progress)
register_collector("mas_billing_run_accounts", run_accounts)
