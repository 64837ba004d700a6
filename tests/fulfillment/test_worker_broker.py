"""Provisioning through a real broker and worker: a failed step is retried after its
countdown by the worker (not inline, as in the eager tests)."""

import time

import pytest
from celery.contrib.testing.worker import start_worker

from config.celery import app
from fulfillment import services
from fulfillment.models import Order, ProvisioningStep
from fulfillment.services import provisioning
from tests.fulfillment.factories import add_order, inventory

pytestmark = [pytest.mark.broker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker():
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    app.control.purge()
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
            yield
    finally:
        app.conf.task_always_eager = eager


def _wait_until_final(order_id: int, limit: float = 60.0) -> Order:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        order = Order.objects.get(pk=order_id)
        if order.is_final:
            return order
        time.sleep(0.2)
    raise AssertionError(f"order {order_id} still {order.state} after {limit} s")


def test_the_worker_retries_a_transient_failure_and_completes_the_order(
    clock, manager, monkeypatch, worker
):
    inventory()
    real = provisioning.HANDLERS["create_account"]
    calls = []

    def flaky(item, order):
        calls.append(item.pk)
        if len(calls) == 1:
            raise services.TransientProvisioningError("开户接口暂时不可用")
        return real(item, order)

    monkeypatch.setitem(provisioning.HANDLERS, "create_account", flaky)

    order = add_order(manager)

    order = _wait_until_final(order.pk)
    assert order.state == Order.State.COMPLETED
    step = ProvisioningStep.objects.get(item__order=order, kind="create_account")
    assert (step.state, step.attempts) == ("succeeded", 2)
