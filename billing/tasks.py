"""Celery tasks of billing: thin wrappers around the services."""

from celery import shared_task


@shared_task
def billing_run_task(run_id: int) -> None:
    """Carry out a billing run; an unexpected failure marks the run failed (restartable)."""
    from . import services

    try:
        services.billing_run_execute(run_id=run_id)
    except Exception as exc:
        services.billing_run_fail(run_id=run_id, error=str(exc))
        raise


@shared_task
def quarterly_run_due_task() -> None:
    """Beat, daily: start the coming quarter's run once within the lead time."""
    from . import services

    services.quarterly_run_due()


@shared_task
def overage_rate_month_task() -> int:
    """Beat, on the 1st: rate the month that just closed."""
    import datetime as dt

    from core import clock

    from . import services

    last_month = clock.today().replace(day=1) - dt.timedelta(days=1)
    return services.overage_rate_month(month=last_month)


@shared_task
def dunning_daily_task() -> dict:
    """Beat, daily: reminders, written demands, suspensions and terminations due."""
    from . import services

    return services.dunning_run()


@shared_task
def invoice_pdf_render_task(invoice_id: int) -> None:
    """Render and store an issued invoice's PDF once."""
    from . import services

    services.invoice_pdf_store(invoice_id=invoice_id)


@shared_task
def final_invoice_task(subscription_id: int) -> None:
    """Bill a terminated subscription's last overage and refund (its own invoice)."""
    from fulfillment.models import Subscription

    from . import services

    services.subscription_terminated(Subscription.objects.get(pk=subscription_id))


@shared_task
def billing_request_process_task(request_id: int) -> None:
    """Process a TMF678 on-demand bill request."""
    from . import services

    services.billing_request_process(request_id=request_id)
