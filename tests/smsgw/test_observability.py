"""smsgw's operations hooks: metrics from the outbox and link states, the sender's
readiness check, and the retention policies for numbers and texts (PIPL)."""

import datetime as dt

import pytest

from core import health, retention
from core.roles import Role
from smsgw import observability, webhooks
from smsgw.models import (
    LinkState,
    Message,
    MessageState,
    MoMessage,
    SendRequest,
    WebhookDelivery,
)
from smsgw.services import sms_enqueue

from .factories import registered_numbers, sending_subscription

pytestmark = pytest.mark.django_db


def _scrape(client, make_user) -> str:
    client.force_login(make_user(Role.NOC_ENGINEER, username="noc"))
    response = client.get("/metrics")
    assert response.status_code == 200
    return response.content.decode()


def _link(clock, sender, sp_id, link_no, *, connected=True, window_in_use=0, age=0):
    return LinkState.objects.create(
        sender=sender,
        sp_id=sp_id,
        link_no=link_no,
        state="active" if connected else "connecting",
        connected=connected,
        window=16,
        window_in_use=window_in_use,
        current_rate=40.0,
        updated_at=clock.now() - dt.timedelta(seconds=age),
    )


def test_outbox_and_link_metrics(clock, client, make_user, manager):
    sub = sending_subscription(manager, recipients=3)
    sms_enqueue(subscription_id=sub.pk, recipients=registered_numbers(sub), text="通知")
    _link(clock, "s1", "901234", 1, window_in_use=5)
    _link(clock, "s2", "901234", 1, window_in_use=3)
    _link(clock, "s2", "901234", 2, connected=False)
    _link(clock, "dead", "901234", 1, age=600)  # a sender that stopped: ignored

    text = _scrape(client, make_user)
    assert 'mas_smsgw_outbox_messages{state="queued"} 3.0' in text
    assert 'mas_smsgw_outbox_messages{state="submitted"} 0.0' in text
    assert 'mas_smsgw_cmpp_links_up{account="901234"} 2.0' in text
    assert 'mas_smsgw_cmpp_links_configured{account="901234"} 3.0' in text
    assert 'mas_smsgw_window_in_use{account="901234"} 8.0' in text
    assert 'mas_smsgw_submit_rate{account="901234"} 120.0' in text
    assert 'mas_webhook_deliveries{kind="sms_report",state="pending"} 0.0' in text
    assert 'mas_metrics_collector_errors{metric="mas_smsgw_report_latency_seconds"} 0.0' in text
    assert 'mas_metrics_collector_errors{metric="mas_smsgw_submits_total"} 0.0' in text
    assert 'mas_metrics_collector_errors{metric="mas_smsgw_submit_result8_5m"} 0.0' in text


def test_the_sender_is_ready_when_its_links_are_up(clock, monkeypatch):
    monkeypatch.setenv("MAS_SENDER_ID", "send1-1")
    ok, results = health.run_checks("sender")
    assert not ok and "no fresh link state" in results["cmpp_links"]["detail"]
    link = _link(clock, "send1-1", "901234", 1, connected=False)
    ok, results = health.run_checks("sender")
    assert not ok and "0/1" in results["cmpp_links"]["detail"]
    LinkState.objects.filter(pk=link.pk).update(connected=True)
    ok, results = health.run_checks("sender")
    assert ok and results["cmpp_links"]["detail"] == "1/1 links up"


def test_retention_masks_numbers_and_empties_texts_of_finished_work(clock, manager):
    sub = sending_subscription(manager, recipients=2)
    numbers = registered_numbers(sub)
    old = sms_enqueue(subscription_id=sub.pk, recipients=numbers, text="您的验证码是1234")
    clock.advance(days=200)
    recent = sms_enqueue(subscription_id=sub.pk, recipients=numbers, text="近期通知")
    Message.objects.filter(send_request=old).update(state=MessageState.DELIVERED)
    Message.objects.filter(send_request=recent).update(state=MessageState.DELIVERED)
    mo = MoMessage.objects.create(
        enterprise=sub.enterprise,
        msisdn=numbers[0],
        dest_id="106903700001",
        text="退订",
        received_at=clock.now() - dt.timedelta(days=190),
    )

    results = retention.run_all(pause=0)
    assert results["smsgw.message_numbers"] == 2
    assert results["smsgw.request_texts"] == 1
    assert results["smsgw.mo_inbox"] == 1

    old_messages = list(Message.objects.filter(send_request=old))
    assert {m.msisdn for m in old_messages} == {f"{n[:3]}****{n[-4:]}" for n in numbers}
    assert {m.state for m in old_messages} == {MessageState.DELIVERED}  # statistics kept
    old.refresh_from_db()
    assert (old.body, old.content, old.accepted_count) == ("", "", 2)
    recent.refresh_from_db()
    assert "近期通知" in recent.content
    assert set(Message.objects.filter(send_request=recent).values_list("msisdn", flat=True)) == (
        set(numbers)
    )
    mo.refresh_from_db()
    assert (mo.text, mo.msisdn) == ("", f"{numbers[0][:3]}****{numbers[0][-4:]}")
    assert retention.run_all(pause=0)["smsgw.message_numbers"] == 0


def test_messages_in_flight_are_never_touched(clock, manager):
    sub = sending_subscription(manager, recipients=1)
    request = sms_enqueue(subscription_id=sub.pk, recipients=registered_numbers(sub), text="x")
    clock.advance(days=400)
    results = retention.run_all(pause=0)
    assert results["smsgw.message_numbers"] == 0
    assert results["smsgw.request_texts"] == 0
    assert SendRequest.objects.get(pk=request.pk).content
    assert observability.STALE_SECONDS == 60


def test_webhook_failure_metrics(clock, client, make_user, manager):
    sub = sending_subscription(manager, recipients=1)
    endpoint, _secret = webhooks.webhook_configure(
        enterprise_id=sub.enterprise_id, url="http://hooks.example.cn/mas"
    )
    states = WebhookDelivery.State
    for state, attempts in (
        (states.DELIVERED, 3),  # two failed POSTs, then accepted
        (states.FAILED, 2),  # given up after two
        (states.PENDING, 1),  # failed once, waiting for its retry
        (states.PENDING, 0),  # not tried yet
    ):
        WebhookDelivery.objects.create(
            endpoint=endpoint, event="report", payload={}, state=state, attempts=attempts
        )

    text = _scrape(client, make_user)
    assert 'mas_webhook_attempt_failures_total{kind="sms_report"} 5.0' in text
    assert 'mas_webhook_deliveries_retrying{kind="sms_report"} 1.0' in text
    assert 'mas_webhook_deliveries{kind="sms_report",state="failed"} 1.0' in text
    assert 'mas_webhook_deliveries{kind="sms_report",state="pending"} 2.0' in text
