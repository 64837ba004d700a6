"""Celery tasks of fulfillment: thin wrappers around the services.

Provisioning steps are idempotent (a step that already succeeded does nothing), so a
message delivered twice or retried after a worker crash is harmless.
"""

from celery import shared_task
from django.conf import settings
from django.db import OperationalError


@shared_task
def order_start_task(order_id: int) -> None:
    """Start provisioning an acknowledged order (no-op when not due or already started)."""
    from . import services

    services.order_start(order_id=order_id)


@shared_task(bind=True, max_retries=None)
def provisioning_step_task(self, step_id: int) -> None:
    """Run a provisioning step and the item's following ones while they succeed; a
    transient failure retries the step that failed with exponential back-off.

    After FULFILLMENT_STEP_MAX_RETRIES retries the step fails for good and its item
    releases what it reserved.
    """
    from . import services

    try:
        services.provisioning_steps_run(step_id=step_id)
    except (services.StepRetryError, OperationalError) as exc:
        failed = getattr(exc, "step_id", step_id)
        if failed != step_id:
            # A later step of the chain failed: it starts its own count of retries.
            if self.request.is_eager:
                provisioning_step_task.apply(args=(failed,), retries=1, throw=True)
            else:
                provisioning_step_task.apply_async(args=(failed,), countdown=1)
            return
        retries = self.request.retries
        if retries >= settings.FULFILLMENT_STEP_MAX_RETRIES:
            services.provisioning_step_give_up(step_id=step_id, error=str(exc))
            return
        if self.request.is_eager:
            # Eager Celery (tests, seed_demo) propagates Retry instead of running the task
            # again; run the retry here, as a worker would after the countdown.
            self.apply(args=(step_id,), retries=retries + 1, throw=True)
            return
        raise self.retry(exc=exc, countdown=min(2**retries, 60)) from exc


@shared_task
def order_cancellation_finish_task(order_id: int) -> None:
    """Release an accepted cancellation's reservations and end the order cancelled."""
    from . import services

    services.order_cancellation_finish(order_id=order_id)


@shared_task
def orders_start_due_task() -> int:
    """Periodic: start acknowledged orders whose requested start has come."""
    from . import services

    return services.orders_start_due()


@shared_task
def reservations_release_expired_task() -> int:
    """Periodic: release lapsed code and port reservations."""
    from . import services

    return services.reservations_release_expired()


@shared_task
def quarantine_release_due_task() -> int:
    """Periodic: return codes whose quarantine ended to the pool."""
    from . import services

    return services.quarantine_release_due()


@shared_task
def contracts_daily_task() -> dict:
    """Daily: renew or expire contracts past their term and warn managers of expiries."""
    from . import services

    return services.contracts_daily_run()


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def contract_expiry_warning_task(contract_id: int) -> bool:
    """E-mail a manager that a contract expires soon."""
    from . import services

    return services.contract_expiry_warning_send(contract_id=contract_id)
