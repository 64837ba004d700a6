"""Contracts: numbering, the yearly term and renewal (第17条), early termination (第18条),
expiry warnings and the printable summary."""

import datetime as dt
import io

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from pypdf import PdfReader

from core.selectors import state_changes_for
from fulfillment import selectors, services
from fulfillment.models import Contract, Order, ServiceCode, Subscription
from fulfillment.pdf import contract_summary_pdf
from fulfillment.services import provisioning
from fulfillment.services.contracts import non_renewal_deadline, term_end
from tests.fulfillment.factories import (
    active_subscription,
    add_order,
    inventory,
    one_month_later,
)

pytestmark = pytest.mark.django_db


def _at(clock, day: dt.date, hour: int = 9):
    clock.freeze(dt.datetime(day.year, day.month, day.day, hour, tzinfo=dt.UTC))


def test_contracts_are_numbered_in_sequence(clock, manager):
    inventory(codes=3, ports=3)
    numbers = [active_subscription(manager).contract.number for _ in range(3)]
    assert numbers == [
        "HA.ZZ.JT.DXMAS.000001",
        "HA.ZZ.JT.DXMAS.000002",
        "HA.ZZ.JT.DXMAS.000003",
    ]


def test_an_activation_that_fails_after_numbering_leaves_no_gap(clock, manager, monkeypatch):
    inventory(codes=2, ports=2)
    real = provisioning.HANDLERS["activate"]

    def activate_then_fail(item, order):
        real(item, order)  # the contract got its number...
        raise services.ProvisioningError("计费系统拒绝开户")  # ...and everything rolls back

    monkeypatch.setitem(provisioning.HANDLERS, "activate", activate_then_fail)
    failed = add_order(manager)
    failed.refresh_from_db()
    assert failed.state == Order.State.FAILED
    assert not Contract.objects.exists()

    monkeypatch.setitem(provisioning.HANDLERS, "activate", real)
    assert active_subscription(manager).contract.number == "HA.ZZ.JT.DXMAS.000001"


def test_a_term_is_one_year_from_activation():
    assert term_end(dt.date(2026, 11, 25)) == dt.date(2027, 11, 24)
    assert term_end(dt.date(2027, 3, 1)) == dt.date(2028, 2, 29)
    assert term_end(dt.date(2028, 2, 29)) == dt.date(2029, 2, 28)
    assert non_renewal_deadline(dt.date(2027, 11, 24)) == dt.date(2027, 10, 24)


def test_a_contract_renews_itself_each_year(clock, manager):
    contract = active_subscription(manager).contract
    _at(clock, dt.date(2027, 11, 24))
    assert services.contracts_daily_run()["renewed"] == 0

    _at(clock, dt.date(2027, 11, 25))
    assert services.contracts_daily_run()["renewed"] == 1

    contract.refresh_from_db()
    assert contract.state == Contract.State.ACTIVE
    assert (contract.term_start, contract.expires_on, contract.renewals) == (
        dt.date(2027, 11, 25),
        dt.date(2028, 11, 24),
        1,
    )
    assert "自动续约" in state_changes_for(contract).last().reason
    assert services.contracts_daily_run()["renewed"] == 0  # running twice changes nothing


def test_a_late_daily_run_renews_as_many_years_as_were_missed(clock, manager):
    contract = active_subscription(manager).contract
    _at(clock, dt.date(2029, 12, 1))
    services.contracts_daily_run()
    contract.refresh_from_db()
    assert (contract.expires_on, contract.renewals) == (dt.date(2030, 11, 24), 3)


def test_a_non_renewal_notice_in_time_ends_the_contract_and_the_service_at_expiry(clock, manager):
    subscription = active_subscription(manager)
    contract = subscription.contract
    _at(clock, dt.date(2027, 10, 24))
    services.contract_record_non_renewal(
        contract_id=contract.pk, by=manager, party=Contract.Party.ENTERPRISE, note="业务调整"
    )
    _at(clock, dt.date(2027, 11, 25))

    assert services.contracts_daily_run()["expired"] == 1

    contract.refresh_from_db()
    subscription.refresh_from_db()
    assert (contract.state, contract.ended_on) == (Contract.State.EXPIRED, dt.date(2027, 11, 24))
    assert subscription.state == Subscription.State.TERMINATED
    assert subscription.service_code.state == ServiceCode.State.QUARANTINED
    assert "第17条" in subscription.termination_reason


def test_a_non_renewal_notice_later_than_a_month_before_expiry_is_refused(clock, manager):
    contract = active_subscription(manager).contract
    _at(clock, dt.date(2027, 10, 25))
    with pytest.raises(ValidationError) as refused:
        services.contract_record_non_renewal(
            contract_id=contract.pk, by=manager, party=Contract.Party.OPERATOR
        )
    assert "第17条" in refused.value.messages[0]
    _at(clock, dt.date(2027, 11, 25))
    assert services.contracts_daily_run()["renewed"] == 1


def test_a_withdrawn_notice_lets_the_contract_renew(clock, manager):
    contract = active_subscription(manager).contract
    services.contract_record_non_renewal(
        contract_id=contract.pk, by=manager, party=Contract.Party.ENTERPRISE
    )
    services.contract_withdraw_non_renewal(contract_id=contract.pk, by=manager, reason="客户续用")
    _at(clock, dt.date(2027, 11, 26))
    assert services.contracts_daily_run() == {"renewed": 1, "expired": 0, "warned": 0}


def test_managers_are_warned_45_days_before_expiry_once_per_term(clock, manager, run_tasks):
    subscription = active_subscription(manager)
    contract = subscription.contract

    def daily():
        with run_tasks():
            return services.contracts_daily_run()["warned"]

    _at(clock, dt.date(2027, 10, 9))  # 46 days before 2027-11-24
    assert daily() == 0
    assert selectors.manager_worklist(manager)["expiring"].count() == 0

    _at(clock, dt.date(2027, 10, 10))
    assert daily() == 1
    assert daily() == 0

    (message,) = mail.outbox
    assert message.to == [manager.email]
    assert contract.number in message.subject
    assert "2027-11-24" in message.body and "自动续约" in message.body
    assert list(selectors.manager_worklist(manager)["expiring"]) == [contract]

    _at(clock, dt.date(2027, 11, 25))
    daily()  # renewed: the warning is for the old term, the worklist is clear
    assert selectors.manager_worklist(manager)["expiring"].count() == 0
    _at(clock, dt.date(2028, 10, 10))
    assert daily() == 1
    assert len(mail.outbox) == 2


def test_early_termination_needs_a_ground_of_article_18(clock, manager):
    subscription = active_subscription(manager)
    contract = subscription.contract
    with pytest.raises(ValidationError):
        services.contract_terminate_early(
            contract_id=contract.pk, by=manager, reason="bored", detail="—"
        )
    services.contract_terminate_early(
        contract_id=contract.pk,
        by=manager,
        reason=Contract.TerminationReason.FORCE_MAJEURE,
        detail="机房水灾，15日内已书面通知（第15条）",
    )
    contract.refresh_from_db()
    subscription.refresh_from_db()
    assert contract.state == Contract.State.TERMINATED
    assert contract.termination_reason == "force_majeure"
    assert subscription.state == Subscription.State.TERMINATED
    with pytest.raises(ValidationError):
        services.contract_terminate_early(
            contract_id=contract.pk, by=manager, reason="mutual_agreement", detail="再次"
        )


def test_the_contract_summary_pdf_carries_the_order_fields(clock, manager):
    subscription = active_subscription(
        manager, access_ip="10.66.1.2", contact_name="李工", interface_type="http"
    )
    services.order_create(
        by=manager,
        enterprise=subscription.enterprise_id,
        items=[
            services.ItemRequest(action="modify", subscription=subscription.pk, cmpp_version="2.0")
        ],
        requested_start_at=one_month_later(),
    )
    clock.freeze(one_month_later(days=2))
    from tests.fulfillment.factories import committing

    with committing():
        services.orders_start_due()
    subscription.refresh_from_db()
    contract = subscription.contract

    text = "".join(
        page.extract_text() for page in PdfReader(io.BytesIO(contract_summary_pdf(contract))).pages
    )

    for expected in (
        "集团短信 MAS 业务协议摘要",
        contract.number,
        subscription.enterprise.name,
        subscription.enterprise.credit_code,
        subscription.service_code.code,
        subscription.account.sp_id,
        "10.66.1.2",
        "HTTP 接口",
        "李工",
        "CMPP 2.0",
        "¥100.00",
        "中国移动通信集团河南有限公司郑州分公司",
        "2026-11-25 至 2027-11-24",
        "第17条",
        f"{contract.number}-BC01",
    ):
        assert expected in text, expected
    assert subscription.account.secret_encrypted not in text
