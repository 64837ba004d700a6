"""Sending from the portal and reading what happened: refusals named, progress, search,
detail, export, replies; and always only the enterprise's own."""

import io
import json

import pytest
from django.urls import reverse

from core.roles import Role
from customers import services as customer_services
from smsgw.models import Message, MessageState, MoMessage, Segment, SendRequest
from smsgw.services import sms_enqueue
from tests.portal.factories import enterprise_user
from tests.smsgw.factories import registered_numbers, sending_subscription

pytestmark = pytest.mark.django_db


@pytest.fixture
def sub(clock, manager):
    return sending_subscription(manager, recipients=3)


@pytest.fixture
def operator_client(client, sub):
    client.force_login(enterprise_user(sub.enterprise, role=Role.ENTERPRISE_OPERATOR))
    return client


def _file(text: str, name: str = "numbers.csv"):
    upload = io.BytesIO(text.encode("utf-8-sig"))
    upload.name = name
    return upload


def test_an_operator_sends_to_typed_numbers_and_sees_the_refused_ones(operator_client, sub):
    good, opted, _third = registered_numbers(sub)
    customer_services.recipient_opt_out(enterprise_id=sub.enterprise_id, msisdn=opted)

    response = operator_client.post(
        reverse("portal:send"),
        {
            "subscription": sub.pk,
            "recipients": f"{good}\n{opted}, 13912345678；12345",
            "text": "明早九点开会",
        },
    )

    request = SendRequest.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:send_progress", args=[request.pk])
    assert request.accepted_count == 1 and request.refused_count == 3
    page = operator_client.get(response["Location"]).content.decode()
    assert "第4条" in page and "已退订" in page and "12345" in page
    assert '<progress id="progress-bar" max="1" value="0">' in page


def test_a_group_send_goes_to_every_registered_number_of_the_group(operator_client, sub):
    response = operator_client.post(
        reverse("portal:send"), {"subscription": sub.pk, "group": "__all__", "text": "通知"}
    )
    assert response.status_code == 302
    request = SendRequest.objects.get()
    assert request.channel == "campaign" and request.accepted_count == 3


def test_a_screened_term_is_refused_with_the_rule_named(operator_client, sub):
    from smsgw.services import forbidden_term_add

    forbidden_term_add(term="发票代开", category="fraud")
    response = operator_client.post(
        reverse("portal:send"),
        {"subscription": sub.pk, "recipients": registered_numbers(sub)[0], "text": "发 票代开"},
    )
    assert response.status_code == 200
    assert "第5条" in response.content.decode() and not SendRequest.objects.exists()


def test_a_suspended_subscription_is_refused_with_a_clear_reason(operator_client, sub):
    from fulfillment.models import Subscription

    Subscription.objects.filter(pk=sub.pk).update(state="suspended")
    response = operator_client.post(
        reverse("portal:send"),
        {"subscription": sub.pk, "recipients": registered_numbers(sub)[0], "text": "你好"},
    )
    assert "未处于在用状态" in response.content.decode()
    assert not SendRequest.objects.exists()


def test_a_request_where_every_number_is_refused_lists_them(operator_client, sub):
    response = operator_client.post(
        reverse("portal:send"),
        {"subscription": sub.pk, "recipients": "13912345678", "text": "你好"},
    )
    body = response.content.decode()
    assert "没有可发送的号码" in body and "13912345678" in body and "第4条" in body


def test_the_preview_shows_the_signed_text_and_the_gateways_segment_count(operator_client, sub):
    response = operator_client.post(
        reverse("portal:send"),
        {"subscription": sub.pk, "recipients": "", "text": "好" * 70, "preview": "1"},
    )
    preview = response.context["preview"]
    assert preview.content.startswith("好" * 70) and preview.content.endswith("】")
    assert preview.segments == 2 and preview.encoding == "UCS2"
    assert not SendRequest.objects.exists()


def test_a_scheduled_time_in_the_past_is_refused(operator_client, sub):
    response = operator_client.post(
        reverse("portal:send"),
        {
            "subscription": sub.pk,
            "recipients": registered_numbers(sub)[0],
            "text": "你好",
            "scheduled_at": "2026-11-25T09:00",
        },
    )
    assert response.context["form"].errors["scheduled_at"]


def test_a_scheduled_send_waits_until_its_time(operator_client, sub):
    operator_client.post(
        reverse("portal:send"),
        {
            "subscription": sub.pk,
            "recipients": registered_numbers(sub)[0],
            "text": "你好",
            "scheduled_at": "2026-11-26T08:30",
        },
    )
    message = Message.objects.get()
    assert message.due_at.isoformat() == "2026-11-26T00:30:00+00:00"


def test_a_bulk_file_is_previewed_with_refused_rows_then_sent(operator_client, sub):
    good, opted, third = registered_numbers(sub)
    customer_services.recipient_opt_out(enterprise_id=sub.enterprise_id, msisdn=opted)
    content = f"手机号码,备注\n{good},a\n{opted},b\n13912345678,c\n12345,d\n{good},e\n{third},f\n"

    response = operator_client.post(
        reverse("portal:send_bulk"),
        {"subscription": sub.pk, "text": "活动通知", "file": _file(content)},
    )

    bulk = response.context["bulk"]
    assert bulk.total == 6 and bulk.accepted == [good, third]
    assert [(row["row"], row["reason"]) for row in bulk.refused] == [
        (3, "第4条：已退订"),
        (4, "第4条：不在注册客户名单中"),
        (5, "号码格式错误"),
        (6, "文件中重复，只发送一次"),
    ]
    assert not SendRequest.objects.exists()

    token = response.context["token"]
    confirm = {"confirm": token, "subscription": sub.pk, "text": "活动通知", "scheduled_at": ""}
    response = operator_client.post(reverse("portal:send_bulk"), confirm)
    assert response.status_code == 302
    request = SendRequest.objects.get()
    assert request.accepted_count == 2 and request.channel == "campaign"
    # Confirming twice (a double click) does not send twice.
    operator_client.post(reverse("portal:send_bulk"), confirm)
    assert SendRequest.objects.count() == 1


def test_a_bulk_file_without_a_header_reads_the_first_column(operator_client, sub):
    numbers = registered_numbers(sub)
    response = operator_client.post(
        reverse("portal:send_bulk"),
        {"subscription": sub.pk, "text": "通知", "file": _file("\n".join(numbers) + "\n")},
    )
    assert response.context["bulk"].accepted == numbers


def test_progress_json_reports_the_states(operator_client, sub):
    request = sms_enqueue(subscription_id=sub.pk, recipients=registered_numbers(sub), text="x")
    Message.objects.filter(send_request=request).update(state=MessageState.DELIVERED)
    data = json.loads(
        operator_client.get(reverse("portal:send_progress_json", args=[request.pk])).content
    )
    assert data["final"] == 3 and data["done"] and data["states"]["delivered"] == 3


def _delivered_message(sub, msisdn):
    request = sms_enqueue(subscription_id=sub.pk, recipients=[msisdn], text="开会通知")
    message = Message.objects.get(send_request=request)
    Message.objects.filter(pk=message.pk).update(state=MessageState.DELIVERED)
    Segment.objects.create(
        message=message,
        seq=1,
        state=MessageState.DELIVERED,
        msg_id="1234567890123456789",
        submit_result=0,
        report_stat="DELIVRD",
    )
    return message


def test_messages_are_searched_and_show_segments_with_msg_id_and_report(operator_client, sub):
    first, second, _third = registered_numbers(sub)
    message = _delivered_message(sub, first)
    sms_enqueue(subscription_id=sub.pk, recipients=[second], text="另一条")

    listing = operator_client.get(reverse("portal:messages"), {"msisdn": first[-4:]})
    assert [m.pk for m in listing.context["messages_page"]] == [message.pk]
    by_state = operator_client.get(reverse("portal:messages"), {"state": "queued"})
    assert [m.msisdn for m in by_state.context["messages_page"]] == [second]

    detail = operator_client.get(reverse("portal:message_detail", args=[message.pk]))
    body = detail.content.decode()
    assert "1234567890123456789" in body and "DELIVRD" in body and first in body


def test_messages_export_to_csv_and_xlsx(operator_client, sub):
    first = registered_numbers(sub)[0]
    _delivered_message(sub, first)
    csv = operator_client.get(reverse("portal:message_export"), {"format": "csv"})
    assert first in csv.content.decode("utf-8-sig") and "已送达" in csv.content.decode("utf-8-sig")
    xlsx = operator_client.get(reverse("portal:message_export"), {"format": "xlsx"})
    assert xlsx["Content-Type"].startswith("application/vnd.openxmlformats")


def test_replies_inbox_lists_the_enterprises_replies(operator_client, sub, manager):
    MoMessage.objects.create(
        enterprise=sub.enterprise,
        subscription=sub,
        msisdn="13800138000",
        dest_id="106571234",
        text="收到，谢谢",
    )
    other = sending_subscription(manager)
    MoMessage.objects.create(
        enterprise=other.enterprise,
        subscription=other,
        msisdn="13900139000",
        dest_id="106579999",
        text="别人的回复",
    )
    page = operator_client.get(reverse("portal:replies")).content.decode()
    assert "收到，谢谢" in page and "别人的回复" not in page
    export = operator_client.get(reverse("portal:reply_export")).content.decode("utf-8-sig")
    assert "收到，谢谢" in export and "别人的回复" not in export


def test_another_enterprises_messages_and_sends_are_not_found(client, sub, manager):
    other = sending_subscription(manager)
    theirs = _delivered_message(other, registered_numbers(other)[0])
    client.force_login(enterprise_user(sub.enterprise, role=Role.ENTERPRISE_OPERATOR))

    assert client.get(reverse("portal:message_detail", args=[theirs.pk])).status_code == 404
    for name in ("portal:send_progress", "portal:send_progress_json"):
        assert client.get(reverse(name, args=[theirs.send_request_id])).status_code == 404
    assert theirs.msisdn not in client.get(reverse("portal:messages")).content.decode()
    export = client.get(reverse("portal:message_export")).content.decode("utf-8-sig")
    assert theirs.msisdn not in export
    listing = client.get(reverse("portal:messages"), {"send_request": theirs.send_request_id})
    assert list(listing.context["messages_page"]) == []
    # Sending on another enterprise's subscription is refused by the form.
    response = client.post(
        reverse("portal:send"),
        {"subscription": other.pk, "recipients": registered_numbers(other)[0], "text": "x"},
    )
    assert response.context["form"].errors["subscription"]
    assert SendRequest.objects.filter(subscription=other).count() == 1


def test_sending_needs_the_csrf_token(sub):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(enterprise_user(sub.enterprise, role=Role.ENTERPRISE_OPERATOR))
    response = client.post(
        reverse("portal:send"),
        {"subscription": sub.pk, "recipients": registered_numbers(sub)[0], "text": "你好"},
    )
    assert response.status_code == 403 and not SendRequest.objects.exists()


def test_the_dashboard_shows_this_months_usage_against_the_allowance_and_a_chart(
    operator_client, sub, clock
):
    import datetime as dt

    from fulfillment.models import Subscription
    from smsgw.models import DailyUsage

    Subscription.objects.filter(pk=sub.pk).update(included_messages=1000)
    today = clock.today()
    DailyUsage.objects.create(
        subscription=sub,
        day=today,
        submitted_segments=40,
        delivered_segments=38,
        failed_segments=2,
    )
    DailyUsage.objects.create(
        subscription=sub,
        day=today - dt.timedelta(days=40),
        submitted_segments=99,
        delivered_segments=99,
    )

    response = operator_client.get(reverse("portal:dashboard"))

    sending = response.context["sending"]
    assert sending["month"] == {"submitted": 40, "delivered": 38, "failed": 2}
    assert sending["allowance"] == 1000
    assert sending["days"][-1]["rate"] == pytest.approx(0.95)
    assert [d["rate"] for d in sending["days"][:-1]] == [None] * 29
    body = response.content.decode()
    assert '<svg class="chart"' in body and "95.0%" in body and "40 / 1000" in body


def test_the_dashboard_shows_running_sends_with_a_progress_bar(operator_client, sub):
    running = sms_enqueue(subscription_id=sub.pk, recipients=registered_numbers(sub), text="进行中")
    finished = sms_enqueue(
        subscription_id=sub.pk, recipients=registered_numbers(sub)[:1], text="完"
    )
    Message.objects.filter(send_request=finished).update(state=MessageState.DELIVERED)
    first = Message.objects.filter(send_request=running).order_by("id").first()
    Message.objects.filter(pk=first.pk).update(state=MessageState.FAILED)

    response = operator_client.get(reverse("portal:dashboard"))

    assert [p["id"] for p in response.context["running_sends"]] == [running.pk]
    assert f'<progress id="running-{running.pk}" max="3" value="1">' in response.content.decode()


def test_another_enterprise_cannot_confirm_a_previewed_bulk_file(client, sub, manager):
    other = sending_subscription(manager)
    client.force_login(enterprise_user(sub.enterprise, role=Role.ENTERPRISE_OPERATOR))
    response = client.post(
        reverse("portal:send_bulk"),
        {"subscription": sub.pk, "text": "通知", "file": _file(registered_numbers(sub)[0])},
    )
    token = response.context["token"]

    client.force_login(enterprise_user(other.enterprise, role=Role.ENTERPRISE_OPERATOR))
    confirm = {"confirm": token, "subscription": other.pk, "text": "通知", "scheduled_at": ""}
    assert client.post(reverse("portal:send_bulk"), confirm).status_code == 404
    assert client.post(reverse("portal:send_bulk"), {**confirm, "confirm": "x"}).status_code == 404
    assert not SendRequest.objects.exists()


def test_replies_are_filtered_by_number_and_date_and_bad_ranges_explained(
    operator_client, sub, clock
):
    import datetime as dt

    today = clock.today()
    old = MoMessage.objects.create(
        enterprise=sub.enterprise,
        subscription=sub,
        msisdn="13800138000",
        dest_id="1065",
        text="上周的回复",
    )
    MoMessage.objects.filter(pk=old.pk).update(received_at=old.received_at - dt.timedelta(days=8))
    MoMessage.objects.create(
        enterprise=sub.enterprise,
        subscription=sub,
        msisdn="13900139000",
        dest_id="1065",
        text="今天的回复",
    )
    url = reverse("portal:replies")
    recent = operator_client.get(url, {"date_from": (today - dt.timedelta(days=2)).isoformat()})
    assert [r.text for r in recent.context["replies"]] == ["今天的回复"]
    by_number = operator_client.get(url, {"msisdn": "138001"})
    assert [r.text for r in by_number.context["replies"]] == ["上周的回复"]
    bad = operator_client.get(url, {"date_from": "2026-11-20", "date_to": "2026-11-01"})
    assert "起始日期不能晚于截止日期" in bad.content.decode()
    export = operator_client.get(reverse("portal:reply_export"), {"msisdn": "139"})
    assert "今天的回复" in export.content.decode("utf-8-sig")
    assert "上周的回复" not in export.content.decode("utf-8-sig")
