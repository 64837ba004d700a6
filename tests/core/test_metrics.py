"""/metrics: who may scrape it, django-prometheus plus the project's catalogue and hook."""

import pytest
from django.test import override_settings

from core import metrics
from core.roles import Role
from tests.core.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def provider():
    added = []

    def add(name, func, scope="web"):
        metrics.register_collector(name, func, scope=scope)
        added.append((name, func, scope))

    yield add
    for name, func, scope in added:
        metrics.unregister_collector(name, func, scope=scope)


def test_anonymous_scrape_is_refused(client):
    response = client.get("/metrics")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


@override_settings(METRICS_TOKEN="s3cret-token")
def test_bearer_token(client):
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    response = client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-token")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")


@override_settings(METRICS_TOKEN="")
def test_an_empty_token_setting_admits_no_one(client):
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 401


@override_settings(METRICS_ALLOWED_NETWORKS=["10.0.0.0/8"])
def test_internal_network(client):
    assert client.get("/metrics", REMOTE_ADDR="10.3.4.5").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="192.168.1.9").status_code == 401


def test_staff_may_look_enterprise_users_may_not(client, make_user):
    client.force_login(make_user(Role.ENTERPRISE_ADMIN, username="ent"))
    assert client.get("/metrics").status_code == 401
    client.force_login(make_user(Role.NOC_ENGINEER, username="noc"))
    assert client.get("/metrics").status_code == 200


def _scrape(client) -> str:
    client.force_login(UserFactory(username="ops", is_staff=True))
    response = client.get("/metrics")
    assert response.status_code == 200
    return response.content.decode()


def test_framework_and_project_metrics(client):
    text = _scrape(client)
    assert "django_http_requests_total_by_method" in text
    # fulfillment registered its providers in AppConfig.ready; zeros for every state
    assert 'mas_fulfillment_orders{state="acknowledged"} 0.0' in text
    assert 'mas_webhook_deliveries{kind="tmf_hub",state="failed"} 0.0' in text
    assert 'mas_webhook_attempt_failures_total{kind="tmf_hub"} 0.0' in text
    assert 'mas_retention_rows_due{policy="core.tmf_events"} 0.0' in text
    # a counter the senders feed has no series while no sender has reported its links
    assert "mas_smsgw_mo_messages_total{" not in text


def test_an_app_feeds_a_catalogued_metric(client, provider):
    provider("mas_billing_runs", lambda: [({"state": "running"}, 1), ({"state": "done"}, 3)])
    provider("mas_assurance_tickets_breached", lambda: [({"fault_class": "test"}, 2)])
    text = _scrape(client)
    assert 'mas_billing_runs{state="running"} 1.0' in text
    assert 'mas_assurance_tickets_breached{fault_class="test"} 2.0' in text
    assert "# TYPE mas_billing_runs gauge" in text


def test_counters_and_several_providers_per_metric(client, provider):
    provider("mas_webhook_attempt_failures_total", lambda: [({"kind": "test_kind"}, 7)])
    text = _scrape(client)
    assert "# TYPE mas_webhook_attempt_failures_total counter" in text
    assert 'mas_webhook_attempt_failures_total{kind="test_kind"} 7.0' in text
    assert 'mas_webhook_attempt_failures_total{kind="tmf_hub"} 0.0' in text
    assert 'mas_webhook_attempt_failures_total{kind="sms_report"} 0.0' in text


def test_a_failing_provider_does_not_break_the_scrape(client, provider):
    def broken():
        raise RuntimeError("table missing")

    provider("mas_billing_runs", broken)
    text = _scrape(client)
    assert 'mas_metrics_collector_errors{metric="mas_billing_runs"} 1.0' in text
    assert 'mas_fulfillment_orders{state="acknowledged"} 0.0' in text


def test_unknown_names_are_refused():
    with pytest.raises(KeyError):
        metrics.register_collector("mas_made_up", lambda: [])
    with pytest.raises(ValueError):
        metrics.define_metric("mas_x", "histogram", "no")
    spec = metrics.define_metric("mas_test_extra", "gauge", "test", ["a"])
    assert metrics.define_metric("mas_test_extra", "gauge", "test", ["a"]) == spec
    with pytest.raises(ValueError):
        metrics.define_metric("mas_test_extra", "counter", "test", ["a"])


def test_process_scope_is_served_by_the_probe_server_only(client, provider):
    provider("mas_smsgw_window_in_use", lambda: [({"account": "test42"}, 5)], scope="process")
    assert 'mas_smsgw_window_in_use{account="test42"}' not in _scrape(client)
    payload, _ = metrics.process_metrics()
    assert b'mas_smsgw_window_in_use{account="test42"} 5.0' in payload


def test_counts_by_reports_every_state_and_real_counts(client):
    from core.models import EventDelivery, OutboxEvent

    event = OutboxEvent.objects.create(
        api="x", event_id="00000000-0000-0000-0000-000000000001", event_type="T", payload={}
    )
    EventDelivery.objects.create(event=event, callback="http://cb.example/")
    samples = dict((labels["state"], n) for labels, n in metrics.tmf_hub_deliveries() if labels)
    assert samples == {"pending": 1, "delivered": 0, "failed": 0}


def test_tmf_hub_failures_and_retries_are_read_from_the_deliveries(client):
    from core.models import DeliveryAttempt, EventDelivery, OutboxEvent

    event = OutboxEvent.objects.create(
        api="x", event_id="00000000-0000-0000-0000-000000000002", event_type="T", payload={}
    )
    retrying = EventDelivery.objects.create(
        event=event, callback="http://cb.example/a", attempt_count=2
    )
    EventDelivery.objects.create(event=event, callback="http://cb.example/b")
    DeliveryAttempt.objects.create(delivery=retrying, number=1, status_code=500)
    DeliveryAttempt.objects.create(delivery=retrying, number=2, error="timeout")
    text = _scrape(client)
    assert 'mas_webhook_attempt_failures_total{kind="tmf_hub"} 2.0' in text
    assert 'mas_webhook_deliveries_retrying{kind="tmf_hub"} 1.0' in text
    assert 'mas_webhook_deliveries{kind="tmf_hub",state="pending"} 2.0' in text
