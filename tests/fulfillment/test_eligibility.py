"""Eligibility: each refusal names its rule, and every refusal is reported at once."""

import datetime as dt

import pytest

from customers import services as customer_services
from fulfillment import services
from fulfillment.models import Order
from fulfillment.services.eligibility import normalized_ip
from product_lifecycle import services as catalog_services
from tests.customers.factories import active_enterprise
from tests.fulfillment.factories import (
    active_subscription,
    add_item,
    add_order,
    ready_enterprise,
)
from tests.product_lifecycle.factories import priced_offering

pytestmark = pytest.mark.django_db


def _refusals(order: Order) -> dict[str, str]:
    order.refresh_from_db()
    assert order.state == Order.State.REJECTED
    return {reason["code"]: reason["rule"] for reason in order.rejection_reasons}


def test_an_eligible_order_is_acknowledged(clock, manager):
    order = add_order(manager, start=clock.now() + dt.timedelta(days=1))
    order.refresh_from_db()
    assert order.state == Order.State.ACKNOWLEDGED
    assert order.rejection_reasons == []


def test_an_enterprise_that_is_not_active_is_refused(clock, manager):
    enterprise = ready_enterprise(manager)
    customer_services.enterprise_suspend(enterprise_id=enterprise.pk, by=manager, reason="核查")
    order = add_order(manager, enterprise=enterprise)
    assert _refusals(order) == {"enterprise_not_active": "集团客户"}


def test_a_code_applied_for_outside_the_registered_province_is_refused(clock, manager):
    hubei = ready_enterprise(manager, province="42", city="武汉市")
    order = add_order(manager, enterprise=hubei)
    refusals = _refusals(order)
    assert refusals == {"province_mismatch": "第5条第5款"}
    message = order.rejection_reasons[0]["message"]
    assert "湖北省" in message and "河南省" in message


def test_a_requested_code_of_another_province_is_refused(clock, manager):
    from tests.fulfillment.factories import code_block

    block = code_block(size=1, province="42", first="106902710000")
    order = add_order(manager, requested_code=block.first_code)
    assert _refusals(order) == {"province_mismatch": "第5条第5款"}


def test_an_access_ip_already_used_by_an_account_is_refused(clock, manager):
    subscription = active_subscription(manager, access_ip="10.20.30.40")
    other = ready_enterprise(manager)
    order = add_order(manager, enterprise=other, access_ip="10.20.30.40")
    assert _refusals(order) == {"access_ip_in_use": "第5条第6款"}
    assert subscription.service_code.code in order.rejection_reasons[0]["message"]


def test_an_access_ip_claimed_by_an_open_order_is_refused(clock, manager):
    first = add_order(manager, access_ip="10.20.30.41", start=clock.now() + dt.timedelta(days=5))
    order = add_order(manager, access_ip="10.20.30.41")
    assert _refusals(order) == {"access_ip_in_use": "第5条第6款"}
    assert f"#{first.pk}" in order.rejection_reasons[0]["message"]


def test_two_items_of_one_order_with_the_same_ip_are_refused(clock, manager):
    offering = priced_offering()
    order = add_order(
        manager,
        items=[add_item(offering, access_ip="10.1.1.1"), add_item(offering, access_ip="10.1.1.1")],
    )
    assert _refusals(order) == {"access_ip_in_use": "第5条第6款"}


def test_the_ip_of_a_terminated_subscription_can_be_used_again(clock, manager):
    subscription = active_subscription(manager, access_ip="10.20.30.42")
    services.subscription_terminate(subscription_id=subscription.pk, by=manager, reason="拆机")
    order = add_order(manager, access_ip="10.20.30.42", start=clock.now() + dt.timedelta(days=1))
    order.refresh_from_db()
    assert order.state == Order.State.ACKNOWLEDGED


def test_an_enterprise_without_an_approved_signature_is_refused(clock, manager):
    enterprise = active_enterprise(manager)
    order = add_order(manager, enterprise=enterprise)
    assert _refusals(order) == {"no_approved_signature": "第6条第4款"}


UNUSABLE = ["10.0.0.256", "www.example.cn", "127.0.0.1", "0.0.0.0", "224.0.0.5", "169.254.1.1"]  # noqa: S104


@pytest.mark.parametrize("address", UNUSABLE)
def test_an_access_address_that_is_not_a_usable_ip_is_refused(clock, manager, address):
    order = add_order(manager, access_ip=address)
    assert _refusals(order) == {"access_ip_invalid": "第3条"}


def test_ip_addresses_are_stored_in_canonical_form():
    assert normalized_ip(" 2001:DB8::0001 ") == "2001:db8::1"
    assert normalized_ip("192.168.001.1") is None  # leading zeros are ambiguous
    assert normalized_ip("61.163.1.2") == "61.163.1.2"


def test_an_incomplete_written_notice_is_refused_naming_what_is_missing(clock, manager):
    order = add_order(manager, interface_type="", access_ip="", contact_name="")
    assert _refusals(order) == {"notice_incomplete": "第3条"}
    message = order.rejection_reasons[0]["message"]
    for part in ("接口类型", "接入地址", "联系人"):
        assert part in message


def test_an_add_order_without_an_activation_time_is_refused(clock, manager):
    enterprise = ready_enterprise(manager)
    order = services.order_create(
        by=manager, enterprise=enterprise.pk, items=[add_item(priced_offering())]
    )
    assert _refusals(order) == {"notice_incomplete": "第3条"}
    assert "开通时间" in order.rejection_reasons[0]["message"]


def test_an_unknown_interface_type_is_refused(clock, manager):
    order = add_order(manager, interface_type="smtp")
    assert _refusals(order) == {"interface_type_invalid": "第3条"}


def test_a_cmpp_version_the_offering_does_not_offer_is_refused(clock, manager):
    offering = priced_offering(cmpp_versions=["3.0"])
    order = add_order(manager, offering=offering, cmpp_version="2.0")
    assert _refusals(order) == {"cmpp_version_not_offered": "第2条"}


def test_an_offering_that_is_not_launched_is_refused(clock, manager):
    offering = priced_offering(launch=False)
    order = add_order(manager, offering=offering)
    assert _refusals(order) == {"offering_not_launched": "产品目录"}


def test_a_retired_offering_is_refused(clock, manager):
    offering = priced_offering()
    catalog_services.offering_retire(offering_id=offering.pk, by=None, reason="退市")
    order = add_order(manager, offering=offering)
    assert _refusals(order) == {"offering_not_launched": "产品目录"}


def test_an_offering_that_is_not_a_mas_product_is_refused(clock, manager):
    offering = priced_offering(licensed_rate=None)
    order = add_order(manager, offering=offering)
    assert _refusals(order) == {"offering_not_orderable": "产品目录"}


def test_an_offering_whose_prices_ended_is_refused(clock, manager):
    offering = priced_offering()
    offering.prices.filter(component="overage").update(valid_to=clock.now())
    order = add_order(manager, offering=offering)
    assert _refusals(order) == {"tariff_incomplete": "第9条"}


def test_every_refusal_is_reported_at_once(clock, manager):
    enterprise = active_enterprise(manager, province="42", city="武汉市")  # no signature
    order = add_order(
        manager,
        enterprise=enterprise,
        offering=priced_offering(launch=False),
        access_ip="not-an-ip",
        interface_type="",
    )
    assert set(_refusals(order)) == {
        "no_approved_signature",
        "offering_not_launched",
        "province_mismatch",
        "access_ip_invalid",
        "notice_incomplete",
    }
    for item in order.items.all():
        assert item.state == "rejected"


def test_orders_on_another_enterprises_subscription_are_refused(clock, manager, other_manager):
    subscription = active_subscription(other_manager)
    mine = ready_enterprise(manager)
    order = services.order_create(
        by=manager,
        enterprise=mine.pk,
        items=[services.ItemRequest(action="suspend", subscription=subscription.pk)],
        requested_start_at=clock.now(),
    )
    assert _refusals(order) == {"unknown_subscription": "业务实例"}


def test_an_action_that_does_not_fit_the_subscription_state_is_refused(clock, manager):
    subscription = active_subscription(manager)
    order = services.order_create(
        by=manager,
        enterprise=subscription.enterprise_id,
        items=[services.ItemRequest(action="resume", subscription=subscription.pk)],
        requested_start_at=clock.now(),
    )
    assert _refusals(order) == {"subscription_state": "业务实例"}


def test_a_second_open_order_on_the_same_subscription_is_refused(clock, manager):
    from tests.fulfillment.factories import one_month_later

    subscription = active_subscription(manager)
    first = services.order_create(
        by=manager,
        enterprise=subscription.enterprise_id,
        items=[
            services.ItemRequest(action="modify", subscription=subscription.pk, cmpp_version="2.0")
        ],
        requested_start_at=one_month_later(),
    )
    assert first.state == Order.State.ACKNOWLEDGED
    second = services.order_create(
        by=manager,
        enterprise=subscription.enterprise_id,
        items=[services.ItemRequest(action="delete", subscription=subscription.pk)],
        requested_start_at=clock.now(),
    )
    assert _refusals(second) == {"subscription_busy": "业务实例"}
