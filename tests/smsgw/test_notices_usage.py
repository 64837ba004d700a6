"""Operator notices, notice status, usage counters and the portal selectors' scoping."""

import datetime as dt

import pytest

from customers.models import Contact
from smsgw import selectors
from smsgw.models import DailyUsage, Message, MessageState
from smsgw.services import SendRefused, operator_notice_send, sms_enqueue

from .factories import operator_account, registered_numbers, sending_subscription

pytestmark = pytest.mark.django_db


def test_notice_goes_to_the_contacts_from_the_operator_account(clock, manager):
    sub = sending_subscription(manager, recipients=0)
    account = operator_account()
    contacts = list(
        Contact.objects.filter(enterprise=sub.enterprise).values_list("mobile", flat=True)
    )

    batch = operator_notice_send(enterprise_id=sub.enterprise_id, text="今晚维护", topic="维护通知")

    request = batch.send_request
    assert request.sp_id == account.sp_id and request.subscription is None
    assert request.content == "今晚维护【中国移动】"
    assert sorted(request.messages.values_list("msisdn", flat=True)) == sorted(contacts)
    status = selectors.notice_batch_status(batch.pk)
    assert status["total"] == len(contacts) and status["queued"] == len(contacts)
    assert status["delivered"] == 0 and not status["done"]


def test_notice_ignores_the_whitelist_for_given_numbers(clock, manager):
    sub = sending_subscription(manager, recipients=0)
    operator_account()
    batch = operator_notice_send(
        enterprise_id=sub.enterprise_id,
        text="请缴费",
        topic="缴费提醒",
        phone_numbers=["13912345678"],
    )
    Message.objects.filter(send_request=batch.send_request).update(state=MessageState.DELIVERED)
    status = selectors.notice_batch_status(batch.pk)
    assert status["delivered"] == 1 and status["done"]


def test_notice_without_operator_account_is_refused(clock, manager):
    sub = sending_subscription(manager, recipients=0)
    with pytest.raises(SendRefused):
        operator_notice_send(enterprise_id=sub.enterprise_id, text="x", topic="t")


def test_billable_segments_sums_submitted_days_in_the_half_open_range(clock, manager):
    sub = sending_subscription(manager, recipients=0)
    for day, n in [(1, 10), (15, 5), (30, 7), (31, 100)]:
        DailyUsage.objects.create(
            subscription=sub,
            day=dt.date(2026, 11, 1) + dt.timedelta(days=day - 1),
            submitted_segments=n,
            delivered_segments=n - 1,
            failed_segments=1,
        )
    assert (
        selectors.billable_segments(
            subscription_id=sub.pk, start=dt.date(2026, 11, 1), end=dt.date(2026, 12, 1)
        )
        == 22
    )
    rows = selectors.usage_by_day(
        subscription_ids=[sub.pk], start=dt.date(2026, 11, 1), end=dt.date(2026, 11, 16)
    )
    assert [(r["day"].day, r["submitted"], r["delivered"]) for r in rows] == [
        (1, 10, 9),
        (15, 5, 4),
    ]


def test_portal_selectors_never_show_another_enterprises_messages(clock, manager, other_manager):
    mine = sending_subscription(manager, recipients=2)
    theirs = sending_subscription(other_manager, recipients=2)
    request = sms_enqueue(subscription_id=mine.pk, recipients=registered_numbers(mine), text="甲")
    other = sms_enqueue(subscription_id=theirs.pk, recipients=registered_numbers(theirs), text="乙")

    listed = selectors.messages_of_enterprise(mine.enterprise_id)
    assert {m.send_request_id for m in listed} == {request.pk}
    foreign = other.messages.first()
    with pytest.raises(Message.DoesNotExist):
        selectors.message_detail(message_id=foreign.pk, enterprise_id=mine.enterprise_id)
    with pytest.raises(type(other).DoesNotExist):
        selectors.send_request_progress(send_request_id=other.pk, enterprise_id=mine.enterprise_id)

    progress = selectors.send_request_progress(
        send_request_id=request.pk, enterprise_id=mine.enterprise_id
    )
    assert progress["accepted"] == 2 and progress["states"]["queued"] == 2


def test_message_search_filters(clock, manager):
    sub = sending_subscription(manager, recipients=2)
    first, second = registered_numbers(sub)
    sms_enqueue(subscription_id=sub.pk, recipients=[first, second], text="查")
    found = selectors.messages_of_enterprise(sub.enterprise_id, msisdn=first)
    assert [m.msisdn for m in found] == [first]
    today = dt.date(2026, 11, 25)
    assert (
        selectors.messages_of_enterprise(sub.enterprise_id, date_from=today, date_to=today).count()
        == 2
    )
    assert not selectors.messages_of_enterprise(
        sub.enterprise_id, date_from=today + dt.timedelta(days=1)
    ).exists()
    assert selectors.messages_of_enterprise(sub.enterprise_id, state="delivered").count() == 0
