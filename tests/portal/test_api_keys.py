"""API keys in the portal: shown once, scoped to the enterprise, administrators only."""

import pytest
from django.test import Client
from django.urls import reverse

from core.roles import Role
from customers.models import ApiToken
from customers.services import api_token_issue, api_token_use
from tests.customers.factories import active_enterprise
from tests.portal.factories import enterprise_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def enterprise(manager):
    return active_enterprise(manager, name="甲企业有限公司")


def test_an_administrator_creates_a_key_and_sees_it_only_once(client, enterprise):
    admin = enterprise_user(enterprise)
    operator = enterprise_user(enterprise, role=Role.ENTERPRISE_OPERATOR)
    client.force_login(admin)

    response = client.post(
        reverse("portal:api_keys"),
        {"name": "订单系统", "user": operator.pk, "role": "enterprise_operator"},
    )

    assert response.status_code == 200
    secret = response.context["secret"]
    assert secret in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    token = api_token_use(secret=secret)
    assert token.enterprise == enterprise and token.user == operator
    assert token.role == "enterprise_operator" and token.created_by == admin
    listing = client.get(reverse("portal:api_keys")).content.decode()
    assert "订单系统" in listing and secret not in listing


def test_a_key_for_a_role_the_user_does_not_hold_is_refused(client, enterprise):
    operator = enterprise_user(enterprise, role=Role.ENTERPRISE_OPERATOR)
    client.force_login(enterprise_user(enterprise))
    response = client.post(
        reverse("portal:api_keys"),
        {"name": "越权", "user": operator.pk, "role": "enterprise_admin"},
    )
    assert response.status_code == 200
    assert "该用户不具备所选角色" in response.content.decode()
    assert not ApiToken.objects.exists()


def test_a_past_expiry_is_refused_next_to_its_field(client, enterprise, clock):
    admin = enterprise_user(enterprise)
    client.force_login(admin)
    response = client.post(
        reverse("portal:api_keys"),
        {"name": "x", "user": admin.pk, "role": "enterprise_admin", "expires_on": "2026-01-01"},
    )
    assert response.context["form"].errors["expires_on"]
    assert not ApiToken.objects.exists()


def test_revoking_a_key_stops_it_at_once(client, enterprise):
    admin = enterprise_user(enterprise)
    token, secret = api_token_issue(
        user=admin, role="enterprise_admin", name="旧系统", enterprise_id=enterprise.pk, by=admin
    )
    client.force_login(admin)
    response = client.post(reverse("portal:api_key_revoke", args=[token.pk]))
    assert response.status_code == 302
    assert api_token_use(secret=secret) is None


def test_another_enterprises_keys_and_users_are_out_of_reach(client, enterprise, manager):
    other = active_enterprise(manager, name="乙企业有限公司")
    their_admin = enterprise_user(other)
    their_token, their_secret = api_token_issue(
        user=their_admin, role="enterprise_admin", name="乙的系统", enterprise_id=other.pk, by=None
    )
    client.force_login(enterprise_user(enterprise))

    assert client.post(reverse("portal:api_key_revoke", args=[their_token.pk])).status_code == 404
    assert api_token_use(secret=their_secret) is not None
    assert "乙的系统" not in client.get(reverse("portal:api_keys")).content.decode()
    response = client.post(
        reverse("portal:api_keys"),
        {"name": "借用", "user": their_admin.pk, "role": "enterprise_admin"},
    )
    assert response.context["form"].errors["user"]
    assert ApiToken.objects.count() == 1


def test_operators_cannot_manage_keys(client, enterprise):
    admin = enterprise_user(enterprise)
    token, secret = api_token_issue(
        user=admin, role="enterprise_admin", name="系统", enterprise_id=enterprise.pk, by=admin
    )
    operator = enterprise_user(enterprise, role=Role.ENTERPRISE_OPERATOR)
    client.force_login(operator)
    assert client.get(reverse("portal:api_keys")).status_code == 403
    assert client.post(reverse("portal:api_key_revoke", args=[token.pk])).status_code == 403
    response = client.post(
        reverse("portal:api_keys"),
        {"name": "自己", "user": operator.pk, "role": "enterprise_operator"},
    )
    assert response.status_code == 403
    assert api_token_use(secret=secret) is not None and ApiToken.objects.count() == 1


def test_revoking_needs_the_csrf_token(enterprise):
    admin = enterprise_user(enterprise)
    token, secret = api_token_issue(
        user=admin, role="enterprise_admin", name="系统", enterprise_id=enterprise.pk, by=admin
    )
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin)
    assert client.post(reverse("portal:api_key_revoke", args=[token.pk])).status_code == 403
    assert api_token_use(secret=secret) is not None


def test_an_administrator_sets_the_webhook_and_sees_its_secret_once(client, enterprise):
    from smsgw.models import WebhookEndpoint
    from smsgw.webhooks import sign

    client.force_login(enterprise_user(enterprise))
    data = {"url": "https://app.example.cn/mas", "send_reports": "on", "is_active": "on"}

    response = client.post(reverse("portal:webhook"), data)

    secret = response.context["webhook_secret"]
    assert secret.startswith("whsec_") and "no-store" in response["Cache-Control"]
    endpoint = WebhookEndpoint.objects.get(enterprise=enterprise)
    assert endpoint.url == data["url"] and endpoint.send_reports and not endpoint.send_replies
    from core import crypto

    assert crypto.decrypt(endpoint.secret_encrypted) == secret
    assert sign(secret, b"{}", 1).startswith("t=1,v1=")

    response = client.post(reverse("portal:webhook"), {**data, "url": "https://new.example.cn/"})
    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.url == "https://new.example.cn/"
    assert crypto.decrypt(endpoint.secret_encrypted) == secret
    assert secret not in client.get(reverse("portal:api_keys")).content.decode()


def test_a_webhook_url_that_is_not_http_is_refused(client, enterprise):
    from smsgw.models import WebhookEndpoint

    client.force_login(enterprise_user(enterprise))
    response = client.post(reverse("portal:webhook"), {"url": "ftp://files.example.cn/"})
    assert response.status_code == 200 and response.context["webhook_form"].errors["url"]
    assert not WebhookEndpoint.objects.exists()


def test_recent_deliveries_are_listed_and_failed_ones_resent_only_for_ones_own(
    client, enterprise, manager, django_capture_on_commit_callbacks
):
    from smsgw.models import WebhookDelivery
    from smsgw.webhooks import webhook_configure

    mine, _ = webhook_configure(enterprise_id=enterprise.pk, url="https://a.example.cn/")
    other = active_enterprise(manager, name="乙企业有限公司")
    theirs, _ = webhook_configure(enterprise_id=other.pk, url="https://b.example.cn/")
    failed = WebhookDelivery.objects.create(
        endpoint=mine,
        event="report",
        payload={"messageId": 1},
        state="failed",
        attempts=8,
        last_status=500,
        last_error="HTTP 500",
    )
    their_failed = WebhookDelivery.objects.create(
        endpoint=theirs, event="reply", payload={"text": "乙的回复"}, state="failed"
    )
    client.force_login(enterprise_user(enterprise))

    page = client.get(reverse("portal:api_keys"))
    assert [d.pk for d in page.context["deliveries"]] == [failed.pk]
    assert "HTTP 500" in page.content.decode()

    resend = reverse("portal:webhook_resend", args=[their_failed.pk])
    assert client.post(resend).status_code == 404
    their_failed.refresh_from_db()
    assert their_failed.state == "failed"

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(reverse("portal:webhook_resend", args=[failed.pk]))
    assert response.status_code == 302 and len(callbacks) == 1
    failed.refresh_from_db()
    assert failed.state == "pending"


def test_operators_cannot_set_the_webhook(client, enterprise):
    from smsgw.models import WebhookEndpoint

    client.force_login(enterprise_user(enterprise, role=Role.ENTERPRISE_OPERATOR))
    response = client.post(reverse("portal:webhook"), {"url": "https://app.example.cn/"})
    assert response.status_code == 403 and not WebhookEndpoint.objects.exists()
