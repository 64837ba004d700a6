"""TMF678 customerBill API: reading bills and rated charges, the state PATCH (onHold),
on-demand bills processed asynchronously, events on the hub, and enterprise scoping."""

import datetime as dt

import pytest

from billing.models import BillingRequest, Invoice
from core.models import EventSubscription, OutboxEvent
from core.roles import Role
from customers.models import EnterpriseMembership
from tests.billing.factories import bill_quarter, freeze_on, subscription_activated
from tests.fulfillment.factories import committing
from tests.tmf import TmfClient, assert_tmf_error, issue_token, spec_problems

BASE = "/tmf-api/customerBillManagement/v4"
pytestmark = pytest.mark.django_db


@pytest.fixture
def bills(clock, manager, other_manager):
    a = subscription_activated(manager, dt.date(2026, 10, 1))
    b = subscription_activated(other_manager, dt.date(2026, 10, 1))
    freeze_on(dt.date(2026, 12, 17))
    return bill_quarter(a, dt.date(2027, 1, 1)), bill_quarter(b, dt.date(2027, 1, 1))


def enterprise_api(invoice, make_user):
    enterprise = invoice.account.enterprise
    user = make_user(Role.ENTERPRISE_ADMIN, username=f"ent_{enterprise.pk}")
    EnterpriseMembership.objects.create(user=user, enterprise=enterprise)
    return TmfClient(issue_token(user, Role.ENTERPRISE_ADMIN, enterprise=enterprise))


def test_finance_reads_bills_with_document_account_and_rates(bills, finance):
    api = TmfClient(issue_token(finance, Role.FINANCE))
    response = api.get(f"{BASE}/customerBill")
    assert response.status_code == 200
    assert response["X-Total-Count"] == "2"
    bill = api.get(f"{BASE}/customerBill/{bills[0].pk}").json()
    assert bill["@type"] == "CustomerBill"
    assert bill["billNo"] == bills[0].number
    assert bill["state"] == "sent"
    assert bill["amountDue"] == {"unit": "CNY", "value": 2400.0}
    assert bill["billingAccount"]["id"] == bills[0].account.number
    assert not spec_problems("TMF678", "CustomerBill", bill)
    pdf = api.get(bill["billDocument"][0]["url"].removeprefix("http://testserver"))
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    rates = api.get(
        f"{BASE}/appliedCustomerBillingRate?billingAccount.id={bills[0].account.number}"
    )
    assert rates.status_code == 200
    assert len(rates.json()) == 12  # October to March, port + package
    assert all(rate["isBilled"] for rate in rates.json())
    filtered = api.get(f"{BASE}/customerBill?billNo={bills[1].number}").json()
    assert [b["id"] for b in filtered] == [str(bills[1].pk)]


def test_enterprise_sees_only_its_own_bills_and_disputes_with_onhold(bills, make_user):
    mine, theirs = bills
    api = enterprise_api(mine, make_user)
    assert [b["id"] for b in api.get(f"{BASE}/customerBill").json()] == [str(mine.pk)]
    assert_tmf_error(api.get(f"{BASE}/customerBill/{theirs.pk}"), 404)
    assert_tmf_error(api.get(f"{BASE}/customerBill/{theirs.pk}/document.pdf"), 404)
    response = api.patch(
        f"{BASE}/customerBill/{mine.pk}", {"state": "onHold", "onHoldReason": "超出条数有误"}
    )
    assert response.status_code == 200, response.content
    assert response.json()["state"] == "onHold"
    mine.refresh_from_db()
    assert mine.state == Invoice.State.ON_HOLD and mine.hold_reason == "超出条数有误"
    # The enterprise cannot release its own dispute, nor settle a bill by PATCH.
    error = assert_tmf_error(api.patch(f"{BASE}/customerBill/{mine.pk}", {"state": "sent"}), 409)
    assert "onHold" in error["message"]


def test_finance_releases_and_refused_moves_are_409(bills, finance):
    api = TmfClient(issue_token(finance, Role.FINANCE))
    bill = bills[0]
    assert_tmf_error(api.patch(f"{BASE}/customerBill/{bill.pk}", {"state": "settled"}), 409)
    api.patch(f"{BASE}/customerBill/{bill.pk}", {"state": "onHold"})
    response = api.patch(f"{BASE}/customerBill/{bill.pk}", {"state": "sent"})
    assert response.status_code == 200 and response.json()["state"] == "sent"


def test_on_demand_bill_is_accepted_then_done_or_rejected(bills, finance, clock):
    api = TmfClient(issue_token(finance, Role.FINANCE))
    with committing():
        unknown = api.post(f"{BASE}/customerBillOnDemand", {"billingAccount": {"id": "BA404"}})
    assert unknown.status_code == 201
    assert unknown.json()["state"] == "inProgress"
    request = BillingRequest.objects.get(pk=unknown.json()["id"])
    assert request.state == "rejected" and "BA404" in request.rejection_reason
    assert api.get(f"{BASE}/customerBillOnDemand/{request.pk}").json()["state"] == "rejected"
    assert_tmf_error(api.post(f"{BASE}/customerBillOnDemand", {"name": "x"}), 400)
    # Nothing unbilled: rejected with the reason too.
    account = bills[0].account.number
    with committing():
        response = api.post(f"{BASE}/customerBillOnDemand", {"billingAccount": {"id": account}})
    done = api.get(f"{BASE}/customerBillOnDemand/{response.json()['id']}").json()
    assert done["state"] == "rejected"


def test_hub_receives_bill_create_and_state_change_events(clock, manager, head):
    sub = subscription_activated(manager, dt.date(2026, 10, 1))
    EventSubscription.objects.create(
        api="customerBillManagement", callback="http://127.0.0.1:9/cb", owner=head
    )
    freeze_on(dt.date(2026, 12, 17))
    invoice = bill_quarter(sub, dt.date(2027, 1, 1))
    from billing import services

    with committing():
        services.invoice_hold(invoice_id=invoice.pk, by=head, reason="争议")
    types = list(OutboxEvent.objects.order_by("id").values_list("event_type", flat=True))
    assert types == ["CustomerBillCreateEvent", "CustomerBillStateChangeEvent"]
    event = OutboxEvent.objects.order_by("id").last().payload
    assert event["event"]["customerBill"]["state"] == "onHold"
