"""Celery tasks of the kernel: delivering TMF events to hub subscribers."""

from celery import shared_task
from django.conf import settings


def retry_countdown(retries: int) -> int:
    """Exponential back-off: base · 2^retries seconds, capped (TMF_EVENT_RETRY_* settings)."""
    base = settings.TMF_EVENT_RETRY_BASE_SECONDS
    return int(min(settings.TMF_EVENT_RETRY_MAX_SECONDS, base * 2**retries))


@shared_task(bind=True, max_retries=None, acks_late=True)
def tmf_event_deliver_task(self, delivery_id: int):
    """POST one event to one callback; retry with back-off until TMF_EVENT_MAX_ATTEMPTS."""
    from core.services import event_delivery_attempt, event_delivery_give_up

    if event_delivery_attempt(delivery_id=delivery_id):
        return
    if self.request.retries + 1 >= settings.TMF_EVENT_MAX_ATTEMPTS:
        event_delivery_give_up(delivery_id=delivery_id)
        return
    # A worker raises Retry (the task is re-queued after the countdown). Run eagerly (tests,
    # the embedded set-up) the Retry is returned instead, so that Celery's apply() runs the
    # next attempt at once rather than propagating Retry to the caller.
    return self.retry(
        countdown=retry_countdown(self.request.retries), throw=not self.request.is_eager
    )


@shared_task
def retention_run_task() -> dict:
    """Purge or pseudonymise personal data past its retention period (core.retention)."""
    from core.retention import run_all

    return run_all()
