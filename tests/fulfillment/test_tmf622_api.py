"""TMF622 productOrder and cancelProductOrder: orders placed, followed, changed and
cancelled over the API, their events on the hub, and who sees what."""

import datetime as dt
import json

import pytest

from core.models import OutboxEvent
from core.roles import Role
from customers.models import EnterpriseMembership
from fulfillment.models import CancellationRequest, Order, Subscription
from tests.fulfillment.factories import (
    active_subscription,
    committing,
    inventory,
    next_ip,
    one_month_later,
    ready_enterprise,
)
from tests.product_lifecycle.factories import priced_offering
from tests.tmf import (
    ORDERING,
    CallbackReceiver,
    TmfClient,
    assert_tmf_error,
    issue_token,
    spec_problems,
)

pytestmark = pytest.mark.django_db

ORDERS = f"{ORDERING}/productOrder"
CANCELS = f"{ORDERING}/cancelProductOrder"


def characteristic(name, value):
    return {"name": name, "value": value}


def add_item(offering, *, item_id="1", access_ip=None, **extra) -> dict:
    return {
        "id": item_id,
        "action": "add",
        "productOffering": {"id": str(offering.pk), "@referredType": "ProductOffering"},
        "product": {
            "productCharacteristic": [
                characteristic("cmppVersion", "3.0"),
                characteristic("interfaceType", "cmpp"),
                characteristic("accessIp", access_ip or next_ip()),
                characteristic("contactName", "张工"),
                characteristic("contactPhone", "13803710000"),
            ]
        },
        **extra,
    }


def customer(enterprise) -> dict:
    return {"id": str(enterprise.pk), "role": "Customer", "@referredType": "Customer"}


def order_body(enterprise, offering, **extra) -> dict:
    return {
        "externalId": "ERP-0001",
        "description": "开通集团短信",
        "requestedStartDate": "2026-11-25T02:00:00Z",
        "relatedParty": [customer(enterprise)],
        "productOrderItem": [add_item(offering)],
        **extra,
    }


@pytest.fixture
def manager_api(manager):
    return TmfClient(issue_token(manager, Role.CUSTOMER_MANAGER))


@pytest.fixture
def head_api(head):
    return TmfClient(issue_token(head, Role.DEPARTMENT_HEAD))


@pytest.fixture
def shop(clock, manager):
    """Inventory, a launched offering and a ready enterprise of `manager`."""
    inventory(codes=5, ports=5)
    return ready_enterprise(manager), priced_offering()


def enterprise_api(make_user, enterprise, username="ent_admin") -> TmfClient:
    user = make_user(Role.ENTERPRISE_ADMIN, username=username)
    EnterpriseMembership.objects.create(user=user, enterprise=enterprise)
    return TmfClient(issue_token(user, Role.ENTERPRISE_ADMIN, enterprise=enterprise))


def place(api, body) -> dict:
    with committing():
        response = api.post(ORDERS, body)
    assert response.status_code == 201, response.content
    return response.json()


def test_an_add_order_is_acknowledged_at_once_and_then_completes(manager_api, shop):
    enterprise, offering = shop
    with committing():
        response = manager_api.post(
            ORDERS, order_body(enterprise, offering, state="completed", orderDate="2001-01-01")
        )

    assert response.status_code == 201, response.content
    created = response.json()
    assert response["Location"] == created["href"]
    assert created["state"] == "acknowledged"
    assert created["orderDate"] == "2026-11-25T02:00:00.000Z"
    assert created["externalId"] == "ERP-0001"
    assert created["relatedParty"][0]["name"] == enterprise.name
    assert created["relatedParty"][0]["href"].endswith(f"/customer/{enterprise.pk}")
    item = created["productOrderItem"][0]
    assert (item["id"], item["action"], item["state"]) == ("1", "add", "acknowledged")
    assert item["productOffering"]["name"] == offering.name
    assert {p["name"]: p["price"]["taxIncludedAmount"]["value"] for p in item["itemPrice"]} == {
        "端口费": 100.0,
        "包月费": 300.0,
        "超出单价": 0.05,
    }
    assert not spec_problems("TMF622", "ProductOrder", created)

    order = Order.objects.get(pk=created["id"])
    assert order.channel == Order.Channel.TMF and order.state == Order.State.COMPLETED
    done = manager_api.get(f"{ORDERS}/{created['id']}").json()
    assert done["state"] == "completed"
    assert done["completionDate"] == "2026-11-25T02:00:00.000Z"
    subscription = Subscription.objects.get(order=order)
    product = done["productOrderItem"][0]["product"]
    assert product["id"] == str(subscription.pk)
    values = {c["name"]: c["value"] for c in product["productCharacteristic"]}
    assert values["serviceCode"] == subscription.service_code.code
    assert values["cmppVersion"] == "3.0" and values["serviceCodeProvince"] == "41"
    assert done["productOrderItem"][0]["state"] == "completed"
    assert not spec_problems("TMF622", "ProductOrder", done)


def test_an_unknown_offering_and_party_is_created_and_rejected_with_the_reasons(manager_api, shop):
    body = {
        "relatedParty": [{"id": "org-404", "role": "customer", "@referredType": "Organization"}],
        "productOrderItem": [
            {"id": "A", "action": "add", "productOffering": {"id": "po-unknown", "name": "x"}}
        ],
        "note": [{"text": "请尽快开通"}],
    }
    created = place(manager_api, body)

    assert created["state"] == "rejected"
    assert created["productOrderItem"][0]["state"] == "rejected"
    assert created["productOrderItem"][0]["productOffering"] == {"id": "po-unknown", "name": "x"}
    assert created["relatedParty"] == body["relatedParty"]
    notes = created["note"]
    assert notes[0] == {"text": "请尽快开通"}
    reasons = " ".join(n["text"] for n in notes[1:])
    for code in ("unknown_enterprise", "unknown_offering", "notice_incomplete"):
        assert f"[{code}]" in reasons
    assert "订单项 A" in reasons
    assert all(n["author"] == "资格审核" for n in notes[1:])
    assert not spec_problems("TMF622", "ProductOrder", created)
    assert manager_api.get(f"{ORDERS}/{created['id']}").json() == created


def test_eligibility_rules_of_the_agreement_are_named_in_the_rejection(manager_api, shop):
    enterprise, offering = shop
    first = place(manager_api, order_body(enterprise, offering))
    ip = first["productOrderItem"][0]["product"]["productCharacteristic"][2]["value"]
    body = order_body(enterprise, offering)
    body["productOrderItem"] = [add_item(offering, access_ip=ip)]
    body["productOrderItem"][0]["product"]["productCharacteristic"].append(
        characteristic("serviceCodeProvince", "11")
    )
    second = place(manager_api, body)
    assert second["state"] == "rejected"
    texts = [n["text"] for n in second["note"]]
    assert any(t.startswith("第5条第6款 [access_ip_in_use]") for t in texts)
    assert any(t.startswith("第5条第5款 [province_mismatch]") for t in texts)


def test_a_malformed_order_is_400_and_nothing_is_written(manager_api, shop):
    enterprise, offering = shop
    for body in (
        {"productOrderItem": []},
        {"productOrderItem": [{"id": "1"}]},
        {"productOrderItem": [{"id": "1", "action": "replace"}]},
        {"productOrderItem": [{"id": "1", "action": "add"}, {"id": "1", "action": "add"}]},
        {"productOrderItem": {"id": "1", "action": "add"}},
        {**order_body(enterprise, offering), "requestedStartDate": "next monday"},
    ):
        assert_tmf_error(manager_api.post(ORDERS, body), 400)
    assert not Order.objects.exists()


def test_a_manager_cannot_order_for_someone_elses_enterprise(
    manager_api, other_manager, shop, make_user
):
    _enterprise, offering = shop
    foreign = ready_enterprise(other_manager)
    created = place(manager_api, order_body(foreign, offering))

    assert created["state"] == "rejected"
    assert "[unknown_enterprise]" in created["note"][0]["text"]
    assert "name" not in created["relatedParty"][0]
    assert not Order.objects.filter(enterprise=foreign).exists()
    assert manager_api.get(f"{ORDERS}/{created['id']}").status_code == 200
    other_api = TmfClient(issue_token(other_manager, Role.CUSTOMER_MANAGER))
    assert_tmf_error(other_api.get(f"{ORDERS}/{created['id']}"), 404)


def test_an_enterprise_orders_for_itself_and_sees_only_its_own_orders(
    manager_api, shop, make_user, manager
):
    enterprise, offering = shop
    other = ready_enterprise(manager)
    theirs = place(manager_api, order_body(other, offering))
    api = enterprise_api(make_user, enterprise)

    body = order_body(other, offering)  # names another enterprise: ordered for itself
    mine = place(api, body)

    assert mine["relatedParty"][0]["id"] == str(enterprise.pk)
    assert Order.objects.get(pk=mine["id"]).enterprise == enterprise
    assert [o["id"] for o in api.get(ORDERS).json()] == [mine["id"]]
    assert api.get(ORDERS)["X-Total-Count"] == "1"
    url = f"{ORDERS}/{theirs['id']}"
    assert_tmf_error(api.get(url), 404)
    assert_tmf_error(api.patch(url, {"description": "改"}), 404)
    assert_tmf_error(api.delete(url), 403)
    refused = api.post(CANCELS, {"productOrder": {"id": theirs["id"]}})
    assert refused.status_code == 201
    assert refused.json()["state"] == "terminatedWithError"
    assert Order.objects.get(pk=theirs["id"]).state == Order.State.COMPLETED
    unknown = api.post(CANCELS, {"productOrder": {"id": "999999"}}).json()
    assert refused.json()["stateReason"].replace(theirs["id"], "") == unknown[
        "stateReason"
    ].replace("999999", "")
    assert [c["id"] for c in api.get(CANCELS).json()] == [unknown["id"], refused.json()["id"]]
    assert_tmf_error(manager_api.get(f"{CANCELS}/{unknown['id']}"), 404)


def test_roles_without_orders_are_refused(make_user, shop):
    for role in (Role.NOC_ENGINEER, Role.FINANCE):
        api = TmfClient(issue_token(make_user(role, username=f"u_{role.value}"), role))
        assert_tmf_error(api.get(ORDERS), 403)
        assert_tmf_error(
            api.post(ORDERS, {"productOrderItem": [{"id": "1", "action": "add"}]}), 403
        )
        assert_tmf_error(api.get(CANCELS), 403)
    assert not Order.objects.exists()


def test_collections_filter_and_project(manager_api, shop, clock):
    enterprise, offering = shop
    rejected = place(manager_api, {"productOrderItem": [{"id": "1", "action": "add"}]})
    clock.advance(minutes=1)
    accepted = place(manager_api, order_body(enterprise, offering, externalId="ERP-9"))

    listed = manager_api.get(ORDERS).json()
    assert [o["id"] for o in listed] == [accepted["id"], rejected["id"]]

    def ids(query):
        return [o["id"] for o in manager_api.get(f"{ORDERS}?{query}").json()]

    assert ids("state=rejected") == [rejected["id"]]
    assert ids("state=completed") == [accepted["id"]]
    assert ids("externalId=ERP-9") == [accepted["id"]]
    assert ids(f"relatedParty.id={enterprise.pk}") == [accepted["id"]]
    assert ids(f"productOrderItem.productOffering.id={offering.pk}") == [accepted["id"]]
    assert ids(f"orderDate={accepted['orderDate']}") == [accepted["id"]]
    assert ids("state=acknowledged") == []
    projected = manager_api.get(f"{ORDERS}?fields=state,externalId").json()
    assert projected[0] == {
        "id": accepted["id"],
        "href": accepted["href"],
        "state": "completed",
        "externalId": "ERP-9",
    }
    one = manager_api.get(f"{ORDERS}/{accepted['id']}?fields=state").json()
    assert one == {"state": "completed"}


def test_drafts_prepared_in_the_admin_are_not_in_the_api(manager_api, manager, shop):
    from fulfillment import services
    from fulfillment.services import ItemRequest

    enterprise, offering = shop
    draft = services.order_create(
        by=manager,
        enterprise=enterprise.pk,
        items=[ItemRequest(action="add", offering=offering.pk)],
        submit=False,
    )
    assert manager_api.get(ORDERS).json() == []
    assert_tmf_error(manager_api.get(f"{ORDERS}/{draft.pk}"), 404)


def test_patch_changes_what_the_order_says_not_what_it_does(manager_api, shop):
    enterprise, offering = shop
    created = place(
        manager_api,
        order_body(enterprise, offering, requestedStartDate="2026-12-01T00:00:00Z"),
    )
    url = f"{ORDERS}/{created['id']}"
    assert created["state"] == "acknowledged"

    response = manager_api.patch(
        url,
        {
            "description": "改为下周开通",
            "externalId": "ERP-2",
            "priority": "1",
            "note": [{"text": "客户来电确认"}],
            "requestedCompletionDate": "2026-12-05T00:00:00Z",
            "billingAccount": {"id": "ba-1", "@referredType": "BillingAccount"},
        },
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["description"], body["externalId"], body["priority"]) == (
        "改为下周开通",
        "ERP-2",
        "1",
    )
    assert body["note"] == [{"text": "客户来电确认"}]
    assert body["requestedCompletionDate"] == "2026-12-05T00:00:00.000Z"
    assert body["billingAccount"]["id"] == "ba-1"
    assert manager_api.patch(url, created).status_code == 200  # the order as it is: fine

    items = created["productOrderItem"]
    changed = [{**items[0], "action": "delete"}]
    error = assert_tmf_error(manager_api.patch(url, {"productOrderItem": changed}), 409)
    assert "cancelProductOrder" in error["message"]
    assert_tmf_error(manager_api.patch(url, {"requestedStartDate": "2027-01-01T00:00:00Z"}), 409)
    other = ready_enterprise(Order.objects.get(pk=created["id"]).created_by)
    assert_tmf_error(manager_api.patch(url, {"relatedParty": [customer(other)]}), 409)
    assert_tmf_error(manager_api.patch(url, {"productOrderItem": None}), 400)
    assert Order.objects.get(pk=created["id"]).items.get().action == "add"


def test_staff_move_an_open_order_through_patch_and_refusals_are_409(manager_api, shop, make_user):
    enterprise, offering = shop
    created = place(
        manager_api,
        order_body(enterprise, offering, requestedStartDate="2026-12-01T00:00:00Z"),
    )
    url = f"{ORDERS}/{created['id']}"

    assert manager_api.patch(url, {"state": "held"}).json()["state"] == "held"
    error = assert_tmf_error(manager_api.patch(url, {"state": "completed"}), 409)
    assert set(error["allowedValues"]) == {"held", "acknowledged", "failed"}
    with committing():
        assert manager_api.patch(url, {"state": "acknowledged"}).json()["state"] == "acknowledged"
    assert manager_api.patch(url, {"state": "pending"}).json()["state"] == "pending"
    assert_tmf_error(manager_api.patch(url, {"state": "cancelled"}), 409)
    assert_tmf_error(manager_api.patch(url, {"state": "notAState"}), 400)

    api = enterprise_api(make_user, enterprise)
    error = assert_tmf_error(api.patch(url, {"state": "acknowledged"}), 409)
    assert error["allowedValues"] == ["pending"]
    assert api.patch(url, {"state": "pending", "description": "企业补充说明"}).status_code == 200
    with committing():
        failed = manager_api.patch(url, {"state": "failed"}).json()
    assert failed["state"] == "failed"
    assert failed["productOrderItem"][0]["state"] == "failed"


def test_only_orders_that_did_nothing_can_be_deleted(manager_api, shop):
    enterprise, offering = shop
    done = place(manager_api, order_body(enterprise, offering))
    rejected = place(manager_api, {"productOrderItem": [{"id": "1", "action": "add"}]})

    error = assert_tmf_error(manager_api.delete(f"{ORDERS}/{done['id']}"), 409)
    assert "已拒绝或已撤销" in error["message"]
    assert manager_api.delete(f"{ORDERS}/{rejected['id']}").status_code == 204
    assert_tmf_error(manager_api.get(f"{ORDERS}/{rejected['id']}"), 404)


def test_cancelling_an_order_that_has_not_started_releases_it(manager_api, shop):
    enterprise, offering = shop
    created = place(
        manager_api,
        order_body(enterprise, offering, requestedStartDate="2026-12-01T00:00:00Z"),
    )
    with committing():
        response = manager_api.post(
            CANCELS,
            {
                "productOrder": {"id": created["id"], "@referredType": "ProductOrder"},
                "cancellationReason": "客户改用其他方案",
                "requestedCancellationDate": "2026-11-25T03:00:00Z",
            },
        )
    assert response.status_code == 201, response.content
    cancellation = response.json()
    assert response["Location"] == cancellation["href"]
    assert cancellation["state"] == "inProgress"
    assert cancellation["productOrder"]["href"] == created["href"]
    assert cancellation["requestedCancellationDate"] == "2026-11-25T03:00:00.000Z"
    assert not spec_problems("TMF622", "CancelProductOrder", cancellation)

    done = manager_api.get(cancellation["href"].removeprefix("http://testserver")).json()
    assert done["state"] == "done"
    assert done["effectiveCancellationDate"] == "2026-11-25T02:00:00.000Z"
    order = manager_api.get(f"{ORDERS}/{created['id']}").json()
    assert order["state"] == "cancelled"
    assert order["cancellationReason"] == "客户改用其他方案"
    assert order["cancellationDate"] == "2026-11-25T02:00:00.000Z"
    assert order["productOrderItem"][0]["state"] == "cancelled"
    assert [c["id"] for c in manager_api.get(f"{CANCELS}?state=done").json()] == [done["id"]]
    assert [
        c["id"] for c in manager_api.get(f"{CANCELS}?productOrder.id={created['id']}").json()
    ] == [done["id"]]


def test_a_completed_order_cannot_be_cancelled(manager_api, shop):
    enterprise, offering = shop
    created = place(manager_api, order_body(enterprise, offering))
    response = manager_api.post(CANCELS, {"productOrder": {"id": created["id"]}})
    assert response.status_code == 201
    assert response.json()["state"] == "terminatedWithError"
    assert "已完成" in response.json()["stateReason"]
    assert manager_api.get(f"{ORDERS}/{created['id']}").json()["state"] == "completed"
    assert CancellationRequest.objects.get().state == "terminatedWithError"


def test_cancel_requests_have_no_patch_or_delete(manager_api, shop):
    created = place(manager_api, {"productOrderItem": [{"id": "1", "action": "add"}]})
    cancel = manager_api.post(CANCELS, {"productOrder": {"id": created["id"]}}).json()
    url = f"{CANCELS}/{cancel['id']}"
    assert_tmf_error(manager_api.patch(url, {"cancellationReason": "x"}), 405)
    assert_tmf_error(manager_api.delete(url), 405)
    assert_tmf_error(manager_api.post(CANCELS, {"cancellationReason": "x"}), 400)
    assert_tmf_error(manager_api.get(f"{CANCELS}/abc"), 404)


def test_suspend_and_resume_are_modify_items_with_the_product_status(manager_api, manager, clock):
    subscription = active_subscription(manager)
    body = {
        "relatedParty": [customer(subscription.enterprise)],
        "productOrderItem": [
            {
                "id": "1",
                "action": "modify",
                "product": {"id": str(subscription.pk), "status": "suspended"},
            }
        ],
    }
    placed = place(manager_api, body)
    assert placed["state"] == "acknowledged", placed.get("note")
    suspended = manager_api.get(f"{ORDERS}/{placed['id']}").json()
    assert suspended["state"] == "completed"
    item = suspended["productOrderItem"][0]
    assert item["action"] == "modify" and item["product"]["status"] == "suspended"
    subscription.refresh_from_db()
    assert subscription.state == Subscription.State.SUSPENDED

    body["productOrderItem"][0]["product"]["status"] = "active"
    resumed = place(manager_api, body)
    assert resumed["state"] == "acknowledged", resumed.get("note")
    assert manager_api.get(f"{ORDERS}/{resumed['id']}").json()["state"] == "completed"
    subscription.refresh_from_db()
    assert subscription.state == Subscription.State.ACTIVE


def test_a_change_needs_a_months_notice_over_the_api_too(manager_api, manager, clock):
    subscription = active_subscription(manager)
    change = {
        "id": "1",
        "action": "modify",
        "product": {
            "id": str(subscription.pk),
            "productCharacteristic": [characteristic("cmppVersion", "2.0")],
        },
    }
    body = {"relatedParty": [customer(subscription.enterprise)], "productOrderItem": [change]}
    early = place(manager_api, {**body, "requestedStartDate": "2026-12-01T00:00:00Z"})
    assert early["state"] == "rejected"
    assert any("[notice_period_too_short]" in n["text"] for n in early["note"])
    later = one_month_later().astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert place(manager_api, {**body, "requestedStartDate": later})["state"] == "acknowledged"


def test_order_events_reach_their_subscribers_only(manager_api, shop, make_user, manager):
    enterprise, offering = shop
    other = ready_enterprise(manager)
    api = enterprise_api(make_user, enterprise)
    with CallbackReceiver() as staff_listener, CallbackReceiver() as enterprise_listener:
        for client, listener in ((manager_api, staff_listener), (api, enterprise_listener)):
            response = client.post(f"{ORDERING}/hub", {"callback": listener.url})
            assert response.status_code == 201
        place(manager_api, order_body(enterprise, offering))
        place(manager_api, order_body(other, offering))
        place(manager_api, {"productOrderItem": [{"id": "1", "action": "add"}]})

    kinds = [(e["eventType"], e["event"]["productOrder"]["state"]) for e in staff_listener.received]
    assert kinds == [
        ("ProductOrderCreateEvent", "acknowledged"),
        ("ProductOrderStateChangeEvent", "inProgress"),
        ("ProductOrderStateChangeEvent", "completed"),
        ("ProductOrderCreateEvent", "acknowledged"),
        ("ProductOrderStateChangeEvent", "inProgress"),
        ("ProductOrderStateChangeEvent", "completed"),
        ("ProductOrderCreateEvent", "rejected"),
    ]
    mine = {
        e["event"]["productOrder"]["relatedParty"][0]["id"] for e in enterprise_listener.received
    }
    assert mine == {str(enterprise.pk)} and len(enterprise_listener.received) == 3
    for event in staff_listener.received:
        assert not spec_problems("TMF622", event["eventType"], event)
        assert event["event"]["productOrder"]["href"].startswith("http")
    assert OutboxEvent.objects.filter(api="productOrderingManagement").count() == 7


def test_a_hub_query_selects_state_changes(manager_api, shop):
    enterprise, offering = shop
    with CallbackReceiver() as listener:
        manager_api.post(
            f"{ORDERING}/hub",
            {
                "callback": listener.url,
                "query": "eventType=ProductOrderStateChangeEvent&state=completed",
            },
        )
        place(manager_api, order_body(enterprise, offering))
    assert [e["event"]["productOrder"]["state"] for e in listener.received] == ["completed"]


def test_an_order_made_in_the_admin_reads_well_over_tmf(manager_api, manager, shop):
    from tests.fulfillment.factories import add_order

    enterprise, offering = shop
    order = add_order(manager, enterprise=enterprise, offering=offering)
    body = manager_api.get(f"{ORDERS}/{order.pk}").json()
    assert body["state"] == "completed"
    assert body["relatedParty"][0]["id"] == str(enterprise.pk)
    assert not spec_problems("TMF622", "ProductOrder", body)


def test_an_enterprise_users_session_is_scoped_like_its_token(client, make_user, manager, shop):
    enterprise, offering = shop
    other = ready_enterprise(manager)
    user = make_user(Role.ENTERPRISE_OPERATOR, username="ent_op")
    EnterpriseMembership.objects.create(user=user, enterprise=enterprise)
    client.force_login(user)
    with committing():
        response = client.post(
            ORDERS, json.dumps(order_body(other, offering)), content_type="application/json"
        )
    assert response.status_code == 201
    assert response.json()["relatedParty"][0]["id"] == str(enterprise.pk)
    assert [o["id"] for o in client.get(ORDERS).json()] == [response.json()["id"]]


def test_a_cancelled_order_can_be_deleted_with_its_cancellation(manager_api, shop):
    enterprise, offering = shop
    created = place(
        manager_api,
        order_body(enterprise, offering, requestedStartDate="2026-12-01T00:00:00Z"),
    )
    with committing():
        cancel = manager_api.post(CANCELS, {"productOrder": {"id": created["id"]}}).json()
    assert manager_api.delete(f"{ORDERS}/{created['id']}").status_code == 204
    assert_tmf_error(manager_api.get(f"{ORDERS}/{created['id']}"), 404)
    assert_tmf_error(manager_api.get(f"{CANCELS}/{cancel['id']}"), 404)
