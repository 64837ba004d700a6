"""The trace id follows a message from `sms_enqueue` through the sender to its status
report and its webhook, and the log lines on the way show numbers masked."""

import json
import logging
import re

import pytest

from core import tracing
from core.logging import ContextFilter, JsonFormatter, PiiMaskingFilter
from core.roles import Role
from smsgw import outbox, webhooks
from smsgw.models import LinkState, Message, SendRequest, WebhookDelivery
from smsgw.services import sms_enqueue, sms_enqueue_campaign

from .factories import registered_numbers, sending_subscription
from .test_webhooks_churn import Receiver


@pytest.fixture
def traced_caplog(caplog):
    """caplog whose records carry the trace id in force when they were logged (the
    production handler's ContextFilter, run by the capturing handler)."""
    caplog.handler.addFilter(ContextFilter())
    caplog.set_level(logging.DEBUG, logger="smsgw")
    yield caplog
    caplog.handler.filters.clear()


@pytest.mark.django_db
def test_enqueue_stores_the_calls_trace_id_api_and_campaign(clock, manager):
    sub = sending_subscription(manager, recipients=2)
    numbers = registered_numbers(sub)
    with tracing.trace("api-call-00000001"):
        single = sms_enqueue(subscription_id=sub.pk, recipients=numbers[:1], text="通知")
    with tracing.trace("campaign-00000002"):
        campaign = sms_enqueue_campaign(subscription_id=sub.pk, text="群发", recipients=numbers)
    untraced = sms_enqueue(subscription_id=sub.pk, recipients=numbers[:1], text="后台")

    assert SendRequest.objects.get(pk=single.pk).trace_id == "api-call-00000001"
    assert SendRequest.objects.get(pk=campaign.pk).trace_id == "campaign-00000002"
    # a shell or a command has no trace: the messages still get an id of their own
    assert re.fullmatch(r"[0-9a-f]{32}", SendRequest.objects.get(pk=untraced.pk).trace_id)

    items = outbox.outbox_claim(sender="a", sp_ids=[sub.account.sp_id], limit=10)
    by_message = dict(Message.objects.values_list("id", "send_request__trace_id"))
    assert len(items) == 4
    assert {i.trace_id for i in items} == {
        "api-call-00000001",
        "campaign-00000002",
        untraced.trace_id,
    }
    assert all(i.trace_id == by_message[i.message_id] for i in items)


@pytest.mark.django_db(transaction=True)
def test_submit_report_and_webhook_log_under_the_messages_trace_id(
    clock, manager, sender_run, traced_caplog, client, make_user
):
    sub = sending_subscription(manager, recipients=3)
    numbers = registered_numbers(sub)
    receiver = Receiver(failures=1)
    webhooks.webhook_configure(enterprise_id=sub.enterprise_id, url=receiver.url)
    with tracing.trace("api-call-aaaa0001"):
        first = sms_enqueue(subscription_id=sub.pk, recipients=numbers[:2], text="通知一")
    with tracing.trace("api-call-bbbb0002"):
        second = sms_enqueue(subscription_id=sub.pk, recipients=numbers[2:], text="通知二")
    expected = {m.pk: r.trace_id for r in (first, second) for m in r.messages.all()}

    try:
        # The simulated ISMG takes one SUBMIT a hundred seconds: the first is accepted
        # (and its report says UNDELIV), the other two get Result 8, not retried here.
        stats, sim = sender_run(
            sim_options={"rate": 0.01, "dlr_fail_ratio": 1.0},
            sender_options={
                "sender_id": "trace-test",
                "session_options": {"flow_control_retries": 0},
            },
        )
    finally:
        receiver.close()

    assert (stats.submitted, stats.rejected, sim.counters.flow_controlled) == (1, 2, 2)
    records = traced_caplog.records

    def traced(logger_name, needle):
        found = [r for r in records if r.name == logger_name and needle in r.getMessage()]
        assert found, f"no {logger_name} record with {needle!r}"
        for record in found:
            message_id = int(re.search(r"message (\d+)", record.getMessage()).group(1))
            assert record.trace_id == expected[message_id], record.getMessage()
        return found

    refused = traced("smsgw.sender", "refused: Result 8")
    reports = traced("smsgw.outbox", "report UNDELIV")
    failed_posts = traced("smsgw.webhooks", "failed: HTTP 500")
    delivered_posts = traced("smsgw.webhooks", "delivered: HTTP 200")
    assert len(refused) == 2 and len(reports) == 1
    assert len(failed_posts) == 1 and len(delivered_posts) == 3
    assert {r.trace_id for r in refused + reports} == {"api-call-aaaa0001", "api-call-bbbb0002"}

    # the receiver got the same id with each report, outside the signed body
    assert len(receiver.requests) == 4
    for headers, body in receiver.requests:
        assert headers["X-Trace-Id"] == expected[json.loads(body)["messageId"]]
    assert set(WebhookDelivery.objects.values_list("trace_id", flat=True)) == {
        "api-call-aaaa0001",
        "api-call-bbbb0002",
    }

    # numbers: masked in what the code logs, and in the JSON lines the handler writes
    for number in numbers:
        assert number not in traced_caplog.text
    masked = {f"{n[:3]}****{n[-4:]}" for n in numbers}
    assert {re.search(r"to (\d{3}\*{4}\d{4})", r.getMessage()).group(1) for r in refused} < masked
    for record in refused + reports + failed_posts:
        PiiMaskingFilter().filter(record)
        line = json.loads(JsonFormatter().format(record))
        assert line["trace_id"] == record.trace_id
        assert not any(n in json.dumps(line, ensure_ascii=False) for n in numbers)

    # every Result 8 answer is counted per account and sender, retried or not
    assert (
        sum(LinkState.objects.filter(sender="trace-test").values_list("flow_controlled", flat=True))
        == 2
    )
    client.force_login(make_user(Role.NOC_ENGINEER, username="noc"))
    text = client.get("/metrics").content.decode()
    sp_id = sub.account.sp_id
    assert f'mas_smsgw_submit_result8_total{{account="{sp_id}",sender="trace-test"}} 2.0' in text
    assert f'mas_smsgw_submit_result8_5m{{account="{sp_id}"}} 2.0' in text
    assert 'mas_webhook_attempt_failures_total{kind="sms_report"} 1.0' in text
    assert 'mas_webhook_deliveries{kind="sms_report",state="delivered"} 3.0' in text
