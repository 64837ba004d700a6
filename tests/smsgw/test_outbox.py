"""The outbox protocol without sockets: claims, leases, crash recovery, reports, expiry."""

import datetime as dt

import pytest

from smsgw import outbox
from smsgw.models import DailyUsage, Message, MessageState, Segment
from smsgw.outbox import ReportIn, SubmitOutcome
from smsgw.services import sms_enqueue

from .factories import registered_numbers, sending_subscription

pytestmark = pytest.mark.django_db

S = MessageState


@pytest.fixture
def sub(clock, manager):
    return sending_subscription(manager, recipients=3)


def _accept(items, first_msg_id=1000):
    return [
        SubmitOutcome(item.segment_id, item.message_id, first_msg_id + n, 0)
        for n, item in enumerate(items)
    ]


def test_claim_marks_messages_submitting_under_a_lease_and_creates_segments(sub, clock):
    request = sms_enqueue(
        subscription_id=sub.pk, recipients=registered_numbers(sub), text="长" * 100
    )

    items = outbox.outbox_claim(sender="a", sp_ids=[sub.account.sp_id], limit=10)

    assert len(items) == 6
    assert {(i.pk_number, i.pk_total) for i in items} == {(1, 2), (2, 2)}
    assert all(i.tp_udhi == 1 and i.src_id == sub.account.service_code for i in items)
    messages = request.messages.all()
    assert {m.state for m in messages} == {S.SUBMITTING}
    assert {m.lease_owner for m in messages} == {"a"}
    assert Segment.objects.filter(state=S.SUBMITTING, msg_id="").count() == 6
    # nothing left for a second sender
    assert outbox.outbox_claim(sender="b", sp_ids=[sub.account.sp_id], limit=10) == []


def test_claim_respects_the_limit_and_the_account(sub):
    sms_enqueue(subscription_id=sub.pk, recipients=registered_numbers(sub), text="x")
    assert outbox.outbox_claim(sender="a", sp_ids=["000000"], limit=10) == []
    assert len(outbox.outbox_claim(sender="a", sp_ids=[sub.account.sp_id], limit=2)) == 2


def test_a_dead_senders_messages_are_taken_over_and_only_the_unacknowledged_sent_again(sub, clock):
    sms_enqueue(subscription_id=sub.pk, recipients=registered_numbers(sub), text="长" * 100)
    items = outbox.outbox_claim(sender="dead", sp_ids=[sub.account.sp_id], limit=10)
    acknowledged = items[:4]  # the last two segments were in the window when it died
    outbox.submit_results_record(_accept(acknowledged))

    assert outbox.outbox_claim(sender="b", sp_ids=[sub.account.sp_id], limit=10) == []
    clock.advance(seconds=outbox.lease_seconds() + 1)
    again = outbox.outbox_claim(sender="b", sp_ids=[sub.account.sp_id], limit=10)

    assert sorted(i.segment_id for i in again) == sorted(i.segment_id for i in items[4:])
    outbox.submit_results_record(_accept(again, first_msg_id=2000))
    assert Message.objects.filter(state=S.SUBMITTED).count() == 3
    assert DailyUsage.objects.get(subscription=sub).submitted_segments == 6


def test_leases_are_renewed_while_submitting(sub, clock):
    sms_enqueue(subscription_id=sub.pk, recipients=registered_numbers(sub), text="x")
    outbox.outbox_claim(sender="a", sp_ids=[sub.account.sp_id], limit=10)
    clock.advance(seconds=outbox.lease_seconds() - 1)
    outbox.leases_renew(sender="a")
    clock.advance(seconds=2)
    assert outbox.outbox_claim(sender="b", sp_ids=[sub.account.sp_id], limit=10) == []


def test_unanswered_segments_are_handed_back_for_another_try(sub, clock):
    sms_enqueue(subscription_id=sub.pk, recipients=registered_numbers(sub)[:1], text="x")
    (item,) = outbox.outbox_claim(sender="a", sp_ids=[sub.account.sp_id], limit=10)
    outbox.submit_results_record([SubmitOutcome(item.segment_id, item.message_id, None, None)])

    clock.advance(seconds=6)
    (again,) = outbox.outbox_claim(sender="a", sp_ids=[sub.account.sp_id], limit=10)
    assert again.segment_id == item.segment_id
    assert Message.objects.get().attempts == 2


def test_report_matching_by_msg_id(sub, clock):
    sms_enqueue(subscription_id=sub.pk, recipients=registered_numbers(sub), text="x")
    items = outbox.outbox_claim(sender="a", sp_ids=[sub.account.sp_id], limit=10)
    outbox.submit_results_record(_accept(items))
    clock.advance(minutes=1)

    unmatched = outbox.reports_record(
        [ReportIn(1000, "DELIVRD"), ReportIn(1001, "UNDELIV"), ReportIn(424242, "DELIVRD")]
    )

    assert [r.msg_id for r in unmatched] == [424242]
    states = dict(Segment.objects.values_list("msg_id", "state"))
    assert states == {"1000": S.DELIVERED, "1001": S.FAILED, "1002": S.SUBMITTED}
    usage = DailyUsage.objects.get(subscription=sub)
    assert (usage.submitted_segments, usage.delivered_segments, usage.failed_segments) == (3, 1, 1)
    # a repeated report changes nothing
    outbox.reports_record([ReportIn(1000, "UNDELIV")])
    assert Segment.objects.get(msg_id="1000").state == S.DELIVERED


def test_no_report_within_48_hours_expires(sub, clock):
    sms_enqueue(subscription_id=sub.pk, recipients=registered_numbers(sub)[:1], text="x")
    items = outbox.outbox_claim(sender="a", sp_ids=[sub.account.sp_id], limit=10)
    outbox.submit_results_record(_accept(items))

    clock.advance(hours=47)
    assert outbox.segments_expire_overdue() == 0
    clock.advance(hours=2)
    assert outbox.segments_expire_overdue() == 1

    message = Message.objects.get()
    assert message.state == S.EXPIRED and message.done_at == clock.now()
    # a report arriving after expiry is not applied
    assert outbox.reports_record([ReportIn(1000, "DELIVRD")]) == []
    assert Message.objects.get().state == S.EXPIRED


def test_usage_day_is_the_shanghai_day(sub, clock):
    clock.freeze(dt.datetime(2026, 11, 25, 16, 30, tzinfo=dt.UTC))  # 00:30 on the 26th in CST
    sms_enqueue(subscription_id=sub.pk, recipients=registered_numbers(sub)[:1], text="x")
    items = outbox.outbox_claim(sender="a", sp_ids=[sub.account.sp_id], limit=10)
    outbox.submit_results_record(_accept(items))
    assert DailyUsage.objects.get().day == dt.date(2026, 11, 26)
