"""Changes (第11条), suspension, resumption and termination, by order and by service."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django_fsm import TransitionNotAllowed

from fulfillment import services
from fulfillment.models import (
    CmppAccount,
    Contract,
    MasPort,
    Order,
    ServiceCode,
    Subscription,
    SupplementaryAgreement,
)
from fulfillment.signals import subscription_state_changed
from tests.fulfillment.factories import (
    active_subscription,
    committing,
    one_month_later,
    order_for,
)
from tests.product_lifecycle.factories import priced_offering

pytestmark = pytest.mark.django_db


def _modify(manager, subscription, *, start, override="", submit=True, **changes):
    with committing():
        return services.order_create(
            by=manager,
            enterprise=subscription.enterprise_id,
            items=[services.ItemRequest(action="modify", subscription=subscription.pk, **changes)],
            requested_start_at=start,
            notice_override_reason=override,
            submit=submit,
        )


def test_a_change_with_less_than_a_months_notice_is_rejected(clock, manager):
    subscription = active_subscription(manager)
    order = _modify(
        manager, subscription, start=clock.now() + dt.timedelta(days=20), cmpp_version="2.0"
    )
    order.refresh_from_db()
    assert order.state == Order.State.REJECTED
    (reason,) = order.rejection_reasons
    assert (reason["rule"], reason["code"]) == ("第11条", "notice_period_too_short")
    assert "2026-12-25" in reason["message"]


def test_a_change_a_month_ahead_waits_then_takes_effect_with_a_supplementary_agreement(
    clock, manager
):
    subscription = active_subscription(manager, offering=priced_offering(port="100.00"))
    upgrade = priced_offering(port="300.00", licensed_rate=200, max_links=4)
    effective = one_month_later()

    order = _modify(
        manager,
        subscription,
        start=effective,
        offering=upgrade.pk,
        cmpp_version="2.0",
        access_ip="10.99.0.1",
    )
    order.refresh_from_db()
    assert order.state == Order.State.ACKNOWLEDGED
    assert Subscription.objects.get(pk=subscription.pk).licensed_rate == 50

    clock.freeze(effective)
    with committing():
        services.orders_start_due()

    order.refresh_from_db()
    assert order.state == Order.State.COMPLETED
    subscription.refresh_from_db()
    assert subscription.offering == upgrade
    assert (subscription.licensed_rate, subscription.max_links) == (200, 4)
    assert (subscription.cmpp_version, subscription.access_ip) == ("2.0", "10.99.0.1")
    assert subscription.port_fee == Decimal("300.00")
    account = CmppAccount.objects.get(subscription=subscription)
    assert (account.licensed_rate, account.max_links, account.cmpp_version, account.access_ip) == (
        200,
        4,
        "2.0",
        "10.99.0.1",
    )
    supplement = SupplementaryAgreement.objects.get()
    assert supplement.contract == subscription.contract
    assert supplement.number == f"{subscription.contract.number}-BC01"
    assert supplement.order == order
    assert supplement.effective_on == dt.date(2026, 12, 26)
    fields = {change["field"] for change in supplement.changes}
    assert fields == {"offering", "cmpp_version", "access_ip", "licensed_rate", "max_links"}
    assert "许可速率：50 → 200" in supplement.summary


def test_a_department_head_can_override_the_notice_period_with_a_reason(clock, manager, head):
    subscription = active_subscription(manager)
    draft = _modify(manager, subscription, start=clock.now(), cmpp_version="2.0", submit=False)
    with pytest.raises(PermissionDenied):
        services.order_override_notice_period(order_id=draft.pk, by=manager, reason="客户急需")
    with pytest.raises(ValidationError):
        services.order_override_notice_period(order_id=draft.pk, by=head, reason=" ")
    services.order_override_notice_period(order_id=draft.pk, by=head, reason="系统故障急需切换版本")

    with committing():
        order = services.order_submit(order_id=draft.pk, by=manager)

    order.refresh_from_db()
    assert order.state == Order.State.COMPLETED
    assert Subscription.objects.get(pk=subscription.pk).cmpp_version == "2.0"
    supplement = SupplementaryAgreement.objects.get()
    assert supplement.notice_override_by == head
    assert "系统故障急需切换版本" in supplement.summary


def test_a_manager_cannot_give_an_override_when_creating(clock, manager, head):
    subscription = active_subscription(manager)
    with pytest.raises(PermissionDenied):
        _modify(manager, subscription, start=clock.now(), cmpp_version="2.0", override="急")
    order = _modify(head, subscription, start=clock.now(), cmpp_version="2.0", override="部门特批")
    order.refresh_from_db()
    assert order.state == Order.State.COMPLETED
    assert order.notice_override_by == head


def test_a_change_that_changes_nothing_is_rejected(clock, manager):
    subscription = active_subscription(manager)
    order = _modify(manager, subscription, start=one_month_later(), cmpp_version="3.0")
    order.refresh_from_db()
    assert {r["code"] for r in order.rejection_reasons} == {"nothing_to_change"}


def test_a_change_to_an_ip_in_use_is_rejected(clock, manager):
    active_subscription(manager, access_ip="10.3.3.3")
    subscription = active_subscription(manager)
    order = _modify(manager, subscription, start=one_month_later(), access_ip="10.3.3.3")
    order.refresh_from_db()
    assert {r["rule"] for r in order.rejection_reasons} == {"第5条第6款"}


def test_a_suspend_order_blocks_sending_and_a_resume_order_lifts_it(clock, manager):
    subscription = active_subscription(manager)

    order = order_for(manager, subscription, "suspend")
    order.refresh_from_db()
    assert order.state == Order.State.COMPLETED
    subscription.refresh_from_db()
    assert subscription.state == Subscription.State.SUSPENDED
    assert subscription.account.state == CmppAccount.State.SUSPENDED
    assert subscription.service_code.state == ServiceCode.State.ASSIGNED  # kept while suspended

    order = order_for(manager, subscription, "resume")
    order.refresh_from_db()
    assert order.state == Order.State.COMPLETED
    subscription.refresh_from_db()
    assert subscription.state == Subscription.State.ACTIVE
    assert subscription.account.state == CmppAccount.State.ACTIVE


def test_a_delete_order_terminates_quarantines_the_code_and_frees_the_port(clock, manager):
    subscription = active_subscription(manager)

    order = order_for(manager, subscription, "delete")

    order.refresh_from_db()
    assert order.state == Order.State.COMPLETED
    subscription.refresh_from_db()
    assert subscription.state == Subscription.State.TERMINATED
    assert subscription.account.state == CmppAccount.State.REVOKED
    code = subscription.service_code
    assert code.state == ServiceCode.State.QUARANTINED
    assert code.quarantined_until == clock.now() + dt.timedelta(days=90)
    assert subscription.port.state == MasPort.State.AVAILABLE
    contract = subscription.contract
    assert contract.state == Contract.State.TERMINATED
    assert contract.termination_reason == Contract.TerminationReason.MUTUAL_AGREEMENT
    assert contract.ended_on == dt.date(2026, 11, 25)


def test_billing_suspends_and_resumes_through_the_services(clock, manager, make_user):
    subscription = active_subscription(manager)
    seen = []
    subscription_state_changed.connect(
        lambda sender, subscription, before, by, **kw: seen.append((before, subscription.state)),
        weak=False,
        dispatch_uid="test-billing",
    )
    try:
        services.subscription_suspend(
            subscription_id=subscription.pk, by=None, reason="欠费停机（第14条）"
        )
        with pytest.raises(TransitionNotAllowed):
            services.subscription_suspend(subscription_id=subscription.pk, by=None, reason="再次")
        services.subscription_resume(subscription_id=subscription.pk, by=None, reason="已缴清")
    finally:
        subscription_state_changed.disconnect(dispatch_uid="test-billing")
    assert seen == [("active", "suspended"), ("suspended", "active")]


def test_a_suspend_order_on_a_subscription_billing_already_suspended_succeeds(clock, manager):
    subscription = active_subscription(manager)
    order = services.order_create(
        by=manager,
        enterprise=subscription.enterprise_id,
        items=[services.ItemRequest(action="suspend", subscription=subscription.pk)],
        requested_start_at=clock.now() + dt.timedelta(hours=1),
    )
    services.subscription_suspend(subscription_id=subscription.pk, by=None, reason="欠费")
    clock.advance(hours=1)
    with committing():
        services.orders_start_due()
    order.refresh_from_db()
    assert order.state == Order.State.COMPLETED
    step = order.items.get().steps.get()
    assert step.detail == "业务已处于暂停状态"


def test_termination_needs_a_reason_of_article_18(clock, manager):
    subscription = active_subscription(manager)
    with pytest.raises(ValidationError):
        services.subscription_terminate(
            subscription_id=subscription.pk, by=manager, reason="不想用了", contract_reason="whim"
        )
    services.subscription_terminate(
        subscription_id=subscription.pk,
        by=None,
        reason="欠费逾期30日（第14条）",
        contract_reason=Contract.TerminationReason.BREACH,
    )
    contract = Contract.objects.get(subscription=subscription)
    assert contract.termination_reason == "breach"
    with pytest.raises(TransitionNotAllowed):
        services.subscription_terminate(subscription_id=subscription.pk, by=None, reason="再次")


def test_a_quarantined_code_returns_to_the_pool_when_its_quarantine_ends(clock, manager):
    subscription = active_subscription(manager)
    services.subscription_terminate(subscription_id=subscription.pk, by=manager, reason="拆机")
    code = ServiceCode.objects.get(pk=subscription.service_code_id)

    clock.advance(days=89)
    assert services.quarantine_release_due() == 0
    clock.advance(days=1)
    assert services.quarantine_release_due() == 1

    code.refresh_from_db()
    assert code.state == ServiceCode.State.AVAILABLE
    again = active_subscription(manager)
    assert again.service_code == code  # reused after quarantine, never while live
