"""Celery tasks of assurance: thin wrappers around the services."""

from celery import shared_task


@shared_task
def sla_check_task() -> int:
    """Periodic (every minute): raise the repair clocks' due warnings and breaches."""
    from .services import sla_check_due

    return sla_check_due()


@shared_task
def tickets_close_quiet_task() -> int:
    """Periodic: close resolved tickets whose quiet period has passed."""
    from .services import tickets_close_quiet

    return tickets_close_quiet()


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def sla_event_notify_task(event_id: int) -> None:
    """Tell the owner / shift lead / head about a warning or breach."""
    from .services import sla_event_notify

    sla_event_notify(event_id=event_id)


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def maintenance_notify_task(window_id: int, topic: str) -> int:
    """Send a maintenance notice to every affected enterprise."""
    from .services import maintenance_notify

    return maintenance_notify(window_id=window_id, topic=topic)


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def ticket_resolved_notify_task(ticket_id: int) -> None:
    """Ask the enterprise to confirm a resolution."""
    from .services.notify import ticket_resolved_notify

    ticket_resolved_notify(ticket_id=ticket_id)


@shared_task
def notification_delivery_refresh_task() -> int:
    """Periodic: follow the delivery of SMS notices sent through smsgw."""
    from .services.notify import notification_delivery_refresh

    return notification_delivery_refresh()
