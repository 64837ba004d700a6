"""Concurrency on PostgreSQL: parallel transactions, each on its own connection.

Two orders race for the last free code (or port): both are inside their provisioning
transaction and have run their allocation query before either commits, so without row
locks both would take it. SKIP LOCKED gives it to exactly one; the other order fails
and gives back what it had reserved.
"""

import threading

import pytest
from django.db import connection, transaction

from fulfillment import services, tasks
from fulfillment.models import MasPort, Order, ProvisioningStep, ServiceCode, Subscription
from fulfillment.services import provisioning
from fulfillment.services.common import sequence_next
from tests.fulfillment.factories import add_order, code_block, mas_server

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _in_threads(*targets):
    errors = []

    def run(target):
        try:
            target()
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(target,)) for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []


def _racing(monkeypatch, kind: str, parties: int = 2) -> None:
    """Make the `kind` steps of `parties` orders overlap: all query, then all commit."""
    real = provisioning.HANDLERS[kind]
    queried = threading.Barrier(parties, timeout=30)
    before_commit = threading.Barrier(parties, timeout=30)

    def racing(item, order):
        queried.wait()
        try:
            return real(item, order)
        finally:
            before_commit.wait()

    monkeypatch.setitem(provisioning.HANDLERS, kind, racing)


def _started_orders(manager, count: int, monkeypatch) -> list[Order]:
    """Orders in progress whose first step has not run yet (its message held back)."""
    orders = []
    with monkeypatch.context() as held:
        held.setattr(tasks.provisioning_step_task, "delay", lambda *args: None)
        for _ in range(count):
            order = add_order(manager, submit=False)
            services.order_submit(order_id=order.pk, by=manager)
            orders.append(services.order_start(order_id=order.pk))
    return orders


@pytest.mark.parametrize(
    ("kind", "codes", "ports"),
    [("reserve_code", 1, 2), ("reserve_port", 2, 1)],
)
def test_two_orders_racing_for_the_last_resource_never_both_get_it(
    clock, manager, monkeypatch, kind, codes, ports
):
    code_block(size=codes)
    mas_server(ports=ports)
    orders = _started_orders(manager, 2, monkeypatch)
    if kind == "reserve_port":  # each order gets its own code first, one after the other
        for order in orders:
            step = ProvisioningStep.objects.get(item__order=order, kind="reserve_code")
            with monkeypatch.context() as held:
                held.setattr(tasks.provisioning_step_task, "delay", lambda *args: None)
                services.provisioning_step_run(step_id=step.pk)
    assert set(Order.objects.values_list("state", flat=True)) == {"inProgress"}
    _racing(monkeypatch, kind)
    steps = [ProvisioningStep.objects.get(item__order=order, kind=kind) for order in orders]

    _in_threads(*(lambda s=step: services.provisioning_step_run(step_id=s.pk) for step in steps))

    states = sorted(Order.objects.values_list("state", flat=True))
    assert states == ["completed", "failed"]
    assert Subscription.objects.count() == 1
    model = ServiceCode if kind == "reserve_code" else MasPort
    (taken,) = model.objects.exclude(state="available")
    assert taken.state == "assigned"
    assert taken.order_items.get().order.state == Order.State.COMPLETED
    failed = Order.objects.get(state=Order.State.FAILED)
    assert failed.items.get().steps.get(kind=kind).state == ProvisioningStep.State.FAILED
    # The loser gave back what it held: nothing but the winner's resources is taken.
    assert ServiceCode.objects.exclude(state="available").count() == 1
    assert MasPort.objects.exclude(state="available").count() == 1


def test_concurrent_numbers_are_distinct_and_gapless(db):
    parties = 6
    start = threading.Barrier(parties, timeout=30)
    got = []
    lock = threading.Lock()

    def take():
        start.wait()
        with transaction.atomic():
            value = sequence_next("contract")
        with lock:
            got.append(value)

    _in_threads(*([take] * parties))
    assert sorted(got) == list(range(1, parties + 1))
