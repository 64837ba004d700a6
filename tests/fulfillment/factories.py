"""Factories for fulfillment: inventory, ready enterprises, orders run to completion.

Services queue their Celery tasks with transaction.on_commit. Inside a test's
transaction those callbacks only run within `committing()`, which executes them (and
the ones they queue) as the real commit would; Celery itself is eager in tests.
"""

import datetime as dt
import itertools

from django.test import TestCase

from core import clock
from customers import services as customer_services
from fulfillment import services
from fulfillment.models import MasServer, Order, ServiceCodeBlock, Subscription
from fulfillment.services import ItemRequest
from tests.customers.factories import SignatureFactory, active_enterprise
from tests.product_lifecycle.factories import priced_offering

_ips = itertools.count(1)
_blocks = itertools.count(1)
_servers = itertools.count(1)


def committing():
    """Run the on_commit callbacks (task dispatches) registered inside the block."""
    return TestCase.captureOnCommitCallbacks(execute=True)


def next_ip() -> str:
    """A distinct access address per call (hosts .1 to .254, so no two calls collide)."""
    n = next(_ips) - 1
    host, network = n % 254 + 1, n // 254
    return f"10.{network // 256 % 256}.{network % 256}.{host}"


def code_block(
    *, size: int = 5, extension_digits: int = 4, province: str = "41", first: str | None = None
) -> ServiceCodeBlock:
    """A block of `size` available codes (106903xxxxxx by default)."""
    if first is None:
        first = f"1069037{next(_blocks):02d}{0:03d}"
    last = str(int(first) + size - 1).zfill(len(first))
    return services.service_code_block_add(
        first_code=first,
        last_code=last,
        extension_digits=extension_digits,
        province=province,
        by=None,
    )


def mas_server(
    *, ports: int = 5, location: str = "郑州市", capacity: int | None = None
) -> MasServer:
    return services.mas_server_create(
        name=f"郑州MAS-{next(_servers):02d}",
        location=location,
        capacity=capacity or max(ports, 1) * 2,
        ports=ports,
        by=None,
    )


def inventory(*, codes: int = 5, ports: int = 5) -> tuple[ServiceCodeBlock, MasServer]:
    return code_block(size=codes), mas_server(ports=ports)


def ready_enterprise(manager, **kwargs):
    """An active enterprise with an approved signature: everything an add order needs."""
    enterprise = active_enterprise(manager, **kwargs)
    signature = SignatureFactory(enterprise=enterprise, text=f"【{enterprise.brands}】")
    customer_services.signature_approve(signature_id=signature.pk, by=manager, evidence="执照")
    return enterprise


def add_item(offering, **overrides) -> ItemRequest:
    values = {
        "action": "add",
        "offering": offering.pk if offering is not None else None,
        "cmpp_version": "3.0",
        "interface_type": "cmpp",
        "access_ip": next_ip(),
        "contact_name": "张工",
        "contact_phone": "13803710000",
    }
    values.update(overrides)
    return ItemRequest(**values)


def add_order(
    manager,
    *,
    enterprise=None,
    offering=None,
    submit: bool = True,
    start=None,
    items=None,
    **item_overrides,
) -> Order:
    """An add order for one subscription, submitted (and provisioned) unless told not to."""
    enterprise = enterprise if enterprise is not None else ready_enterprise(manager)
    offering = offering if offering is not None else priced_offering()
    with committing():
        return services.order_create(
            by=manager,
            enterprise=enterprise.pk,
            items=items or [add_item(offering, **item_overrides)],
            requested_start_at=start or clock.now(),
            submit=submit,
        )


def active_subscription(manager, **kwargs) -> Subscription:
    """A subscription provisioned by a completed add order (inventory created if needed)."""
    if not MasServer.objects.exists():
        inventory()
    order = add_order(manager, **kwargs)
    order.refresh_from_db()
    assert order.state == Order.State.COMPLETED, (order.state, order.rejection_reasons)
    return Subscription.objects.get(order=order)


def order_for(manager, subscription, action: str, *, start=None, **item_fields) -> Order:
    """A modify / suspend / resume / delete order on a subscription, submitted."""
    with committing():
        return services.order_create(
            by=manager,
            enterprise=subscription.enterprise_id,
            items=[ItemRequest(action=action, subscription=subscription.pk, **item_fields)],
            requested_start_at=start or clock.now(),
        )


def one_month_later(days: int = 1) -> dt.datetime:
    """A moment a bit more than one month after the clock's now."""
    from dateutil.relativedelta import relativedelta

    return clock.now() + relativedelta(months=1) + dt.timedelta(days=days)
