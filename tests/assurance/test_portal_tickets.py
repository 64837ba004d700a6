"""Portal fault reports: open a ticket on one's own service, follow the clock and the
public notes, add notes, accept or reject a resolution; another enterprise's tickets
are 404, anonymous users go to the login, operators may not decide on resolutions."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from assurance import services
from assurance.models import Ticket
from core.roles import Role
from tests.assurance.factories import active_subscription, noc_user, open_ticket
from tests.portal.factories import enterprise_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def two(clock, manager):
    return active_subscription(manager), active_subscription(manager)


@pytest.fixture
def noc(make_user):
    return noc_user(make_user)


def test_an_enterprise_user_reports_a_fault_and_sees_the_clock(client, two, clock):
    mine, _theirs = two
    user = enterprise_user(mine.enterprise, role=Role.ENTERPRISE_OPERATOR)
    client.force_login(user)
    form = client.get(reverse("portal:ticket_create"))
    choices = [value for value, _label in form.context["form"].fields["subscription"].choices]
    assert choices == [str(mine.pk)]
    response = client.post(
        reverse("portal:ticket_create"),
        {
            "subscription": str(mine.pk),
            "ticket_type": "connectivity",
            "severity": "critical",
            "name": "链路中断",
            "description": "上午九点起无法登录网关",
            "attachment": SimpleUploadedFile("log.txt", b"connect refused", "text/plain"),
        },
    )
    ticket = Ticket.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:ticket_detail", args=[ticket.pk])
    assert ticket.channel == "portal" and ticket.reported_by == user
    assert ticket.attachments.get().name == "log.txt"
    page = client.get(response["Location"])
    assert "剩余 6:00" in page.content.decode()
    dashboard = client.get(reverse("portal:dashboard")).content.decode()
    assert f"#{ticket.pk}" in dashboard


def test_reporting_against_another_enterprises_service_is_refused(client, two):
    mine, theirs = two
    client.force_login(enterprise_user(mine.enterprise))
    response = client.post(
        reverse("portal:ticket_create"),
        {
            "subscription": str(theirs.pk),
            "ticket_type": "connectivity",
            "severity": "major",
            "name": "x",
            "description": "y",
        },
    )
    assert response.status_code == 200
    assert not Ticket.objects.exists()


def test_another_enterprises_ticket_is_404_everywhere(client, two):
    mine, theirs = two
    ticket = open_ticket(subscription=theirs)
    client.force_login(enterprise_user(mine.enterprise))
    for name in ("ticket_detail",):
        assert client.get(reverse(f"portal:{name}", args=[ticket.pk])).status_code == 404
    for name in ("ticket_note", "ticket_accept", "ticket_reject"):
        assert (
            client.post(
                reverse(f"portal:{name}", args=[ticket.pk]), {"text": "x", "reason": "y"}
            ).status_code
            == 404
        )
    assert ticket.pk not in [t.pk for t in client.get(reverse("portal:tickets")).context["tickets"]]


@pytest.mark.parametrize("name", ["portal:tickets", "portal:ticket_create"])
def test_anonymous_users_are_sent_to_the_login(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("portal:login"))


def test_only_public_notes_are_shown(client, two, noc):
    mine, _ = two
    ticket = open_ticket(subscription=mine)
    services.ticket_note_add(ticket_id=ticket.pk, by=noc, text="内部排查：光缆熔接点", public=False)
    services.ticket_note_add(ticket_id=ticket.pk, by=noc, text="工程师已到场", public=True)
    client.force_login(enterprise_user(mine.enterprise))
    page = client.get(reverse("portal:ticket_detail", args=[ticket.pk])).content.decode()
    assert "工程师已到场" in page and "光缆熔接点" not in page
    client.post(reverse("portal:ticket_note", args=[ticket.pk]), {"text": "已重启客户端"})
    assert ticket.notes.get(text="已重启客户端").public


def test_accepting_and_rejecting_a_resolution(client, two, noc):
    mine, _ = two
    ticket = open_ticket(subscription=mine)
    services.ticket_claim(ticket_id=ticket.pk, by=noc)
    services.ticket_resolve(ticket_id=ticket.pk, by=noc, resolution="更换端口")
    operator = enterprise_user(mine.enterprise, role=Role.ENTERPRISE_OPERATOR)
    client.force_login(operator)
    assert client.post(reverse("portal:ticket_accept", args=[ticket.pk])).status_code == 403
    admin = enterprise_user(mine.enterprise, role=Role.ENTERPRISE_ADMIN)
    client.force_login(admin)
    client.post(reverse("portal:ticket_reject", args=[ticket.pk]), {"reason": "仍然失败"})
    ticket.refresh_from_db()
    assert ticket.state == Ticket.State.IN_PROGRESS
    services.ticket_resolve(ticket_id=ticket.pk, by=noc, resolution="再次修复")
    client.post(reverse("portal:ticket_accept", args=[ticket.pk]))
    ticket.refresh_from_db()
    assert ticket.state == Ticket.State.CLOSED
    page = client.post(reverse("portal:ticket_accept", args=[ticket.pk]), follow=True)
    assert "无法确认" in page.content.decode()


def test_staff_are_turned_away_from_the_portal_tickets(client, noc):
    client.force_login(noc)
    assert client.get(reverse("portal:tickets")).status_code == 302
