"""The CMPP shared secret (encrypted, shown once) and what other apps read."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from core import crypto
from core.roles import Role
from core.selectors import state_changes_for
from fulfillment import selectors, services
from fulfillment.models import CmppAccount
from tests.fulfillment.factories import (
    active_subscription,
    code_block,
    inventory,
    mas_server,
    ready_enterprise,
)

pytestmark = pytest.mark.django_db


def test_the_secret_is_stored_encrypted_and_the_sender_reads_it_in_clear(clock, manager):
    subscription = active_subscription(manager)
    account = subscription.account
    (config,) = selectors.cmpp_accounts_for_sender()
    assert len(config.shared_secret) == 16
    assert config.shared_secret not in account.secret_encrypted
    assert crypto.decrypt(account.secret_encrypted) == config.shared_secret
    assert config.shared_secret not in repr(config)
    assert (config.sp_id, config.service_code, config.cmpp_version) == (
        account.sp_id,
        subscription.service_code.code,
        "3.0",
    )
    assert (config.ismg_host, config.ismg_port, config.window_size) == ("127.0.0.1", 7890, 16)


def test_the_secret_is_shown_exactly_once_and_who_saw_it_is_recorded(clock, manager):
    account = active_subscription(manager).account
    secret = services.cmpp_account_reveal_secret(account_id=account.pk, by=manager)
    assert (
        secret
        == selectors.cmpp_account_config(subscription_id=account.subscription_id).shared_secret
    )
    with pytest.raises(ValidationError) as refused:
        services.cmpp_account_reveal_secret(account_id=account.pk, by=manager)
    assert "不能再次显示" in refused.value.messages[0]
    account.refresh_from_db()
    assert (account.secret_revealed_by, account.secret_revealed_at) == (manager, clock.now())
    change = state_changes_for(account).filter(field="secret_status").get()
    assert (change.from_state, change.to_state, change.by) == ("hidden", "revealed", manager)


def test_staff_without_the_permission_cannot_see_a_secret(clock, manager, make_user):
    account = active_subscription(manager).account
    noc = make_user(Role.NOC_ENGINEER, username="noc")
    with pytest.raises(PermissionDenied):
        services.cmpp_account_reveal_secret(account_id=account.pk, by=noc)


def test_a_reset_secret_replaces_the_old_one_and_can_be_shown_once_more(clock, manager):
    account = active_subscription(manager).account
    old = services.cmpp_account_reveal_secret(account_id=account.pk, by=manager)
    services.cmpp_account_reset_secret(account_id=account.pk, by=manager, reason="客户遗失")
    new = services.cmpp_account_reveal_secret(account_id=account.pk, by=manager)
    assert new != old
    assert crypto.decrypt(CmppAccount.objects.get(pk=account.pk).secret_encrypted) == new


def test_the_sender_gets_suspended_accounts_only_when_asked(clock, manager):
    inventory(codes=2, ports=2)
    kept = active_subscription(manager)
    paused = active_subscription(manager)
    services.subscription_suspend(subscription_id=paused.pk, by=None, reason="欠费")
    assert [c.subscription_id for c in selectors.cmpp_accounts_for_sender()] == [kept.pk]
    assert {
        c.subscription_id for c in selectors.cmpp_accounts_for_sender(include_suspended=True)
    } == {
        kept.pk,
        paused.pk,
    }


def test_replies_are_routed_by_the_longest_matching_service_code(clock, manager):
    code_block(first="10690371000", size=1)
    code_block(first="106903710001", size=1)
    mas_server(ports=2)
    short = active_subscription(manager)
    long = active_subscription(manager)
    assert short.service_code.code == "10690371000"
    assert selectors.subscription_for_destination("1069037100012345") == long
    assert selectors.subscription_for_destination("106903710009") == short
    assert selectors.subscription_for_destination("10690999") is None


def test_subscriptions_of_an_enterprise_and_in_a_period(clock, manager):
    inventory(codes=3, ports=3)
    enterprise = ready_enterprise(manager)
    first = active_subscription(manager, enterprise=enterprise)
    clock.advance(days=40)
    second = active_subscription(manager, enterprise=enterprise)
    services.subscription_terminate(subscription_id=first.pk, by=None, reason="拆机")
    assert list(selectors.subscriptions_of_enterprise(enterprise.pk)) == [second, first]
    assert list(selectors.subscriptions_of_enterprise(enterprise.pk, states=["active"])) == [second]
    november = selectors.subscriptions_active_in_period(dt.date(2026, 11, 1), dt.date(2026, 11, 30))
    assert set(november) == {first}
    january = selectors.subscriptions_active_in_period(dt.date(2027, 1, 1), dt.date(2027, 1, 31))
    assert set(january) == {first, second}  # first ended on 2027-01-04
    february = selectors.subscriptions_active_in_period(dt.date(2027, 2, 1), dt.date(2027, 2, 28))
    assert set(february) == {second}


def test_the_enterprises_a_resource_touches(clock, manager):
    inventory(codes=3, ports=1)
    luoyang = mas_server(ports=1, location="洛阳市")
    a = active_subscription(manager)
    b = active_subscription(manager, enterprise=ready_enterprise(manager, city="洛阳市"))
    assert b.port.server == luoyang
    assert list(selectors.enterprises_affected_by(service_code_ids=[a.service_code_id])) == [
        a.enterprise
    ]
    assert list(selectors.enterprises_affected_by(mas_server_ids=[luoyang.pk])) == [b.enterprise]
    assert list(selectors.enterprises_affected_by(port_ids=[a.port_id])) == [a.enterprise]
    both = selectors.enterprises_affected_by(ismg_links=[("127.0.0.1", 7890)])
    assert set(both) == {a.enterprise, b.enterprise}
    assert not selectors.enterprises_affected_by(ismg_links=[("10.0.0.1", 7890)]).exists()
    assert not selectors.enterprises_affected_by().exists()
    services.subscription_terminate(subscription_id=a.pk, by=None, reason="拆机")
    assert not selectors.enterprises_affected_by(service_code_ids=[a.service_code_id]).exists()


def test_the_sold_tariff_is_what_billing_reads(clock, manager):
    subscription = active_subscription(manager)
    tariff = selectors.subscription_tariff(subscription)
    assert tariff.monthly_total == subscription.port_fee + subscription.package_fee
