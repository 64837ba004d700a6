"""TMF621 troubleTicket: the reporter's words kept, the fault class and clock as extension
attributes, status changes through the state machine, enterprise scoping and events."""

import pytest

from assurance.models import Ticket, TicketNote
from core.models import OutboxEvent
from core.roles import Role
from tests.assurance.factories import active_subscription, noc_user
from tests.customers.factories import active_enterprise
from tests.portal.factories import enterprise_user
from tests.tmf import TROUBLE, TmfClient, assert_tmf_error, issue_token, spec_problems

pytestmark = pytest.mark.django_db
URL = f"{TROUBLE}/troubleTicket"


@pytest.fixture
def subscription(clock, manager):
    return active_subscription(manager)


@pytest.fixture
def noc(make_user):
    return noc_user(make_user)


@pytest.fixture
def noc_api(noc):
    return TmfClient(issue_token(noc, Role.NOC_ENGINEER))


@pytest.fixture
def enterprise_api(subscription):
    user = enterprise_user(subscription.enterprise)
    return TmfClient(issue_token(user, Role.ENTERPRISE_ADMIN, enterprise=subscription.enterprise))


def report(api, subscription, **extra):
    body = {
        "description": "短信全部发送失败",
        "severity": "Major",
        "ticketType": "connectivity",
        "relatedEntity": [
            {"id": str(subscription.pk), "role": "affectedService", "@referredType": "Product"}
        ],
        **extra,
    }
    response = api.post(URL, body)
    assert response.status_code == 201, response.content
    return response.json()


def test_an_enterprise_reports_a_fault_and_sees_its_clock(enterprise_api, subscription):
    body = report(enterprise_api, subscription, note=[{"text": "从 9 点开始"}])
    assert not spec_problems("TMF621", "TroubleTicket", body)
    assert body["status"] == "acknowledged"
    assert body["severity"] == "Major" and body["ticketType"] == "connectivity"
    assert body["faultClass"]["code"] == "local_line"
    clock = body["repairClock"]
    assert clock["targetHours"] == 6 and clock["timeLeftSeconds"] == 6 * 3600
    assert clock["deadline"] == "2026-11-25T08:00:00.000Z" == body["expectedResolutionDate"]
    assert clock["breached"] is False and clock["paused"] is False
    customer = next(p for p in body["relatedParty"] if p["role"] == "customer")
    assert customer["id"] == str(subscription.enterprise_id)
    ticket = Ticket.objects.get(pk=body["id"])
    assert ticket.channel == "api" and ticket.enterprise == subscription.enterprise
    assert ticket.notes.get().public


def test_an_enterprise_cannot_set_the_fault_class(enterprise_api, subscription):
    body = {"description": "x", "severity": "minor", "ticketType": "t", "faultClass": "backbone"}
    assert_tmf_error(enterprise_api.post(URL, body), 403)


def test_an_enterprise_sees_only_its_tickets_and_public_notes(
    enterprise_api, noc_api, subscription, manager
):
    mine = report(enterprise_api, subscription)
    noc_api.patch(
        f"{URL}/{mine['id']}", {"note": [{"text": "内部：光缆", "visibility": "internal"}]}
    )
    noc_api.patch(f"{URL}/{mine['id']}", {"note": [{"text": "正在处理", "visibility": "public"}]})
    other = active_subscription(manager)
    theirs = report(noc_api, other)
    listed = enterprise_api.get(URL).json()
    assert [t["id"] for t in listed] == [mine["id"]]
    assert_tmf_error(enterprise_api.get(f"{URL}/{theirs['id']}"), 404)
    assert_tmf_error(enterprise_api.patch(f"{URL}/{theirs['id']}", {"status": "cancelled"}), 404)
    texts = [n["text"] for n in enterprise_api.get(f"{URL}/{mine['id']}").json()["note"]]
    assert texts == ["正在处理"]
    staff_notes = noc_api.get(f"{URL}/{mine['id']}").json()["note"]
    assert {n["visibility"] for n in staff_notes} == {"public", "internal"}


def test_an_enterprise_cannot_report_against_another_enterprises_subscription(
    enterprise_api, subscription, manager
):
    other = active_subscription(manager)
    body = report(enterprise_api, other)
    ticket = Ticket.objects.get(pk=body["id"])
    assert ticket.enterprise == subscription.enterprise
    assert not ticket.affected_subscriptions.exists()  # kept as a dangling reference


def test_noc_works_the_ticket_through_status(noc_api, enterprise_api, subscription, noc, clock):
    created = report(enterprise_api, subscription)
    url = f"{URL}/{created['id']}"
    claimed = noc_api.patch(url, {"status": "inProgress"}).json()
    assert claimed["status"] == "inProgress"
    owner = next(p for p in claimed["relatedParty"] if p["role"] == "firstContactOwner")
    assert owner["id"] == str(noc.pk)
    clock.advance(hours=1)
    paused = noc_api.patch(url, {"status": "pending", "statusChangeReason": "请提供日志"}).json()
    assert paused["repairClock"]["paused"] is True
    clock.advance(hours=1)
    assert paused["repairClock"]["timeLeftSeconds"] == 5 * 3600
    resumed = noc_api.patch(url, {"status": "inProgress"}).json()
    assert resumed["repairClock"]["pausedSeconds"] == 3600
    reclassified = noc_api.patch(url, {"faultClass": {"code": "backbone"}}).json()
    assert reclassified["repairClock"]["deadline"] == "2026-11-26T03:00:00.000Z"
    assert reclassified["ticketType"] == "connectivity"
    resolved = noc_api.patch(url, {"status": "resolved", "statusChangeReason": "已修复"}).json()
    assert resolved["status"] == "resolved" and resolved["resolutionDate"]
    refused = assert_tmf_error(enterprise_api.patch(url, {"status": "held"}), 409)
    assert "closed" in refused["allowedValues"]
    closed = enterprise_api.patch(url, {"status": "closed"}).json()
    assert closed["status"] == "closed"
    assert [c["status"] for c in closed["statusChange"]] == [
        "acknowledged",
        "inProgress",
        "pending",
        "inProgress",
        "resolved",
        "closed",
    ]


def test_an_enterprise_rejects_a_resolution(noc_api, enterprise_api, subscription):
    created = report(enterprise_api, subscription)
    url = f"{URL}/{created['id']}"
    noc_api.patch(url, {"status": "inProgress"})
    noc_api.patch(url, {"status": "resolved", "statusChangeReason": "已修复"})
    body = enterprise_api.patch(
        url, {"status": "inProgress", "statusChangeReason": "还是发不出去"}
    ).json()
    assert body["status"] == "inProgress"
    assert any(n["text"] == "还是发不出去" for n in body["note"])


def test_an_enterprise_may_not_change_other_attributes(enterprise_api, subscription):
    created = report(enterprise_api, subscription)
    assert_tmf_error(enterprise_api.patch(f"{URL}/{created['id']}", {"severity": "x"}), 403)


def test_a_refused_transition_is_409_and_an_unknown_id_404(noc_api, subscription):
    created = report(noc_api, subscription)
    error = assert_tmf_error(noc_api.patch(f"{URL}/{created['id']}", {"status": "closed"}), 409)
    assert "inProgress" in error["allowedValues"]
    assert_tmf_error(noc_api.get(f"{URL}/99999"), 404)
    assert_tmf_error(noc_api.post(URL, {"description": "x"}), 400)


def test_delete_only_an_untaken_ticket(noc_api, subscription):
    created = report(noc_api, subscription)
    taken = report(noc_api, subscription)
    noc_api.patch(f"{URL}/{taken['id']}", {"status": "inProgress"})
    assert noc_api.delete(f"{URL}/{created['id']}").status_code == 204
    assert_tmf_error(noc_api.delete(f"{URL}/{taken['id']}"), 409)


def test_filters_and_fields(noc_api, subscription):
    report(noc_api, subscription, severity="Critical")
    report(noc_api, subscription, severity="Minor", faultClass="backbone")
    assert len(noc_api.get(f"{URL}?severity=Critical").json()) == 1
    assert len(noc_api.get(f"{URL}?faultClass.code=backbone").json()) == 1
    items = noc_api.get(f"{URL}?fields=status").json()
    assert all(set(i) == {"id", "href", "status"} for i in items)


def test_hub_events_for_create_status_change_and_resolution(noc_api, enterprise_api, subscription):
    callback = "http://127.0.0.1:9/listener"
    assert noc_api.post(f"{TROUBLE}/hub", {"callback": callback}).status_code == 201
    assert enterprise_api.post(f"{TROUBLE}/hub", {"callback": callback + "2"}).status_code == 201
    created = report(noc_api, subscription)
    url = f"{URL}/{created['id']}"
    noc_api.patch(url, {"status": "inProgress"})
    noc_api.patch(url, {"note": [{"text": "内部", "visibility": "internal"}]})
    noc_api.patch(url, {"status": "resolved", "statusChangeReason": "ok"})
    types = list(OutboxEvent.objects.order_by("id").values_list("event_type", flat=True))
    assert types == [
        "TroubleTicketCreateEvent",
        "TroubleTicketStatusChangeEvent",
        "TroubleTicketStatusChangeEvent",
        "TroubleTicketResolvedEvent",
    ]
    resolved = OutboxEvent.objects.get(event_type="TroubleTicketResolvedEvent").payload
    assert resolved["event"]["troubleTicket"]["status"] == "resolved"
    assert "内部" not in str(resolved)  # events carry public notes only


def test_another_enterprises_token_gets_no_events(noc_api, subscription, manager):
    other = active_enterprise(manager, name="丙企业有限公司")
    user = enterprise_user(other)
    api = TmfClient(issue_token(user, Role.ENTERPRISE_ADMIN, enterprise=other))
    api.post(f"{TROUBLE}/hub", {"callback": "http://127.0.0.1:9/x"})
    report(noc_api, subscription)
    assert not OutboxEvent.objects.exists()


def test_public_notes_are_kept_apart_from_internal_ones(noc_api, subscription):
    created = report(noc_api, subscription, note=[{"text": "默认内部"}])
    assert not TicketNote.objects.get(ticket_id=created["id"]).public
