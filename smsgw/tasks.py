"""Celery tasks of smsgw: thin wrappers around the services."""

from celery import shared_task
from django.conf import settings


@shared_task(bind=True, max_retries=None)
def webhook_deliver_task(self, delivery_id: int) -> None:
    """POST one webhook delivery; retry with exponential back-off, then give up."""
    from . import webhooks

    try:
        webhooks.webhook_deliver(delivery_id=delivery_id)
    except webhooks.WebhookFailedError as exc:
        retries = self.request.retries
        if retries + 1 >= settings.SMSGW_WEBHOOK_MAX_ATTEMPTS:
            webhooks.webhook_give_up(delivery_id=delivery_id)
            return
        if self.request.is_eager:
            # Eager Celery (tests) propagates Retry instead of running the task again.
            self.apply(args=(delivery_id,), retries=retries + 1, throw=True)
            return
        raise self.retry(exc=exc, countdown=min(2**retries * 10, 3600)) from exc


@shared_task
def churn_analysis_task() -> int:
    """The daily early-warning analysis (预警分析) over the usage counters."""
    from .services import churn_analysis_run

    return len(churn_analysis_run())


@shared_task
def segments_expire_task() -> int:
    """Expire segments without a report after 48 h (the senders do it too)."""
    from .outbox import segments_expire_overdue

    return segments_expire_overdue()
