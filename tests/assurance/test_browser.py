"""Browser journeys: a NOC engineer claims the most urgent ticket in the queue and
resolves it; an enterprise user reports a fault in the portal and sees its clock."""

import pytest
from django.conf import settings
from django.test import Client

from assurance.models import Ticket
from tests.assurance.factories import active_subscription, noc_user, open_ticket
from tests.browser import screenshot
from tests.portal.factories import enterprise_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_noc_engineer_claims_the_most_urgent_ticket_and_resolves_it(
    browser_page, clock, manager, make_user
):
    page = browser_page
    noc = noc_user(make_user)
    subscription = active_subscription(manager)
    open_ticket(subscription=subscription, fault_class="backbone", name="骨干网抖动")
    urgent = open_ticket(subscription=subscription, fault_class="local_line", name="本地链路中断")
    clock.advance(hours=1)
    open_ticket(subscription=subscription, fault_class="local_line", name="较晚报告的故障")

    page.goto("/admin/login/")
    page.fill("#id_username", noc.username)
    page.fill("#id_password", "pass-1234")
    page.click("input[type=submit]")
    page.wait_for_selector("#site-name")

    page.goto("/admin/assurance/ticket/queue/")
    first = page.locator("#queue tbody tr").first
    assert first.get_attribute("data-ticket") == str(urgent.pk)
    assert "5:00" in first.inner_text()
    screenshot(page, "noc-queue")
    first.locator("button.claim").click()
    page.wait_for_selector(".messagelist .success")

    urgent.refresh_from_db()
    assert urgent.owner == noc and urgent.state == Ticket.State.IN_PROGRESS
    page.fill("#id__transition_reason", "更换故障光模块，链路恢复")
    page.click("button[value=resolve]")
    page.wait_for_selector(".messagelist .success")
    screenshot(page, "noc-ticket-resolved")

    urgent.refresh_from_db()
    assert urgent.state == Ticket.State.RESOLVED
    assert urgent.resolution == "更换故障光模块，链路恢复"
    page.goto("/admin/assurance/ticket/queue/")
    assert str(urgent.pk) not in [
        row.get_attribute("data-ticket") for row in page.locator("#queue tbody tr").all()
    ]


def test_an_enterprise_user_reports_a_fault_and_sees_its_clock(
    browser_page, live_server, clock, manager
):
    page = browser_page
    subscription = active_subscription(manager)
    user = enterprise_user(subscription.enterprise)
    # Logged in through a server-side session (the portal login has its own tests).
    client = Client()
    client.force_login(user)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}]
    )

    page.goto("/portal/tickets/new/")
    page.select_option("#id_subscription", str(subscription.pk))
    page.select_option("#id_ticket_type", "connectivity")
    page.select_option("#id_severity", "critical")
    page.fill("#id_name", "网关无法登录")
    page.fill("#id_description", "今天上午九点起所有链路登录失败")
    page.click("form.card button[type=submit]")
    page.wait_for_selector("#repair-clock")
    screenshot(page, "portal-ticket-clock")

    ticket = Ticket.objects.get()
    assert ticket.channel == "portal"
    assert "剩余 6:00" in page.inner_text("#repair-clock")
    page.goto("/portal/")
    assert "网关无法登录" in page.inner_text("#dashboard-tickets")
