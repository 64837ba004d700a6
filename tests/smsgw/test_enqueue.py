"""sms_enqueue: the sending rules (第4条, 第5条, 第6条), segmentation, scheduling, idempotency."""

import datetime as dt

import pytest

from customers import services as customer_services
from customers.models import Signature
from fulfillment import services as fulfillment_services
from smsgw import services
from smsgw.models import ForbiddenTerm, Message, MessageState, ScreeningRefusal, SendRequest
from smsgw.services import SendRefused, sms_enqueue, sms_enqueue_campaign
from tests.fulfillment.factories import committing

from .factories import registered_numbers, sending_subscription

pytestmark = pytest.mark.django_db


@pytest.fixture
def sub(clock, manager):
    return sending_subscription(manager, recipients=3)


def test_accepted_send_writes_one_outbox_row_per_recipient_with_signature(sub, manager):
    numbers = registered_numbers(sub)

    request = sms_enqueue(
        subscription_id=sub.pk, recipients=numbers, text="明早九点开会", by=manager
    )

    signature = Signature.objects.get(enterprise=sub.enterprise, state="approved").text
    assert request.content == f"明早九点开会{signature}"
    assert request.accepted_count == 3 and request.refused_count == 0
    assert request.sp_id == sub.account.sp_id
    rows = Message.objects.filter(send_request=request)
    assert sorted(rows.values_list("msisdn", flat=True)) == numbers
    assert set(rows.values_list("state", flat=True)) == {MessageState.QUEUED}
    assert set(rows.values_list("segments_total", flat=True)) == {1}


def test_signature_is_not_added_twice(sub):
    signature = Signature.objects.get(enterprise=sub.enterprise, state="approved").text
    request = sms_enqueue(
        subscription_id=sub.pk, recipients=registered_numbers(sub)[:1], text=f"{signature}你好"
    )
    assert request.content == f"你好{signature}"


def test_numbers_off_the_registered_list_or_opted_out_are_refused_one_by_one(sub):
    good, opted, _third = registered_numbers(sub)
    customer_services.recipient_opt_out(enterprise_id=sub.enterprise_id, msisdn=opted)

    request = sms_enqueue(
        subscription_id=sub.pk,
        recipients=[good, opted, "13912345678", "12345", good],
        text="通知",
    )

    assert request.accepted_count == 1 and request.refused_count == 4
    codes = {row["code"]: row for row in request.refused}
    assert codes["not_registered"]["msisdn"] == "13912345678"
    assert codes["not_registered"]["rule"] == "第4条"
    assert codes["opted_out"]["msisdn"] == opted
    assert "invalid_number" in codes and "duplicate" in codes
    assert list(request.messages.values_list("msisdn", flat=True)) == [good]


def test_all_numbers_refused_raises_with_the_reasons(sub):
    with pytest.raises(SendRefused) as exc:
        sms_enqueue(subscription_id=sub.pk, recipients=["13912345678"], text="通知")
    assert exc.value.code == "no_recipient"
    assert "第4条" in exc.value.messages[0]
    assert exc.value.refused[0]["code"] == "not_registered"
    assert not SendRequest.objects.exists()


def test_forbidden_content_is_refused_and_recorded_with_the_term(sub, manager):
    services.forbidden_term_add(term="赌博", category=ForbiddenTerm.Category.OBSCENITY)

    with pytest.raises(SendRefused) as exc:
        sms_enqueue(
            subscription_id=sub.pk,
            recipients=registered_numbers(sub),
            text="网上赌 博送彩金",
            by=manager,
        )

    assert exc.value.code == "forbidden_content"
    assert "赌博" in exc.value.messages[0]
    refusal = ScreeningRefusal.objects.get()
    assert refusal.term_text == "赌博" and refusal.by == manager
    assert refusal.text == "网上赌 博送彩金" and refusal.recipient_count == 3
    assert not Message.objects.exists()


def test_inactive_term_does_not_refuse(sub):
    term = services.forbidden_term_add(term="赌博", category=ForbiddenTerm.Category.OBSCENITY)
    ForbiddenTerm.objects.filter(pk=term.pk).update(is_active=False)
    assert sms_enqueue(subscription_id=sub.pk, recipients=registered_numbers(sub), text="赌博")


def test_suspended_subscription_is_refused(sub, manager):
    with committing():
        fulfillment_services.subscription_suspend(subscription_id=sub.pk, by=manager, reason="欠费")
    with pytest.raises(SendRefused) as exc:
        sms_enqueue(subscription_id=sub.pk, recipients=registered_numbers(sub), text="通知")
    assert exc.value.code in {"subscription_not_active", "account_not_active"}


def test_without_an_approved_signature_sending_is_refused(sub):
    Signature.objects.filter(enterprise=sub.enterprise).delete()
    with pytest.raises(SendRefused) as exc:
        sms_enqueue(subscription_id=sub.pk, recipients=registered_numbers(sub), text="通知")
    assert exc.value.code == "no_signature"
    assert "第6条第4款" in exc.value.messages[0]


def test_long_text_is_split_into_segments(sub):
    request = sms_enqueue(
        subscription_id=sub.pk, recipients=registered_numbers(sub), text="长" * 130
    )
    # 130 characters + the signature: more than 70, so segments of 67 UCS2 characters.
    assert request.segments_per_message == 3
    assert set(request.messages.values_list("segments_total", flat=True)) == {3}


def test_too_long_text_is_refused(sub, settings):
    settings.SMSGW_MAX_SEGMENTS = 2
    with pytest.raises(SendRefused) as exc:
        sms_enqueue(subscription_id=sub.pk, recipients=registered_numbers(sub), text="长" * 200)
    assert exc.value.code == "text_too_long"


def test_empty_text_is_refused(sub):
    with pytest.raises(SendRefused):
        sms_enqueue(subscription_id=sub.pk, recipients=registered_numbers(sub), text="  ")


def test_scheduled_send_is_due_at_its_time(sub, clock):
    at = clock.now() + dt.timedelta(hours=3)
    request = sms_enqueue(
        subscription_id=sub.pk, recipients=registered_numbers(sub), text="定时", scheduled_at=at
    )
    assert request.scheduled_at == at
    assert set(request.messages.values_list("due_at", flat=True)) == {at}


def test_schedule_in_the_past_means_now_and_too_far_is_refused(sub, clock):
    request = sms_enqueue(
        subscription_id=sub.pk,
        recipients=registered_numbers(sub),
        text="补发",
        scheduled_at=clock.now() - dt.timedelta(hours=1),
    )
    assert set(request.messages.values_list("due_at", flat=True)) == {clock.now()}
    with pytest.raises(SendRefused):
        sms_enqueue(
            subscription_id=sub.pk,
            recipients=registered_numbers(sub),
            text="太远",
            scheduled_at=clock.now() + dt.timedelta(days=400),
        )


def test_idempotency_key_returns_the_first_request(sub):
    numbers = registered_numbers(sub)
    first = sms_enqueue(
        subscription_id=sub.pk, recipients=numbers, text="一次", idempotency_key="k1"
    )
    again = sms_enqueue(
        subscription_id=sub.pk, recipients=numbers, text="一次", idempotency_key="k1"
    )
    assert again.pk == first.pk
    assert Message.objects.count() == 3
    with pytest.raises(SendRefused) as exc:
        sms_enqueue(subscription_id=sub.pk, recipients=numbers, text="另一条", idempotency_key="k1")
    assert exc.value.code == "idempotency_conflict"


def test_campaign_sends_to_the_registered_list_or_a_group(sub):
    numbers = registered_numbers(sub)
    customer_services.recipient_opt_out(enterprise_id=sub.enterprise_id, msisdn=numbers[0])

    request = sms_enqueue_campaign(subscription_id=sub.pk, text="新品上市")

    assert request.channel == SendRequest.Channel.CAMPAIGN
    assert sorted(request.messages.values_list("msisdn", flat=True)) == numbers[1:]


def test_extension_becomes_part_of_the_sender_number(sub):
    request = sms_enqueue(
        subscription_id=sub.pk, recipients=registered_numbers(sub), text="回复1确认", extension="12"
    )
    assert request.src_id == f"{sub.account.service_code}12"
