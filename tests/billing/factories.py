"""Factories for billing: subscriptions activated on a chosen day, usage, finance users."""

import datetime as dt

from django.utils import timezone

from billing import services
from core import clock
from fulfillment.models import Subscription
from tests.fulfillment.factories import active_subscription, committing


def local(day: dt.date, hour: int = 10) -> dt.datetime:
    """A moment of a local (Asia/Shanghai) day."""
    return dt.datetime.combine(day, dt.time(hour), tzinfo=timezone.get_default_timezone())


def freeze_on(day: dt.date, hour: int = 10) -> None:
    clock.freeze(local(day, hour))


def subscription_activated(manager, day: dt.date, **kwargs) -> Subscription:
    """A live subscription (full order flow) whose activation is moved to `day`."""
    subscription = active_subscription(manager, **kwargs)
    Subscription.objects.filter(pk=subscription.pk).update(activated_at=local(day, 9))
    subscription.refresh_from_db()
    return subscription


def account_of(subscription: Subscription):
    return services.payer_account(subscription.enterprise)


def bill_quarter(subscription: Subscription, quarter_start: dt.date):
    with committing():
        return services.bill_account_for_quarter(
            account=account_of(subscription), quarter_start=quarter_start
        )


def pay(invoice, amount, on=None, **kwargs):
    with committing():
        return services.payment_record(
            account_id=invoice.account_id, amount=amount, received_on=on, **kwargs
        )
