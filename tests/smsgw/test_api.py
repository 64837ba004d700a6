"""The enterprise SMS API: submit, batch limit, idempotency, status, scoping, throttling."""

import pytest

from core.roles import Role
from customers import services as customer_services
from smsgw.models import Message, SendRequest
from tests.tmf import TmfClient, issue_token

from .factories import registered_numbers, sending_subscription

pytestmark = pytest.mark.django_db

URL = "/api/v1/sms/requests"


def enterprise_client(subscription, role=Role.ENTERPRISE_ADMIN, username=None):
    user = customer_services.enterprise_user_create(
        enterprise_id=subscription.enterprise_id,
        username=username or f"app{subscription.pk}{role.value}",
        password="pass-1234",
        role=role,
    )
    return TmfClient(issue_token(user, role, enterprise=subscription.enterprise))


@pytest.fixture
def sub(clock, manager):
    return sending_subscription(manager, recipients=3)


@pytest.fixture
def api(sub):
    return enterprise_client(sub)


def test_submit_a_batch_reports_accepted_and_refused_numbers(sub, api):
    numbers = registered_numbers(sub)

    response = api.post(URL, {"recipients": [*numbers, "13912345678"], "text": "会议通知"})

    assert response.status_code == 202, response.content
    body = response.json()
    assert body["accepted"] == 3 and body["refused"] == 1
    assert body["refusedRecipients"][0]["code"] == "not_registered"
    assert body["states"]["queued"] == 3
    status = api.get(f"/api/v1/sms/requests/{body['id']}")
    assert status.status_code == 200 and status.json()["accepted"] == 3


def test_single_number_submit_and_refusal_names_the_rule(sub, api):
    ok = api.post(URL, {"to": registered_numbers(sub)[0], "text": "hi"})
    assert ok.status_code == 202
    refused = api.post(URL, {"to": "13912345678", "text": "hi"})
    assert refused.status_code == 400
    assert refused.json()["code"] == "no_recipient" and "第4条" in refused.json()["message"]


def test_batch_over_the_limit_is_refused_whole(sub, api, settings):
    settings.SMSGW_API_BATCH_LIMIT = 5000
    numbers = [f"1390000{n:04d}" for n in range(5001)]
    response = api.post(URL, {"recipients": numbers, "text": "x"})
    assert response.status_code == 400 and response.json()["code"] == "batch_too_large"
    assert not SendRequest.objects.exists()


def test_idempotency_key_header_replays_the_first_answer(sub, api):
    body = {"recipients": registered_numbers(sub), "text": "一次"}
    first = api.post(URL, body, HTTP_IDEMPOTENCY_KEY="order-42")
    again = api.post(URL, body, HTTP_IDEMPOTENCY_KEY="order-42")
    assert first.status_code == 202 and again.status_code == 200
    assert again["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert Message.objects.count() == 3
    conflict = api.post(URL, {**body, "text": "另一条"}, HTTP_IDEMPOTENCY_KEY="order-42")
    assert conflict.status_code == 409 and conflict.json()["code"] == "idempotency_conflict"


def test_one_enterprise_never_sees_another_enterprises_messages(sub, api, manager):
    other = sending_subscription(manager, recipients=1)
    other_api = enterprise_client(other)
    created = other_api.post(URL, {"to": registered_numbers(other)[0], "text": "乙"}).json()
    message = Message.objects.get(send_request_id=created["id"])

    assert api.get(f"/api/v1/sms/requests/{created['id']}").status_code == 404
    assert api.get(f"/api/v1/sms/messages/{message.pk}").status_code == 404
    assert api.get("/api/v1/sms/messages").json() == []
    refused = api.post(URL, {"subscriptionId": other.pk, "to": "13900000000", "text": "x"})
    assert refused.status_code == 400 and refused.json()["code"] == "unknown_subscription"
    own = other_api.get(f"/api/v1/sms/messages/{message.pk}").json()
    assert own["msisdn"] == registered_numbers(other)[0] and own["state"] == "queued"


def test_message_list_filters_and_counts(sub, api):
    first, *_rest = registered_numbers(sub)
    api.post(URL, {"recipients": registered_numbers(sub), "text": "x"})
    response = api.get(f"/api/v1/sms/messages?msisdn={first}")
    assert response["X-Total-Count"] == "1" and response.json()[0]["msisdn"] == first


def test_staff_and_anonymous_callers_are_refused(sub, manager):
    staff = TmfClient(issue_token(manager, Role.CUSTOMER_MANAGER))
    assert staff.post(URL, {"to": "13900000000", "text": "x"}).status_code == 403
    assert TmfClient().get("/api/v1/sms/messages").status_code == 401


def test_operator_role_cannot_configure_the_webhook(sub):
    operator = enterprise_client(sub, role=Role.ENTERPRISE_OPERATOR)
    response = operator.put("/api/v1/sms/webhook", {"url": "https://example.cn/hook"})
    assert response.status_code == 403


def test_webhook_secret_is_shown_once(sub, api):
    created = api.put("/api/v1/sms/webhook", {"url": "https://example.cn/hook"})
    assert created.status_code == 200 and created.json()["secret"].startswith("whsec_")
    changed = api.put("/api/v1/sms/webhook", {"url": "https://example.cn/hook2"})
    assert "secret" not in changed.json()
    assert api.get("/api/v1/sms/webhook").json()["url"] == "https://example.cn/hook2"
    bad = api.put("/api/v1/sms/webhook", {"url": "ftp://example.cn"})
    assert bad.status_code == 400


def test_submits_are_rate_limited_per_enterprise(sub, api, settings):
    settings.SMSGW_API_RATE = "2/min"
    number = registered_numbers(sub)[0]
    codes = [api.post(URL, {"to": number, "text": f"{n}"}).status_code for n in range(3)]
    assert codes == [202, 202, 429]
    assert api.get("/api/v1/sms/messages").status_code == 200
