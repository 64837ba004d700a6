"""An add order from submission to an active subscription, and the order's own states."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from core import crypto
from core.selectors import state_changes_for
from fulfillment import services
from fulfillment.models import (
    CancellationRequest,
    CmppAccount,
    Contract,
    MasPort,
    Order,
    OrderItem,
    ProvisioningStep,
    ServiceCode,
    Subscription,
)
from fulfillment.signals import order_state_changed
from product_lifecycle import services as catalog_services
from tests.fulfillment.factories import (
    active_subscription,
    add_item,
    add_order,
    inventory,
    ready_enterprise,
)
from tests.product_lifecycle.factories import priced_offering

pytestmark = pytest.mark.django_db


def test_an_add_order_provisions_code_port_account_and_contract(clock, manager):
    inventory(codes=3, ports=2)
    offering = priced_offering(port="120.00", package="500.00", included=20_000, overage="0.04")
    enterprise = ready_enterprise(manager)

    order = add_order(manager, enterprise=enterprise, offering=offering, access_ip="10.1.2.3")

    order.refresh_from_db()
    assert order.state == Order.State.COMPLETED
    assert [c.to_state for c in state_changes_for(order)] == [
        "draft",
        "acknowledged",
        "inProgress",
        "completed",
    ]
    item = order.items.get()
    steps = list(item.steps.order_by("position"))
    assert [(s.kind, s.state, s.attempts) for s in steps] == [
        ("reserve_code", "succeeded", 1),
        ("reserve_port", "succeeded", 1),
        ("create_account", "succeeded", 1),
        ("activate", "succeeded", 1),
    ]
    subscription = Subscription.objects.get(order=order)
    assert subscription.state == Subscription.State.ACTIVE
    assert subscription.service_code.state == ServiceCode.State.ASSIGNED
    assert subscription.port.state == MasPort.State.ASSIGNED
    assert (subscription.cmpp_version, subscription.access_ip) == ("3.0", "10.1.2.3")
    assert (subscription.licensed_rate, subscription.max_links) == (50, 1)
    assert (subscription.port_fee, subscription.package_fee, subscription.overage_price) == (
        Decimal("120.00"),
        Decimal("500.00"),
        Decimal("0.04"),
    )
    assert subscription.included_messages == 20_000
    account = subscription.account
    assert account.state == CmppAccount.State.ACTIVE
    assert (account.service_code, account.access_ip) == (subscription.service_code.code, "10.1.2.3")
    assert (account.ismg_host, account.ismg_port, account.window_size) == ("127.0.0.1", 7890, 16)
    assert len(account.sp_id) == 6 and account.sp_id.isdigit()
    assert len(crypto.decrypt(account.secret_encrypted)) == 16
    contract = subscription.contract
    assert contract.number == "HA.ZZ.JT.DXMAS.000001"
    assert (contract.starts_on, contract.expires_on) == (
        dt.date(2026, 11, 25),
        dt.date(2027, 11, 24),
    )


def test_the_sold_tariff_does_not_follow_later_price_changes(clock, manager):
    offering = priced_offering(port="100.00")
    subscription = active_subscription(manager, offering=offering)
    clock.advance(days=1)
    catalog_services.offering_price_revise(
        offering_id=offering.pk,
        component="port_fee",
        amount=Decimal("180.00"),
        valid_from=clock.now(),
    )
    subscription.refresh_from_db()
    assert subscription.port_fee == Decimal("100.00")
    assert subscription.tariff.port_fee == Decimal("100.00")
    assert list(subscription.tariff.price_ids) == sorted(subscription.price_ids)


def test_an_order_naming_unknown_things_is_created_and_rejected_with_its_references(clock, manager):
    order = services.order_create(
        by=manager,
        enterprise="party-4711",
        items=[services.ItemRequest(action="add", offering="PO-unknown", access_ip="10.0.0.9")],
        requested_start_at=clock.now(),
        channel=Order.Channel.TMF,
        extra={"note": [{"text": "来自接口"}]},
    )
    assert order.state == Order.State.REJECTED
    assert order.enterprise is None and order.enterprise_ref == "party-4711"
    item = order.items.get()
    assert item.offering is None and item.offering_ref == "PO-unknown"
    assert item.state == OrderItem.State.REJECTED
    codes = {r["code"]: r for r in order.rejection_reasons}
    assert codes["unknown_enterprise"]["rule"] == "集团客户"
    assert codes["unknown_offering"]["rule"] == "产品目录"
    assert codes["unknown_offering"]["item"] == "1"
    assert order.extra == {"note": [{"text": "来自接口"}]}


@pytest.mark.parametrize(
    "items",
    [
        [],
        [{"action": "replace"}],
        [{"action": "add", "access_ip": "1" * 65}],
        [{"action": "add", "item_id": "1"}, {"action": "add", "item_id": "1"}],
        [{"action": "add", "colour": "blue"}],
    ],
)
def test_requests_no_order_can_be_made_of_are_refused_and_nothing_is_created(clock, manager, items):
    with pytest.raises(ValidationError):
        services.order_create(by=manager, items=items, enterprise=1)
    assert not Order.objects.exists()


def test_a_naive_requested_start_is_refused(manager):
    with pytest.raises(ValidationError):
        services.order_create(
            by=manager,
            items=[{"action": "add"}],
            requested_start_at=dt.datetime(2026, 12, 1, 9, 0),
        )


def test_an_order_for_later_waits_acknowledged_and_starts_when_due(clock, manager, run_tasks):
    inventory()
    order = add_order(manager, start=clock.now() + dt.timedelta(days=3))
    order.refresh_from_db()
    assert order.state == Order.State.ACKNOWLEDGED
    assert not ProvisioningStep.objects.exists()

    clock.advance(days=2)
    with run_tasks():
        assert services.orders_start_due() == 0
    clock.advance(days=1)
    with run_tasks():
        assert services.orders_start_due() == 1
    order.refresh_from_db()
    assert order.state == Order.State.COMPLETED
    assert Subscription.objects.get(order=order).activated_at == clock.now()


def test_a_waiting_order_can_pend_for_the_enterprise_and_proceed(clock, manager, run_tasks):
    inventory()
    order = add_order(manager, start=clock.now() + dt.timedelta(days=1))
    with pytest.raises(ValidationError):
        services.order_pend(order_id=order.pk, by=manager, reason=" ")
    services.order_pend(order_id=order.pk, by=manager, reason="等待客户确认IP")
    clock.advance(days=2)
    with run_tasks():
        services.orders_start_due()
    assert Order.objects.get(pk=order.pk).state == Order.State.PENDING

    with run_tasks():
        order = services.order_proceed(order_id=order.pk, by=manager)
    order.refresh_from_db()
    assert order.state == Order.State.COMPLETED


def test_holding_an_order_in_progress_stops_provisioning_until_it_proceeds(
    clock, manager, run_tasks
):
    inventory()
    order = add_order(manager, submit=False)
    services.order_submit(order_id=order.pk, by=manager)  # tasks queued but not run
    services.order_start(order_id=order.pk)
    services.order_hold(order_id=order.pk, by=manager, reason="机房割接，暂缓开通")
    step = ProvisioningStep.objects.get(item__order=order, position=1)
    with run_tasks():
        services.provisioning_step_run(step_id=step.pk)
    step.refresh_from_db()
    assert step.state == ProvisioningStep.State.PENDING and step.attempts == 0

    with run_tasks():
        services.order_proceed(order_id=order.pk, by=manager, reason="割接完成")
    order.refresh_from_db()
    assert order.state == Order.State.COMPLETED


def test_a_manager_can_fail_a_stuck_order_and_its_reservations_are_released(
    clock, manager, run_tasks
):
    inventory(codes=1, ports=1)
    order = add_order(manager, submit=False)
    services.order_submit(order_id=order.pk, by=manager)
    services.order_start(order_id=order.pk)
    first = ProvisioningStep.objects.get(item__order=order, position=1)
    services.provisioning_step_run(step_id=first.pk)  # the code is reserved, nothing else ran
    assert ServiceCode.objects.get().state == ServiceCode.State.RESERVED

    services.order_fail(order_id=order.pk, by=manager, reason="客户放弃")

    order.refresh_from_db()
    assert order.state == Order.State.FAILED
    assert ServiceCode.objects.get().state == ServiceCode.State.AVAILABLE
    assert order.items.get().service_code is None
    assert set(
        ProvisioningStep.objects.filter(item__order=order).values_list("state", flat=True)
    ) == {"succeeded", "cancelled"}


def test_a_draft_can_be_edited_submitted_or_abandoned(clock, manager):
    enterprise = ready_enterprise(manager)
    offering = priced_offering()
    draft = services.order_create(
        by=manager, enterprise=enterprise.pk, items=[add_item(offering)], submit=False
    )
    assert draft.state == Order.State.DRAFT
    services.order_draft_update(
        order_id=draft.pk,
        by=manager,
        items=[add_item(offering, access_ip="10.9.9.9")],
        requested_start_at=clock.now() + dt.timedelta(days=1),
    )
    assert draft.items.get().access_ip == "10.9.9.9"
    services.order_abandon(order_id=draft.pk, by=manager, reason="客户改期")
    draft.refresh_from_db()
    assert draft.state == Order.State.CANCELLED
    with pytest.raises(ValidationError):
        services.order_draft_update(order_id=draft.pk, by=manager, description="改")


def test_cancelling_an_order_not_yet_provisioned_releases_and_cancels(clock, manager, run_tasks):
    inventory(codes=1, ports=1)
    order = add_order(manager, submit=False)
    services.order_submit(order_id=order.pk, by=manager)
    services.order_start(order_id=order.pk)
    step = ProvisioningStep.objects.get(item__order=order, position=1)
    services.provisioning_step_run(step_id=step.pk)

    with run_tasks():
        request = services.order_cancel_request(order_id=order.pk, by=manager, reason="客户撤单")

    order.refresh_from_db()
    request.refresh_from_db()
    assert order.state == Order.State.CANCELLED
    assert request.state == CancellationRequest.State.DONE
    assert request.effective_at == clock.now()
    assert [c.to_state for c in state_changes_for(order)][-3:] == [
        "assessingCancellation",
        "pendingCancellation",
        "cancelled",
    ]
    assert ServiceCode.objects.get().state == ServiceCode.State.AVAILABLE
    assert order.items.get().state == OrderItem.State.CANCELLED


def test_cancelling_an_order_with_a_completed_item_is_refused_and_the_order_resumes(
    clock, manager, run_tasks
):
    inventory(codes=1, ports=2)
    enterprise = ready_enterprise(manager)
    offering = priced_offering()
    with run_tasks():
        order = services.order_create(
            by=manager,
            enterprise=enterprise.pk,
            items=[add_item(offering), add_item(offering)],
            requested_start_at=clock.now(),
            submit=False,
        )
    services.order_submit(order_id=order.pk, by=manager)
    services.order_start(order_id=order.pk)
    first_item = order.items.order_by("id").first()
    for step in first_item.steps.order_by("position"):
        services.provisioning_step_run(step_id=step.pk)
    assert first_item.steps.filter(state="succeeded").count() == 4

    with run_tasks():
        request = services.order_cancel_request(order_id=order.pk, by=manager, reason="撤单")

    request.refresh_from_db()
    order.refresh_from_db()
    assert request.state == CancellationRequest.State.TERMINATED_WITH_ERROR
    assert "已完成" in request.refusal_reason
    # Back in progress, the second item ran and found the pool empty: one done, one failed.
    assert order.state == Order.State.PARTIAL


def test_a_final_order_cannot_be_cancelled(clock, manager):
    subscription = active_subscription(manager)
    request = services.order_cancel_request(order_id=subscription.order_id, by=manager)
    assert request.state == CancellationRequest.State.TERMINATED_WITH_ERROR
    assert Order.objects.get(pk=subscription.order_id).state == Order.State.COMPLETED


def test_every_state_change_of_an_order_is_signalled(clock, manager):
    seen = []

    def receiver(sender, order, before, by, **kwargs):
        seen.append((before, order.state))

    order_state_changed.connect(receiver)
    try:
        active_subscription(manager)
    finally:
        order_state_changed.disconnect(receiver)
    assert seen == [
        ("draft", "acknowledged"),
        ("acknowledged", "inProgress"),
        ("inProgress", "completed"),
    ]


def test_the_contract_is_signed_on_the_order_date(clock, manager):
    subscription = active_subscription(manager)
    assert Contract.objects.get(subscription=subscription).signed_on == dt.date(2026, 11, 25)


def test_a_no_change_item_is_accepted_and_completes_with_nothing_to_do(clock, manager, run_tasks):
    subscription = active_subscription(manager)
    with run_tasks():
        order = services.order_create(
            by=manager,
            enterprise=subscription.enterprise_id,
            items=[services.ItemRequest(action="noChange", subscription=subscription.pk)],
            requested_start_at=clock.now(),
        )
    order.refresh_from_db()
    assert order.state == Order.State.COMPLETED
    assert not ProvisioningStep.objects.filter(item__order=order).exists()
    assert Subscription.objects.get(pk=subscription.pk).state == Subscription.State.ACTIVE
