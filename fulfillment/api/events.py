"""TMF622 events: ProductOrderCreateEvent and ProductOrderStateChangeEvent in the outbox.

Receivers of fulfillment's own signals, connected in FulfillmentConfig.ready, so every
order is announced whichever interface moved it (admin, API, a provisioning task).
An order enters the API when it is submitted (drafts are internal): that first state,
acknowledged or rejected, is its ProductOrderCreateEvent; every later change is a
ProductOrderStateChangeEvent. A draft abandoned before submission is never announced.

A subscriber receives an order's events only if it could read that order through the
API: an enterprise subscriber its own enterprise's orders, staff what
`orders_visible_to` shows them.
"""

from core.tmf import events

from ..models import Order
from ..selectors import orders_visible_to
from ..signals import order_state_changed
from .spec import API_NAME

CREATE = "ProductOrderCreateEvent"
STATE_CHANGE = "ProductOrderStateChangeEvent"


def order_document(order: Order) -> dict:
    """The ProductOrder representation of an order, outside any request."""
    from .serializers import ProductOrderSerializer
    from .views import with_items

    return ProductOrderSerializer(with_items(Order.objects.filter(pk=order.pk)).get()).data


def order_audience(order: Order):
    """Whether a hub subscription may receive events about `order`."""

    def may_see(subscription) -> bool:
        if subscription.enterprise_id is not None:
            return subscription.enterprise_id == order.enterprise_id
        if subscription.owner is None:
            return True
        return orders_visible_to(subscription.owner).filter(pk=order.pk).exists()

    return may_see


def on_order_state_changed(sender, order: Order, before: str, **kwargs) -> None:
    if before == Order.State.DRAFT:
        if order.submitted_at is None:
            return
        event_type = CREATE
    elif before == "":
        return
    else:
        event_type = STATE_CHANGE
    events.publish(
        api=API_NAME,
        event_type=event_type,
        resource=lambda: order_document(order),
        audience=order_audience(order),
    )


def connect() -> None:
    order_state_changed.connect(
        on_order_state_changed, sender=Order, dispatch_uid="tmf622-order-events"
    )
