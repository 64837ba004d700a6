"""SLA metrics on /metrics: open tickets near breach (past the 80 % warning) and breached,
per fault class, as the repair clocks move."""

import datetime as dt

import pytest

from assurance import services
from core.roles import Role
from tests.assurance.factories import active_subscription, noc_user, open_ticket

pytestmark = pytest.mark.django_db

H = dt.timedelta(hours=1)


def _scrape(client, make_user) -> str:
    client.force_login(make_user(Role.NOC_ENGINEER, username="noc_scrape"))
    response = client.get("/metrics")
    assert response.status_code == 200
    return response.content.decode()


def _gauge(text: str, metric: str, fault_class: str) -> float:
    prefix = f'{metric}{{fault_class="{fault_class}"}} '
    (line,) = [line for line in text.splitlines() if line.startswith(prefix)]
    return float(line.removeprefix(prefix))


def test_near_breach_and_breached_per_fault_class(clock, client, make_user, manager):
    noc = noc_user(make_user)
    subscription = active_subscription(manager)
    local = open_ticket(by=noc, subscription=subscription, fault_class="local_line")  # 6 h
    open_ticket(by=noc, subscription=subscription, fault_class="backbone")  # 24 h
    excluded = open_ticket(by=noc, subscription=subscription, fault_class="local_line")
    services.ticket_exclude(ticket_id=excluded.pk, by=noc, kind="force_majeure", reason="台风")
    open_ticket(by=noc, subscription=subscription, fault_class="enterprise_side")  # no clock

    text = _scrape(client, make_user)
    for code in ("local_line", "backbone", "platform", "mas"):  # zeros for every class
        assert _gauge(text, "mas_assurance_tickets_near_breach", code) == 0
        assert _gauge(text, "mas_assurance_tickets_breached", code) == 0
    assert 'fault_class="enterprise_side"' not in text  # never breaches: no series

    clock.advance(hours=5)  # 83 % of the local line's 6 h
    services.sla_check_due()
    text = _scrape(client, make_user)
    assert _gauge(text, "mas_assurance_tickets_near_breach", "local_line") == 1
    assert _gauge(text, "mas_assurance_tickets_near_breach", "backbone") == 0
    assert _gauge(text, "mas_assurance_tickets_breached", "local_line") == 0

    clock.advance(hours=1.5)  # past the deadline, before the periodic check has run
    text = _scrape(client, make_user)
    assert _gauge(text, "mas_assurance_tickets_breached", "local_line") == 1
    assert _gauge(text, "mas_assurance_tickets_near_breach", "local_line") == 0

    services.sla_check_due()  # the breach is raised: still one
    assert _gauge(_scrape(client, make_user), "mas_assurance_tickets_breached", "local_line") == 1

    services.ticket_cancel(ticket_id=local.pk, by=noc, reason="重复工单")
    text = _scrape(client, make_user)
    assert _gauge(text, "mas_assurance_tickets_breached", "local_line") == 0
    assert 'mas_metrics_collector_errors{metric="mas_assurance_tickets_breached"} 0.0' in text
