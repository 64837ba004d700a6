"""Maintenance notices (第16条): at least 24 hours ahead unless an emergency with its
reason, to the enterprises the inventory says are affected, by SMS through smsgw and by
e-mail with delivery recorded, and a follow-up when service is restored."""

import asyncio
import datetime as dt

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core import mail
from django.core.exceptions import ValidationError

from assurance import services
from assurance.models import MaintenanceWindow, Notification
from assurance.services.notify import notification_delivery_refresh
from core import crypto
from core.models import StateChange
from smsgw.models import OperatorAccount
from tests.assurance.factories import active_subscription, noc_user
from tests.customers.factories import ContactFactory
from tests.fulfillment.factories import committing
from tests.smsgw.factories import operator_account

pytestmark = pytest.mark.django_db
H = dt.timedelta(hours=1)


@pytest.fixture
def noc(make_user):
    return noc_user(make_user)


@pytest.fixture
def affected(clock, manager):
    """Two subscriptions on one MAS server (affected) and one elsewhere (not)."""
    first = active_subscription(manager)
    second = active_subscription(manager)
    for subscription in (first, second):
        ContactFactory(enterprise=subscription.enterprise, email="ops@example.cn")
    return first, second


def window_on(port_ids, clock, noc, *, hours_ahead=48, **kwargs):
    return services.maintenance_create(
        by=noc,
        title="MAS 端口割接",
        kind="cutover",
        starts_at=clock.now() + hours_ahead * H,
        ends_at=clock.now() + (hours_ahead + 2) * H,
        port_ids=port_ids,
        **kwargs,
    )


def test_announcing_sends_sms_and_email_to_the_affected_enterprises_only(clock, affected, noc):
    first, _second = affected
    operator_account()
    window = window_on([first.port_id], clock, noc)
    with committing():
        services.maintenance_announce(window_id=window.pk, by=noc)
    window.refresh_from_db()
    assert window.state == MaintenanceWindow.State.ANNOUNCED
    assert list(window.affected_enterprises.all()) == [first.enterprise]
    sms = Notification.objects.get(maintenance=window, channel="sms")
    assert sms.enterprise == first.enterprise and sms.status == "queued" and sms.batch_id
    assert "*" in sms.recipient  # masked
    emails = Notification.objects.filter(maintenance=window, channel="email")
    assert {n.enterprise for n in emails} == {first.enterprise}
    assert all(n.status == "sent" for n in emails)
    assert any("MAS 端口割接" in m.subject for m in mail.outbox)


def test_less_than_24_hours_notice_is_refused_unless_an_emergency_with_reason(clock, affected, noc):
    first, _ = affected
    window = window_on([first.port_id], clock, noc, hours_ahead=23)
    with pytest.raises(ValidationError, match="第16条"):
        services.maintenance_announce(window_id=window.pk, by=noc)
    window.refresh_from_db()
    assert window.state == "draft" and not Notification.objects.exists()
    urgent = window_on([first.port_id], clock, noc, hours_ahead=2, emergency=True)
    with pytest.raises(ValidationError, match="原因"):
        services.maintenance_announce(window_id=urgent.pk, by=noc)
    urgent.emergency_reason = "光缆被挖断，需紧急抢修"
    urgent.save()
    with committing():
        services.maintenance_announce(window_id=urgent.pk, by=noc)
    change = StateChange.objects.get(
        content_type=ContentType.objects.get_for_model(MaintenanceWindow),
        object_id=urgent.pk,
        to_state="announced",
    )
    assert "光缆被挖断" in change.reason
    report = services_report(clock)
    assert [w.pk for w in report.emergencies] == [urgent.pk]


def services_report(clock):
    from assurance.selectors import sla_report

    today = clock.today()
    return sla_report(today.year, today.month)


def test_restoration_sends_a_follow_up(clock, affected, noc):
    first, _ = affected
    operator_account()
    window = window_on([first.port_id], clock, noc)
    with committing():
        services.maintenance_announce(window_id=window.pk, by=noc)
    clock.advance(hours=50)
    with committing():
        services.maintenance_complete(window_id=window.pk, by=noc, note="割接完成")
    topics = set(Notification.objects.filter(maintenance=window).values_list("topic", flat=True))
    assert topics == {"maintenance_notice", "maintenance_restored"}


def test_without_an_operator_account_the_sms_failure_is_recorded(clock, affected, noc):
    first, _ = affected
    window = window_on([first.port_id], clock, noc)
    with committing():
        services.maintenance_announce(window_id=window.pk, by=noc)
    sms = Notification.objects.get(maintenance=window, channel="sms")
    assert sms.status == "failed" and "运营商服务账号" in sms.detail


@pytest.mark.django_db(transaction=True)
def test_notices_reach_the_enterprise_by_sms_through_the_simulator(clock, affected, noc):
    from smsgw.cmpp.simulator import Account, Simulator, SimulatorConfig
    from smsgw.sender import Sender

    first, _ = affected
    account = operator_account()
    window = window_on([first.port_id], clock, noc)
    with committing():
        services.maintenance_announce(window_id=window.pk, by=noc)
    sms = Notification.objects.get(maintenance=window, channel="sms")
    clock.unfreeze()

    async def main():
        accounts = (Account(account.sp_id, crypto.decrypt(account.secret_encrypted)),)
        async with Simulator(SimulatorConfig(accounts=accounts, dlr_delay=0.05)) as sim:
            await asyncio.to_thread(
                lambda: OperatorAccount.objects.update(ismg_host="127.0.0.1", ismg_port=sim.port)
            )
            sender = Sender(until_idle=True, idle_grace=0.3, poll_interval=0.05)
            async with asyncio.timeout(30):
                await sender.run()

    asyncio.run(main())
    assert notification_delivery_refresh() == 1
    sms.refresh_from_db()
    assert sms.status == "delivered", sms.detail
