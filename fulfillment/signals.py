"""Signals fulfillment sends inside the transaction of the change they announce.

Interfaces above fulfillment (the TMF622 API's event outbox, smsgw, billing) connect
receivers here; fulfillment itself never imports them.

- `order_created(sender=Order, order, by)`: an order was created (before submission).
- `order_state_changed(sender=Order, order, before, by)`: an order changed state
  (`before` is the previous state; `order.state` the new one).
- `subscription_state_changed(sender=Subscription, subscription, before, by)`: a
  subscription was activated (`before == ""`), suspended, resumed or terminated.
"""

from django.dispatch import Signal

order_created = Signal()
order_state_changed = Signal()
subscription_state_changed = Signal()
