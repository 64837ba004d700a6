"""The event hub: subscriptions, the outbox, delivery with retries to a real listener."""

import pytest
from django.test import override_settings
from django.urls import reverse

from core.models import DeliveryAttempt, EventDelivery, EventSubscription, OutboxEvent
from core.roles import Role
from core.services import event_delivery_resend
from customers.models import EnterpriseMembership
from tests.customers.factories import EnterpriseFactory
from tests.product_lifecycle.factories import ProductOfferingFactory
from tests.tmf import (
    CATALOG,
    CUSTOMER,
    CallbackReceiver,
    TmfClient,
    assert_tmf_error,
    issue_token,
    spec_problems,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def head_api(head):
    return TmfClient(issue_token(head, Role.DEPARTMENT_HEAD))


def subscribe(api, base, callback, query=""):
    response = api.post(f"{base}/hub", {"callback": callback, "query": query})
    assert response.status_code == 201, response.content
    return response.json()


def test_subscribing_and_unsubscribing(head_api, head, make_user):
    body = subscribe(head_api, CATALOG, "http://listener.example/cb", "eventType=X")
    assert body == {
        "id": body["id"],
        "callback": "http://listener.example/cb",
        "query": "eventType=X",
    }
    assert not spec_problems("TMF620", "EventSubscription", body)

    other = TmfClient(
        issue_token(make_user(Role.DEPARTMENT_HEAD, username="head2"), "department_head")
    )
    assert_tmf_error(other.delete(f"{CATALOG}/hub/{body['id']}"), 404)

    assert head_api.delete(f"{CATALOG}/hub/{body['id']}/").status_code == 204
    assert not EventSubscription.objects.exists()
    assert_tmf_error(head_api.delete(f"{CATALOG}/hub/{body['id']}"), 404)


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"callback": "ftp://listener.example/cb"},
        {"callback": "not a url"},
        {"callback": ["http://listener.example/cb"]},
        {"callback": "http://listener.example/cb", "query": "eventType"},
    ],
)
def test_a_bad_subscription_is_400(head_api, body):
    assert_tmf_error(head_api.post(f"{CATALOG}/hub", body), 400)


def test_without_subscribers_nothing_is_written(head_api):
    response = head_api.post(f"{CATALOG}/productOffering", {"name": "无人订阅"})
    assert response.status_code == 201
    assert not OutboxEvent.objects.exists()


def test_a_state_change_is_delivered_after_failures_with_every_attempt_recorded(
    head_api, clock, django_capture_on_commit_callbacks
):
    offering = ProductOfferingFactory()
    with CallbackReceiver(failures=2) as receiver:
        subscribe(head_api, CATALOG, receiver.url, "eventType=ProductOfferingStateChangeEvent")
        with django_capture_on_commit_callbacks(execute=True):
            response = head_api.patch(
                f"{CATALOG}/productOffering/{offering.pk}", {"lifecycleStatus": "In design"}
            )
        assert response.status_code == 200

    assert receiver.statuses == [500, 500, 201]
    event = receiver.received[-1]
    assert event["eventType"] == "ProductOfferingStateChangeEvent"
    assert event["event"]["productOffering"]["lifecycleStatus"] == "In design"
    assert event["eventTime"].endswith("Z")
    assert not spec_problems("TMF620", "ProductOfferingStateChangeEvent", event)
    delivery = EventDelivery.objects.get()
    assert delivery.state == EventDelivery.State.DELIVERED
    attempts = list(delivery.attempts.values_list("number", "status_code", "succeeded"))
    assert attempts == [(1, 500, False), (2, 500, False), (3, 201, True)]
    assert "HTTP 500" in delivery.attempts.first().error
    assert OutboxEvent.objects.get().payload == event


def test_the_query_selects_the_events(head_api, clock, django_capture_on_commit_callbacks):
    offering = ProductOfferingFactory()
    with CallbackReceiver() as receiver:
        subscribe(head_api, CATALOG, receiver.url, "eventType=ProductOfferingCreateEvent")
        subscribe(head_api, CATALOG, receiver.url, "lifecycleStatus=In test")
        with django_capture_on_commit_callbacks(execute=True):
            head_api.patch(
                f"{CATALOG}/productOffering/{offering.pk}", {"lifecycleStatus": "In design"}
            )
            head_api.post(f"{CATALOG}/productOffering", {"name": "新建的产品"})
    assert [e["eventType"] for e in receiver.received] == ["ProductOfferingCreateEvent"]


@override_settings(TMF_EVENT_MAX_ATTEMPTS=3)
def test_a_delivery_gives_up_after_its_attempts_and_an_operator_can_resend(
    head_api, head, clock, django_capture_on_commit_callbacks
):
    with CallbackReceiver(failures=3) as receiver:
        subscribe(head_api, CATALOG, receiver.url)
        with django_capture_on_commit_callbacks(execute=True):
            head_api.post(f"{CATALOG}/category", {"name": "行业短信"})
        delivery = EventDelivery.objects.get()
        assert delivery.state == EventDelivery.State.FAILED
        assert delivery.attempt_count == 3

        with django_capture_on_commit_callbacks(execute=True):
            event_delivery_resend(delivery_id=delivery.pk, by=head, reason="对方已修复")
    delivery.refresh_from_db()
    assert delivery.state == EventDelivery.State.DELIVERED
    assert list(delivery.attempts.values_list("status_code", flat=True)) == [500, 500, 500, 201]


def test_an_unreachable_callback_records_the_error(
    head_api, clock, django_capture_on_commit_callbacks
):
    with CallbackReceiver() as receiver:
        url = receiver.url
    subscribe(head_api, CATALOG, url)  # the listener is closed now
    with (
        override_settings(TMF_EVENT_MAX_ATTEMPTS=2),
        django_capture_on_commit_callbacks(execute=True),
    ):
        head_api.post(f"{CATALOG}/catalog", {"name": "目录"})
    attempt = DeliveryAttempt.objects.first()
    assert attempt.status_code is None
    assert attempt.error
    assert EventDelivery.objects.get().state == EventDelivery.State.FAILED


def test_customer_events_reach_only_subscribers_who_may_see_the_customer(
    manager, other_manager, make_user, clock, django_capture_on_commit_callbacks
):
    mine = EnterpriseFactory(account_manager=manager, name="我的客户有限公司")
    theirs = EnterpriseFactory(account_manager=other_manager, name="别人的客户有限公司")
    portal_user = make_user(Role.ENTERPRISE_ADMIN, username="ent_admin")
    EnterpriseMembership.objects.create(user=portal_user, enterprise=theirs)
    with CallbackReceiver() as manager_listener, CallbackReceiver() as enterprise_listener:
        subscribe(
            TmfClient(issue_token(manager, Role.CUSTOMER_MANAGER)), CUSTOMER, manager_listener.url
        )
        enterprise_api = TmfClient(
            issue_token(portal_user, Role.ENTERPRISE_ADMIN, enterprise=theirs)
        )
        subscribe(enterprise_api, CUSTOMER, enterprise_listener.url)
        with django_capture_on_commit_callbacks(execute=True):
            head_api = TmfClient(issue_token(make_user(Role.DEPARTMENT_HEAD), "department_head"))
            for enterprise in (mine, theirs):
                response = head_api.patch(
                    f"{CUSTOMER}/customer/{enterprise.pk}", {"name": enterprise.name + "（更名）"}
                )
                assert response.status_code == 200
    assert [e["event"]["customer"]["id"] for e in manager_listener.received] == [str(mine.pk)]
    assert [e["event"]["customer"]["id"] for e in enterprise_listener.received] == [str(theirs.pk)]
    event = manager_listener.received[0]
    assert event["eventType"] == "CustomerAttributeValueChangeEvent"
    assert not spec_problems("TMF629", "CustomerAttributeValueChangeEvent", event)


def test_an_enterprise_may_not_subscribe_to_the_catalog(make_user):
    portal_user = make_user(Role.ENTERPRISE_ADMIN, username="ent_admin")
    enterprise = EnterpriseFactory()
    EnterpriseMembership.objects.create(user=portal_user, enterprise=enterprise)
    api = TmfClient(issue_token(portal_user, Role.ENTERPRISE_ADMIN, enterprise=enterprise))
    assert_tmf_error(api.post(f"{CATALOG}/hub", {"callback": "http://x.example/cb"}), 403)


def test_attempts_are_visible_in_the_admin(
    head_api, client, clock, django_capture_on_commit_callbacks, make_user
):
    with CallbackReceiver(failures=1) as receiver:
        subscribe(head_api, CATALOG, receiver.url)
        with django_capture_on_commit_callbacks(execute=True):
            head_api.post(f"{CATALOG}/catalog", {"name": "政企目录"})
    delivery = EventDelivery.objects.get()
    client.force_login(make_user(Role.DEPARTMENT_HEAD, username="boss"))
    page = client.get(reverse("admin:core_eventdelivery_change", args=[delivery.pk]))
    assert page.status_code == 200
    body = page.content.decode()
    assert "500" in body and "201" in body and receiver.url in body
    listing = client.get(reverse("admin:core_outboxevent_changelist"))
    assert "CatalogCreateEvent" in listing.content.decode()
