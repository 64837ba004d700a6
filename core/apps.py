"""App configuration for the shared kernel."""

import os

from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    """Keeps each role's permissions in step with the models after every migrate."""

    name = "core"
    verbose_name = _("系统基础")
    role_permissions = {
        "department_head": [
            "core.view_statechange",
            "core.view_eventsubscription",
            "core.delete_eventsubscription",
            "core.view_outboxevent",
            "core.view_eventdelivery",
            "core.change_eventdelivery",
            "core.view_deliveryattempt",
        ],
        "customer_manager": ["core.view_statechange"],
        "noc_engineer": ["core.view_statechange"],
        "finance": ["core.view_statechange"],
    }

    def ready(self) -> None:
        from .roles import sync_role_permissions

        post_migrate.connect(sync_role_permissions, dispatch_uid="core.sync_role_permissions")
        self._register_operations()

    def _register_operations(self) -> None:
        """Readiness checks, Celery trace propagation, metrics and retention of the kernel."""
        from django.db.models import Q
        from django.utils.module_loading import autodiscover_modules

        from . import health, metrics, retention, tracing

        health.register_defaults()

        tracing.connect_celery_signals()
        metrics.register_collector("mas_webhook_deliveries", metrics.tmf_hub_deliveries)
        metrics.register_collector("mas_webhook_deliveries_retrying", metrics.tmf_hub_retrying)
        metrics.register_collector(
            "mas_webhook_attempt_failures_total", metrics.tmf_hub_attempt_failures
        )
        metrics.register_collector("mas_retention_rows_due", retention.rows_due_samples)
        # TMF events carry customer data (contact numbers, addresses) in their payload;
        # once no delivery is pending they are kept for the retention period only.
        retention.register(
            retention.RetentionPolicy(
                name="core.tmf_events",
                model="core.OutboxEvent",
                date_field="event_time",
                action="purge",
                only=~Q(deliveries__state="pending"),
            )
        )
        # Each app's `observability` module registers its metrics, checks and retention
        # policies (as admin.py registers admin classes); see docs/observability.md.
        autodiscover_modules("observability")
        probe_port = os.environ.get("MAS_PROBE_PORT")
        if probe_port:
            # Senders and workers: /healthz, /readyz and /metrics on an internal port.
            health.start_probe_server(int(probe_port), os.environ.get("MAS_PROCESS_ROLE", "worker"))
