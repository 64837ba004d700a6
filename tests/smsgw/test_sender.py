"""The sender end to end against the bundled simulator: submit, reports, usage, MO routing."""

import asyncio
import datetime as dt
import re

import pytest
from django.db import OperationalError

from core.roles import Role
from customers.models import RegisteredRecipient
from smsgw import outbox
from smsgw.models import DailyUsage, Extension, Message, MessageState, MoMessage, Segment
from smsgw.outbox import local_day
from smsgw.sender import Sender
from smsgw.services import sms_enqueue

from .factories import registered_numbers, sending_subscription

pytestmark = pytest.mark.django_db(transaction=True)


def test_messages_travel_over_cmpp_and_reports_come_back(clock, manager, sender_run):
    sub = sending_subscription(manager, recipients=3)
    request = sms_enqueue(
        subscription_id=sub.pk, recipients=registered_numbers(sub), text="长" * 100
    )
    assert request.segments_per_message == 2

    stats, sim = sender_run()

    assert stats.submitted == 6 and stats.reports == 6
    assert set(request.messages.values_list("state", flat=True)) == {MessageState.DELIVERED}
    segments = Segment.objects.filter(message__send_request=request)
    assert segments.count() == 6
    assert all(s.msg_id and s.report_stat == "DELIVRD" and s.submit_result == 0 for s in segments)
    assert len({s.msg_id for s in segments}) == 6
    usage = DailyUsage.objects.get(subscription=sub, day=local_day(clock.now()))
    assert (usage.submitted_segments, usage.delivered_segments, usage.failed_segments) == (6, 6, 0)
    assert sim.counters.submits == 6


def test_undelivered_reports_fail_the_message_and_count_as_failed(clock, manager, sender_run):
    sub = sending_subscription(manager, recipients=2)
    request = sms_enqueue(subscription_id=sub.pk, recipients=registered_numbers(sub), text="通知")

    sender_run(sim_options={"dlr_fail_ratio": 1.0})

    messages = list(request.messages.all())
    assert {m.state for m in messages} == {MessageState.FAILED}
    assert all("UNDELIV" in m.error for m in messages)
    usage = DailyUsage.objects.get(subscription=sub)
    assert (usage.submitted_segments, usage.delivered_segments, usage.failed_segments) == (2, 0, 2)


def test_a_refused_submit_fails_the_message_without_usage(clock, manager, sender_run):
    sub = sending_subscription(manager, recipients=1)
    request = sms_enqueue(subscription_id=sub.pk, recipients=registered_numbers(sub), text="通知")

    async def refuse(sim):
        sim.faults.submit_result = 13

    # the fault is set once the link is up; the claim loop may already have sent: retry
    sender_run(before=refuse)

    message = request.messages.get()
    if message.state == MessageState.FAILED:
        assert message.error == "Result 13"
        assert not DailyUsage.objects.filter(subscription=sub, submitted_segments__gt=0).exists()
    else:  # submitted before the fault applied
        assert message.state == MessageState.DELIVERED


def test_scheduled_messages_wait_for_their_time(clock, manager, sender_run):
    sub = sending_subscription(manager, recipients=1)
    later = sms_enqueue(
        subscription_id=sub.pk,
        recipients=registered_numbers(sub),
        text="定时",
        scheduled_at=clock.now() + dt.timedelta(hours=1),
    )

    stats, _sim = sender_run()

    assert stats.submitted == 0
    assert later.messages.get().state == MessageState.QUEUED
    clock.advance(hours=1)
    stats, _sim = sender_run()
    assert later.messages.get().state == MessageState.DELIVERED


def test_replies_are_routed_by_extension_to_a_department_and_td_opts_out(
    clock, manager, sender_run, client, make_user
):
    sub = sending_subscription(manager, recipients=1)
    number = registered_numbers(sub)[0]
    code = sub.account.service_code
    Extension.objects.create(subscription=sub, extension="12", department="客服部")

    async def replies(sim):
        await sim.send_mo(number, f"{code}12", "收到，谢谢")
        await sim.send_mo(number, code, "TD")
        await asyncio.sleep(0.3)

    sender_run(before=replies)

    first, second = MoMessage.objects.order_by("id")
    assert first.enterprise_id == sub.enterprise_id and first.department == "客服部"
    assert first.extension == "12" and first.text == "收到，谢谢"
    assert second.department == "" and second.text == "TD"
    assert RegisteredRecipient.objects.get(msisdn=number).opted_out_at is not None
    # the sender counted both replies, and /metrics shows them for the account
    client.force_login(make_user(Role.NOC_ENGINEER, username="noc"))
    metrics = client.get("/metrics").content.decode()
    assert re.search(
        rf'mas_smsgw_mo_messages_total\{{account="{sub.account.sp_id}",sender="[^"]+"\}} 2\.0',
        metrics,
    ), [line for line in metrics.splitlines() if "mo_messages" in line]


def test_messages_of_an_account_without_links_stay_queued(clock, manager, sender_run):
    sub = sending_subscription(manager, recipients=1)
    request = sms_enqueue(subscription_id=sub.pk, recipients=registered_numbers(sub), text="x")
    Message.objects.filter(send_request=request).update(sp_id="999999")

    stats, _sim = sender_run()

    assert stats.submitted == 0
    assert request.messages.get().state == MessageState.QUEUED


def test_a_failed_write_keeps_the_batch_for_the_next_flush(monkeypatch):
    """A write that fails (lost connection, deadlock victim) rolls back whole; the
    sender keeps the results and the reports behind them and writes them next time."""
    calls = []

    def results_record(results, *, sender):
        calls.append(list(results))
        if len(calls) == 1:
            raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(outbox, "submit_results_record", results_record)
    monkeypatch.setattr(outbox, "reports_record", lambda reports: [])
    sender = Sender(inline_db=True, accounts_loader=list)
    outcome = outbox.SubmitOutcome(segment_id=1, message_id=1, msg_id=42, result=0)

    async def main():
        acknowledged = asyncio.get_running_loop().create_future()
        sender._results.append(outcome)
        sender._reports.append((outbox.ReportIn(42, "DELIVRD"), acknowledged, 0))
        with pytest.raises(OperationalError):
            await sender._flush()
        assert sender._results == [outcome] and len(sender._reports) == 1
        assert not acknowledged.done()
        await sender._flush()
        return acknowledged.done()

    assert asyncio.run(main())
    assert calls == [[outcome], [outcome]]
    assert sender._results == [] and sender._reports == []
    assert sender.stats.reports == 1
