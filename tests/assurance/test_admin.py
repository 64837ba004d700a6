"""The NOC's pages: the queue (most urgent first, filters, counts, claim), the ticket
form's transitions and notes, the SLA report and its exports; NOC cannot reach billing."""

import pytest
from django.urls import reverse

from assurance.models import Ticket
from core.roles import Role
from tests.assurance.factories import active_subscription, noc_user, open_ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def noc(make_user):
    return noc_user(make_user)


@pytest.fixture
def tickets(clock, manager, noc):
    subscription = active_subscription(manager)
    backbone = open_ticket(subscription=subscription, fault_class="backbone", name="骨干")
    clock.advance(hours=2)
    local = open_ticket(subscription=subscription, fault_class="local_line", name="本地")
    uncovered = open_ticket(subscription=subscription, fault_class="enterprise_side", name="自有")
    return local, backbone, uncovered


def test_the_queue_lists_the_most_urgent_first_with_counts(client, noc, tickets):
    local, backbone, uncovered = tickets
    client.force_login(noc)
    response = client.get(reverse("admin:assurance_queue"))
    assert response.status_code == 200
    order = [t.pk for t, _clock in response.context["rows"]]
    assert order == [local.pk, backbone.pk, uncovered.pk]
    counts = {state: n for _label, state, n in response.context["state_counts"]}
    assert counts["acknowledged"] == 3
    filtered = client.get(reverse("admin:assurance_queue"), {"fault_class": "backbone"})
    assert [t.pk for t, _c in filtered.context["rows"]] == [backbone.pk]


def test_the_queue_runs_a_constant_number_of_queries(
    client, noc, tickets, manager, django_assert_max_num_queries
):
    client.force_login(noc)
    client.get(reverse("admin:assurance_queue"))
    subscription = active_subscription(manager)
    for _ in range(5):
        open_ticket(subscription=subscription)
    with django_assert_max_num_queries(12):
        client.get(reverse("admin:assurance_queue"))


def test_claiming_from_the_queue_makes_the_first_taker_the_owner(client, noc, make_user, tickets):
    local = tickets[0]
    client.force_login(noc)
    response = client.post(reverse("admin:assurance_queue_claim", args=[local.pk]))
    assert response.status_code == 302
    local.refresh_from_db()
    assert local.state == Ticket.State.IN_PROGRESS and local.owner == noc
    other = noc_user(make_user, "noc_2")
    client.force_login(other)
    client.post(reverse("admin:assurance_queue_claim", args=[local.pk]))
    local.refresh_from_db()
    assert local.owner == noc and local.assignee == other


def test_resolving_from_the_ticket_form(client, noc, tickets):
    local = tickets[0]
    client.force_login(noc)
    client.post(reverse("admin:assurance_queue_claim", args=[local.pk]))
    url = reverse("admin:assurance_ticket_change", args=[local.pk])
    page = client.get(url)
    assert page.status_code == 200
    client.post(url, {"_transition": "resolve", "_transition_reason": "更换光模块"})
    local.refresh_from_db()
    assert local.state == Ticket.State.RESOLVED and local.resolution == "更换光模块"
    client.post(reverse("admin:assurance_ticket_note", args=[local.pk]), {"text": "内部说明"})
    assert local.notes.filter(text="内部说明", public=False).exists()


def test_the_report_and_its_exports(client, noc, tickets, clock):
    client.force_login(noc)
    url = reverse("admin:assurance_report")
    page = client.get(url, {"year": 2026, "month": 11})
    assert page.status_code == 200
    assert page.context["report"].overall.tickets == 3
    xlsx = client.get(url, {"year": 2026, "month": 11, "export": "xlsx"})
    assert xlsx.content[:2] == b"PK"
    pdf = client.get(url, {"year": 2026, "month": 11, "export": "pdf"})
    assert pdf.content.startswith(b"%PDF")


def test_noc_cannot_reach_billing_or_enterprise_users_the_queue(client, noc, make_user, tickets):
    assert not noc.has_module_perms("billing")
    assert not any(p.startswith("billing.") for p in noc.get_all_permissions())
    client.force_login(noc)
    assert client.get("/admin/billing/").status_code == 404
    finance = make_user(Role.FINANCE, username="fin")
    client.force_login(finance)
    assert client.get(reverse("admin:assurance_queue")).status_code == 403


def test_only_heads_exclude_tickets(client, noc, head, tickets):
    assert not noc.has_perm("assurance.exclude_ticket")
    assert head.has_perm("assurance.exclude_ticket")
