"""What enterprise users do in the portal: recipients, signatures, change requests, users."""

import io

import pytest
from django.urls import reverse

from core.roles import Role, user_has_role
from customers.models import RegisteredRecipient, Signature
from fulfillment.models import Order
from tests.customers.factories import active_enterprise
from tests.fulfillment.factories import active_subscription, committing, one_month_later
from tests.portal.factories import enterprise_user

pytestmark = pytest.mark.django_db


def _csv(text: str, name: str = "list.csv"):
    upload = io.BytesIO(text.encode("utf-8-sig"))
    upload.name = name
    return upload


def test_an_import_is_previewed_then_confirmed(client, manager):
    enterprise = active_enterprise(manager)
    client.force_login(enterprise_user(enterprise))
    good = (
        "手机号码,姓名,分组,同意方式,同意时间\n"
        "13800138000,张三,员工,纸质,2026-01-05 09:00\n"
        "13800138001,李四,员工,纸质,2026-01-05\n"
    )
    response = client.post(reverse("portal:recipient_import"), {"file": _csv(good)})
    assert response.status_code == 200
    token = response.context["token"]
    assert token and not RegisteredRecipient.objects.exists()

    response = client.post(reverse("portal:recipient_import"), {"confirm": token})
    assert response.status_code == 302
    assert set(enterprise.recipients.values_list("msisdn", flat=True)) == {
        "13800138000",
        "13800138001",
    }


def test_a_file_with_bad_rows_is_refused_row_by_row(client, manager):
    enterprise = active_enterprise(manager)
    client.force_login(enterprise_user(enterprise))
    bad = (
        "手机号码,姓名,分组,同意方式,同意时间\n"
        "13800138000,好,员工,纸质,2026-01-05\n"
        "12345,坏,员工,纸质,2026-01-05\n"
        "13800138000,重复,员工,纸质,2026-01-05\n"
    )
    response = client.post(reverse("portal:recipient_import"), {"file": _csv(bad)})
    body = response.content.decode()
    assert [item["row"] for item in response.context["report"]] == [2, 3]
    assert "号码在文件中重复" in body and response.context["token"] is None
    assert not RegisteredRecipient.objects.exists()


def test_an_administrator_requests_a_signature_and_sees_its_review_state(client, manager):
    enterprise = active_enterprise(manager, name="郑州豫信物流有限公司")
    client.force_login(enterprise_user(enterprise))
    response = client.post(reverse("portal:signatures"), {"text": "【豫信物流】"})
    assert response.status_code == 302
    signature = Signature.objects.get(enterprise=enterprise, text="【豫信物流】")
    assert signature.state == "submitted"
    assert "待审核" in client.get(reverse("portal:signatures")).content.decode()


def test_a_change_request_becomes_an_order_and_the_one_month_rule_is_explained(
    client, manager, clock
):
    subscription = active_subscription(manager)
    client.force_login(enterprise_user(subscription.enterprise))
    page = client.get(reverse("portal:change_request", args=[subscription.pk])).content.decode()
    assert "第11条" in page

    too_soon = clock.now().date().isoformat()
    with committing():
        response = client.post(
            reverse("portal:change_request", args=[subscription.pk]),
            {"action": "modify", "cmpp_version": "2.0", "effective_date": too_soon},
        )
    assert response.status_code == 302
    order = Order.objects.filter(channel="portal").latest("id")
    assert order.state == Order.State.REJECTED
    assert any(reason["rule"] == "第11条" for reason in order.rejection_reasons)

    with committing():
        client.post(
            reverse("portal:change_request", args=[subscription.pk]),
            {
                "action": "modify",
                "cmpp_version": "2.0",
                "effective_date": one_month_later().date().isoformat(),
            },
        )
    order = Order.objects.filter(channel="portal").latest("id")
    assert order.state == Order.State.ACKNOWLEDGED


def test_a_change_request_for_another_enterprises_service_is_not_found(client, manager):
    mine = active_subscription(manager)
    theirs = active_subscription(manager)
    client.force_login(enterprise_user(mine.enterprise))
    assert client.get(reverse("portal:change_request", args=[theirs.pk])).status_code == 404
    response = client.post(
        reverse("portal:change_request", args=[theirs.pk]),
        {"action": "suspend", "effective_date": one_month_later().date().isoformat()},
    )
    assert response.status_code == 404
    assert not Order.objects.filter(channel="portal").exists()


def test_an_administrator_creates_an_operator(client, manager):
    enterprise = active_enterprise(manager)
    client.force_login(enterprise_user(enterprise))
    response = client.post(
        reverse("portal:users"),
        {
            "username": "op1",
            "display_name": "王操作",
            "email": "op1@example.cn",
            "mobile": "13800138009",
            "role": "enterprise_operator",
            "password": "Xk9#long-enough",
        },
    )
    assert response.status_code == 302
    from core.models import User

    operator = User.objects.get(username="op1")
    assert operator.membership.enterprise == enterprise
    assert user_has_role(operator, Role.ENTERPRISE_OPERATOR) and not operator.is_staff
