"""The project's Prometheus metrics: a catalogue of names and a hook for apps to feed them.

django-prometheus measures requests, responses and latency per view; this module adds
the business and pipeline metrics an on-call engineer needs. Their names are fixed here,
in `CATALOGUE`, so that dashboards and alert rules (docs/observability.md) do not depend
on how each app computes them. The apps provide the values:

    # smsgw/apps.py, in SmsgwConfig.ready()
    from core.metrics import register_collector
    from smsgw.metrics import outbox_depth
    register_collector("mas_smsgw_outbox_messages", outbox_depth)

A provider is a callable returning `(labels: dict, value: float)` pairs; it runs at
scrape time, so it must be cheap (an aggregate query on an indexed column, or reading
in-process state). Two scopes:

- `scope="web"` (default): served at the web's `/metrics`; for values read from the
  database, which every web process sees alike.
- `scope="process"`: served by the process's own probe server (core.health
  `start_probe_server`), for state that lives in one process — a sender's CMPP links and
  its window.

Several providers may feed one metric (the TMF hub and smsgw's report callbacks both feed
the webhook metrics, told apart by the `kind` label). A provider that raises is logged
and counted in `mas_metrics_collector_errors`; the scrape still succeeds.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST

logger = logging.getLogger(__name__)

Sample = tuple[dict, float]
Provider = Callable[[], Iterable[Sample]]


@dataclass(frozen=True)
class MetricSpec:
    """A metric's name, Prometheus type (gauge or counter), help text and label names."""

    name: str
    kind: str
    help: str
    labels: tuple[str, ...] = ()


def _spec(name: str, kind: str, help: str, *labels: str) -> MetricSpec:
    return MetricSpec(name=name, kind=kind, help=help, labels=tuple(labels))


CATALOGUE: dict[str, MetricSpec] = {
    spec.name: spec
    for spec in (
        # smsgw (issue: CMPP links, submits/s, window, Result 8, report latency, outbox)
        _spec("mas_smsgw_cmpp_links_up", "gauge", "CMPP links logged in", "account"),
        _spec("mas_smsgw_cmpp_links_configured", "gauge", "CMPP links configured", "account"),
        _spec(
            "mas_smsgw_submits_total",
            "counter",
            "CMPP_SUBMITs acknowledged by the ISMG; rate() gives submits per second",
            "account",
        ),
        _spec(
            "mas_smsgw_window_in_use",
            "gauge",
            "Submits sent and not yet acknowledged (the sliding window in use)",
            "account",
        ),
        _spec(
            "mas_smsgw_submit_result8_total",
            "counter",
            "SUBMIT_RESPs with Result 8 (flow control), retried or not, per sender's links",
            "account",
            "sender",
        ),
        _spec(
            "mas_smsgw_submit_result8_5m",
            "gauge",
            "Segments failed with Result 8 (flow control, retries exhausted), last 5 minutes",
            "account",
        ),
        _spec(
            "mas_smsgw_submit_rate",
            "gauge",
            "Submits per second now, as the senders measure it",
            "account",
        ),
        _spec(
            "mas_smsgw_report_latency_seconds",
            "gauge",
            "Acceptance to delivery report, quantiles over the last 15 minutes",
            "quantile",
        ),
        _spec("mas_smsgw_outbox_messages", "gauge", "Outbox messages by state", "state"),
        _spec(
            "mas_smsgw_mo_messages_total",
            "counter",
            "Mobile-originated messages (replies) received, per account and sender",
            "account",
            "sender",
        ),
        # assurance (SLA)
        _spec(
            "mas_assurance_tickets_near_breach",
            "gauge",
            "Open trouble tickets past the 80 % warning of their repair clock, not breached",
            "fault_class",
        ),
        _spec(
            "mas_assurance_tickets_breached",
            "gauge",
            "Open trouble tickets past their repair deadline",
            "fault_class",
        ),
        # billing
        _spec(
            "mas_billing_run_progress_ratio",
            "gauge",
            "Share of accounts done in each billing run still in progress (0-1)",
            "run",
            "period",
        ),
        _spec(
            "mas_billing_run_accounts",
            "gauge",
            "Accounts of each billing run still in progress: processed and total",
            "run",
            "period",
            "count",
        ),
        _spec("mas_billing_runs", "gauge", "Billing runs by state", "state"),
        # webhooks: TMF hub callbacks, smsgw delivery-report callbacks
        _spec(
            "mas_webhook_attempt_failures_total",
            "counter",
            "Webhook POSTs that failed (non-2xx or no answer)",
            "kind",
        ),
        _spec("mas_webhook_deliveries", "gauge", "Webhook deliveries by state", "kind", "state"),
        _spec(
            "mas_webhook_deliveries_retrying",
            "gauge",
            "Webhook deliveries not given up whose last POST failed (waiting for a retry)",
            "kind",
        ),
        # fulfillment
        _spec("mas_fulfillment_orders", "gauge", "Product orders by state", "state"),
        _spec(
            "mas_fulfillment_provisioning_steps",
            "gauge",
            "Provisioning steps by state",
            "state",
        ),
        _spec("mas_fulfillment_service_codes", "gauge", "Service codes by state", "state"),
        _spec("mas_fulfillment_cmpp_accounts", "gauge", "CMPP accounts by state", "state"),
        # retention (core.retention)
        _spec(
            "mas_retention_rows_due",
            "gauge",
            "Rows past their retention period not yet purged or pseudonymised",
            "policy",
        ),
    )
}

_providers: dict[str, dict[str, list[Provider]]] = {
    "web": defaultdict(list),
    "process": defaultdict(list),
}


def define_metric(name: str, kind: str, help: str, labels: Iterable[str] = ()) -> MetricSpec:
    """Add an app-specific metric to the catalogue (the names above are the shared ones)."""
    if kind not in ("gauge", "counter"):
        raise ValueError(f"metric kind must be gauge or counter, not {kind!r}")
    spec = MetricSpec(name=name, kind=kind, help=help, labels=tuple(labels))
    existing = CATALOGUE.setdefault(name, spec)
    if existing != spec:
        raise ValueError(f"metric {name} is already defined differently")
    return spec


def register_collector(metric: str, provider: Provider, *, scope: str = "web") -> None:
    """Feed `metric` (a CATALOGUE name) from `provider` at scrape time; see the docstring."""
    if metric not in CATALOGUE:
        raise KeyError(f"unknown metric {metric}: add it with define_metric() first")
    if scope not in _providers:
        raise ValueError("scope must be 'web' or 'process'")
    if provider not in _providers[scope][metric]:
        _providers[scope][metric].append(provider)


def unregister_collector(metric: str, provider: Provider, *, scope: str = "web") -> None:
    """Stop feeding `metric` from `provider` (tests)."""
    if provider in _providers[scope].get(metric, []):
        _providers[scope][metric].remove(provider)


class ProjectCollector:
    """A prometheus_client collector running the registered providers of one scope."""

    def __init__(self, scope: str = "web"):
        self.scope = scope

    def describe(self):
        return []

    def collect(self):
        errors = GaugeMetricFamily(
            "mas_metrics_collector_errors",
            "Providers that raised during this scrape",
            labels=["metric"],
        )
        for name, providers in list(_providers[self.scope].items()):
            if not providers:
                continue
            spec = CATALOGUE[name]
            family_class = CounterMetricFamily if spec.kind == "counter" else GaugeMetricFamily
            family = family_class(spec.name, spec.help, labels=list(spec.labels))
            failed = 0
            for provider in providers:
                try:
                    for labels, value in provider():
                        family.add_metric(
                            [str(labels.get(label, "")) for label in spec.labels], float(value)
                        )
                except Exception:
                    failed += 1
                    logger.exception("metrics provider for %s failed", name)
            errors.add_metric([name], failed)
            yield family
        yield errors


def project_registry(scope: str = "web") -> CollectorRegistry:
    """A registry holding only the project's metrics of `scope`."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ProjectCollector(scope))
    return registry


def framework_registry() -> CollectorRegistry:
    """django-prometheus and process metrics: merged across processes in multiprocess mode."""
    import os

    from prometheus_client import REGISTRY, multiprocess

    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return registry
    return REGISTRY


def web_metrics() -> tuple[bytes, str]:
    """The exposition served at the web's /metrics."""
    payload = generate_latest(framework_registry()) + generate_latest(project_registry("web"))
    return payload, CONTENT_TYPE_LATEST


def process_metrics() -> tuple[bytes, str]:
    """The exposition served by a probe server: this process plus its `process` providers."""
    from prometheus_client import REGISTRY

    payload = generate_latest(REGISTRY) + generate_latest(project_registry("process"))
    return payload, CONTENT_TYPE_LATEST


def counts_by(queryset, field: str, choices: Iterable[str] = ()) -> list[Sample]:
    """`(labels, count)` per value of `field`, zero for the `choices` with no rows.

    Helper for the usual "objects by state" gauge; reporting zeros keeps alert
    expressions simple (a missing series is not 0 to Prometheus).
    """
    from django.db.models import Count

    counts = {value: 0 for value in choices}
    for row in queryset.order_by().values(field).annotate(n=Count("pk")):
        counts[row[field]] = row["n"]
    return [({"state": value}, n) for value, n in sorted(counts.items())]


def tmf_hub_deliveries() -> list[Sample]:
    """Provider: TMF hub callback deliveries by state (kind="tmf_hub")."""
    from core.models import EventDelivery

    samples = counts_by(EventDelivery.objects.all(), "state", EventDelivery.State.values)
    return [({"kind": "tmf_hub", **labels}, n) for labels, n in samples]


def tmf_hub_retrying() -> list[Sample]:
    """Provider: TMF hub callbacks still pending after a failed attempt (kind="tmf_hub")."""
    from core.models import EventDelivery

    pending = EventDelivery.objects.filter(
        state=EventDelivery.State.PENDING, attempt_count__gt=0
    ).count()
    return [({"kind": "tmf_hub"}, pending)]


def tmf_hub_attempt_failures() -> list[Sample]:
    """Provider: failed TMF hub callback POSTs so far (kind="tmf_hub")."""
    from core.models import DeliveryAttempt

    return [({"kind": "tmf_hub"}, DeliveryAttempt.objects.filter(succeeded=False).count())]
