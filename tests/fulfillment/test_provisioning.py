"""Provisioning steps: recorded outcomes, retries, idempotency and releasing on failure."""

import datetime as dt

import pytest
from django.db import OperationalError

from fulfillment import services, tasks
from fulfillment.models import (
    CmppAccount,
    MasPort,
    Order,
    OrderItem,
    ProvisioningStep,
    ServiceCode,
    Subscription,
)
from fulfillment.services import provisioning
from tests.fulfillment.factories import (
    active_subscription,
    add_item,
    add_order,
    inventory,
    ready_enterprise,
)
from tests.product_lifecycle.factories import priced_offering

pytestmark = pytest.mark.django_db


def _flaky(monkeypatch, kind, failures, error=services.TransientProvisioningError):
    """Make the handler of `kind` fail `failures` times before doing its work."""
    real = provisioning.HANDLERS[kind]
    calls = {"n": 0}

    def handler(item, order):
        calls["n"] += 1
        if calls["n"] <= failures:
            raise error("ISMG 开户接口超时")
        return real(item, order)

    monkeypatch.setitem(provisioning.HANDLERS, kind, handler)
    return calls


def test_a_transient_failure_is_retried_and_the_order_completes(clock, manager, monkeypatch):
    inventory()
    calls = _flaky(monkeypatch, ProvisioningStep.Kind.CREATE_ACCOUNT, failures=2)

    order = add_order(manager)

    order.refresh_from_db()
    assert order.state == Order.State.COMPLETED
    step = ProvisioningStep.objects.get(item__order=order, kind="create_account")
    assert (step.state, step.attempts, step.last_error) == ("succeeded", 3, "")
    assert calls["n"] == 3
    assert CmppAccount.objects.filter(state="active").count() == 1


def test_database_errors_are_retried_too(clock, manager, monkeypatch):
    inventory()
    _flaky(monkeypatch, ProvisioningStep.Kind.RESERVE_PORT, failures=1, error=OperationalError)
    order = add_order(manager)
    order.refresh_from_db()
    assert order.state == Order.State.COMPLETED
    step = ProvisioningStep.objects.get(item__order=order, kind="reserve_port")
    assert step.attempts == 2


def test_when_retries_run_out_the_step_fails_and_reservations_are_released(
    clock, manager, monkeypatch, settings
):
    settings.FULFILLMENT_STEP_MAX_RETRIES = 2
    inventory(codes=1, ports=1)
    _flaky(monkeypatch, ProvisioningStep.Kind.CREATE_ACCOUNT, failures=99)

    order = add_order(manager)

    order.refresh_from_db()
    assert order.state == Order.State.FAILED
    steps = {s.kind: s for s in ProvisioningStep.objects.filter(item__order=order)}
    assert steps["create_account"].state == "failed"
    assert steps["create_account"].attempts == 3
    assert "重试 3 次后仍失败" in steps["create_account"].last_error
    assert steps["activate"].state == "cancelled"
    assert ServiceCode.objects.get().state == ServiceCode.State.AVAILABLE
    assert MasPort.objects.get().state == MasPort.State.AVAILABLE
    item = order.items.get()
    assert (item.state, item.service_code, item.port) == (OrderItem.State.FAILED, None, None)


def test_a_failed_activation_releases_the_code_port_and_revokes_the_account(
    clock, manager, monkeypatch
):
    inventory(codes=1, ports=1)
    _flaky(
        monkeypatch, ProvisioningStep.Kind.ACTIVATE, failures=1, error=services.ProvisioningError
    )

    order = add_order(manager)

    order.refresh_from_db()
    assert order.state == Order.State.FAILED
    assert ServiceCode.objects.get().state == ServiceCode.State.AVAILABLE
    assert MasPort.objects.get().state == MasPort.State.AVAILABLE
    assert CmppAccount.objects.get().state == CmppAccount.State.REVOKED
    assert not Subscription.objects.exists()

    # Everything is free again: the next order gets the same code and port.
    again = add_order(manager)
    again.refresh_from_db()
    assert again.state == Order.State.COMPLETED


def test_running_a_succeeded_step_again_does_nothing(clock, manager):
    inventory(codes=2, ports=2)
    subscription = active_subscription(manager)
    steps = ProvisioningStep.objects.filter(item__order=subscription.order)

    for step in steps:
        tasks.provisioning_step_task.delay(step.pk)

    assert ServiceCode.objects.filter(state="assigned").count() == 1
    assert ServiceCode.objects.filter(state="reserved").count() == 0
    assert CmppAccount.objects.count() == 1
    assert Subscription.objects.count() == 1
    assert set(steps.values_list("attempts", flat=True)) == {1}


def test_an_exhausted_pool_fails_the_order_with_the_reason(clock, manager):
    inventory(codes=1, ports=5)
    active_subscription(manager)
    order = add_order(manager)
    order.refresh_from_db()
    assert order.state == Order.State.FAILED
    step = ProvisioningStep.objects.get(item__order=order, kind="reserve_code")
    assert step.last_error == "号码池中没有河南省的空闲服务代码"


def test_no_free_port_fails_the_order_and_gives_the_code_back(clock, manager):
    inventory(codes=2, ports=1)
    active_subscription(manager)
    order = add_order(manager)
    order.refresh_from_db()
    assert order.state == Order.State.FAILED
    assert ServiceCode.objects.filter(state="available").count() == 1
    assert (
        "MAS 端口"
        in ProvisioningStep.objects.get(item__order=order, kind="reserve_port").last_error
    )


def test_some_items_done_and_some_failed_make_a_partial_order(clock, manager):
    inventory(codes=1, ports=2)
    offering = priced_offering()
    order = add_order(manager, items=[add_item(offering), add_item(offering)])
    order.refresh_from_db()
    assert order.state == Order.State.PARTIAL
    assert sorted(order.items.values_list("state", flat=True)) == ["completed", "failed"]


def test_the_database_keeps_one_account_per_ip_even_when_a_race_slips_through(clock, manager):
    """Eligibility checks the IP at submission; two orders racing past it still cannot
    both get an account for the IP (第5条第6款), thanks to a unique index."""
    inventory(codes=2, ports=2)
    taken = active_subscription(manager, access_ip="10.7.7.7")
    order = add_order(manager, access_ip="10.7.7.8", start=clock.now() + dt.timedelta(hours=1))
    OrderItem.objects.filter(order=order).update(access_ip="10.7.7.7")  # as if it raced
    clock.advance(hours=1)
    from tests.fulfillment.factories import committing

    with committing():
        services.orders_start_due()
    order.refresh_from_db()
    assert order.state == Order.State.FAILED
    step = ProvisioningStep.objects.get(item__order=order, kind="create_account")
    assert "第5条第6款" in step.last_error
    assert taken.account.state == CmppAccount.State.ACTIVE
    assert ServiceCode.objects.filter(state="available").count() == 1


def test_a_lapsed_reservation_of_a_waiting_order_is_released_and_taken_again_later(
    clock, manager, run_tasks, settings
):
    settings.FULFILLMENT_RESERVATION_HOURS = 2
    inventory(codes=1, ports=1)
    order = add_order(manager, submit=False)
    services.order_submit(order_id=order.pk, by=manager)
    services.order_start(order_id=order.pk)
    for step in ProvisioningStep.objects.filter(item__order=order).order_by("position")[:3]:
        services.provisioning_step_run(step_id=step.pk)  # code, port and account done
    services.order_pend(order_id=order.pk, by=manager, reason="等待客户确认开通时间")

    clock.advance(hours=1)
    assert services.reservations_release_expired() == 0
    clock.advance(hours=2)
    assert services.reservations_release_expired() == 2

    assert ServiceCode.objects.get().state == ServiceCode.State.AVAILABLE
    assert MasPort.objects.get().state == MasPort.State.AVAILABLE
    assert CmppAccount.objects.get().state == CmppAccount.State.REVOKED
    assert set(
        ProvisioningStep.objects.filter(item__order=order).values_list("state", flat=True)
    ) == {"pending"}

    with run_tasks():
        services.order_proceed(order_id=order.pk, by=manager)
    order.refresh_from_db()
    assert order.state == Order.State.COMPLETED
    assert CmppAccount.objects.filter(state="active").count() == 1


def test_an_order_being_provisioned_keeps_its_reservations(clock, manager, settings):
    settings.FULFILLMENT_RESERVATION_HOURS = 1
    inventory(codes=1, ports=1)
    order = add_order(manager, submit=False)
    services.order_submit(order_id=order.pk, by=manager)
    services.order_start(order_id=order.pk)
    services.provisioning_step_run(
        step_id=ProvisioningStep.objects.get(item__order=order, position=1).pk
    )
    clock.advance(hours=5)
    assert services.reservations_release_expired() == 0
    assert ServiceCode.objects.get().state == ServiceCode.State.RESERVED


def test_a_stalled_order_is_queued_again(clock, manager, run_tasks):
    inventory()
    order = add_order(manager, submit=False)
    services.order_submit(order_id=order.pk, by=manager)
    services.order_start(order_id=order.pk)  # the first step's message is "lost"
    clock.advance(minutes=30)
    with run_tasks():
        services.orders_start_due()
    order.refresh_from_db()
    assert order.state == Order.State.COMPLETED


def test_ports_go_to_a_server_in_the_enterprises_city_first(clock, manager):
    from tests.fulfillment.factories import code_block, mas_server

    code_block(size=3)
    zhengzhou = mas_server(ports=3, location="郑州市")
    luoyang = mas_server(ports=1, location="洛阳市")
    in_luoyang = ready_enterprise(manager, city="洛阳市")
    elsewhere = ready_enterprise(manager, city="开封市")

    first = active_subscription(manager, enterprise=in_luoyang)
    second = active_subscription(manager, enterprise=elsewhere)

    assert first.port.server == luoyang
    assert second.port.server == zhengzhou  # no server in 开封: the one with most free ports


def test_an_items_steps_run_back_to_back_from_one_message(clock, manager, monkeypatch):
    """The worker runs the next step at once (each in its own transaction, each recorded)
    instead of sending it back through the broker: one message per add item."""
    inventory()
    sent = []
    real = tasks.provisioning_step_task.delay

    def delay(*args):
        sent.append(args)
        return real(*args)

    monkeypatch.setattr(tasks.provisioning_step_task, "delay", delay)

    order = add_order(manager)

    order.refresh_from_db()
    assert order.state == Order.State.COMPLETED
    steps = list(ProvisioningStep.objects.filter(item__order=order).order_by("position"))
    assert sent == [(steps[0].pk,)]
    assert all(s.state == "succeeded" and s.queued_at and s.attempts == 1 for s in steps)


def test_a_later_step_that_fails_transiently_is_retried_on_its_own(clock, manager, monkeypatch):
    inventory()
    calls = _flaky(monkeypatch, ProvisioningStep.Kind.ACTIVATE, failures=1)
    sent = []
    real = tasks.provisioning_step_task.apply

    def apply(*args, **kwargs):
        sent.append(kwargs.get("args"))
        return real(*args, **kwargs)

    monkeypatch.setattr(tasks.provisioning_step_task, "apply", apply)

    order = add_order(manager)

    order.refresh_from_db()
    assert order.state == Order.State.COMPLETED
    activate = ProvisioningStep.objects.get(item__order=order, kind="activate")
    assert activate.attempts == 2 and calls["n"] == 2
    assert (activate.pk,) in sent
    reserve = ProvisioningStep.objects.get(item__order=order, kind="reserve_code")
    assert reserve.attempts == 1
