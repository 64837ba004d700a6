"""Liveness and readiness probes, and the registry where apps plug their checks."""

import json

import pytest
from django.test import override_settings

from core import health


@pytest.fixture
def extra_check():
    """Register checks for one test; the registry is restored afterwards (apps' own
    checks, such as smsgw's cmpp_links, included)."""
    saved = dict(health._checks)

    def add(name, func, roles=("web",)):
        health.register_check(name, func, roles=roles)

    yield add
    health._checks.clear()
    health._checks.update(saved)


def test_liveness_touches_nothing(client):
    """No django_db mark: any query here would fail the test."""
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readiness_checks_the_database_and_the_broker(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"]["ok"] is True
    assert (
        body["checks"]["broker"] == {"ok": True, "detail": "eager", "ms": 0}
        or body["checks"]["broker"]["ok"]
    )


@pytest.mark.django_db
@override_settings(ALLOWED_HOSTS=["mas.example.cn"], SECURE_SSL_REDIRECT=True)
def test_probes_need_no_https_and_no_allowed_host(client):
    """A load balancer probes by IP over plain HTTP: no redirect, no DisallowedHost."""
    assert client.get("/healthz", HTTP_HOST="10.0.0.7").status_code == 200
    assert client.get("/readyz", HTTP_HOST="10.0.0.7").status_code == 200
    assert client.get("/admin/login/", HTTP_HOST="10.0.0.7").status_code == 400


@pytest.mark.django_db
def test_a_failing_check_makes_the_process_unready(client, extra_check):
    def broken():
        raise ConnectionRefusedError("ISMG 10.1.1.1:7890 refused")

    extra_check("ismg", broken)
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["ismg"]["ok"] is False
    assert body["checks"]["ismg"]["detail"].startswith("ConnectionRefusedError")
    assert body["checks"]["database"]["ok"] is True
    # Liveness is unaffected: restarting the process would not fix the ISMG.
    assert client.get("/healthz").status_code == 200


@pytest.mark.django_db
def test_checks_apply_to_their_roles_only(extra_check):
    extra_check("test_links", lambda: "2/2 links up", roles=("sender",))
    ok, web = health.run_checks("web")
    assert ok and "test_links" not in web
    ok, sender = health.run_checks("sender", only=["test_links", "database"])
    assert ok
    assert sender["test_links"]["detail"] == "2/2 links up"
    assert set(sender) == {"test_links", "database"}
    assert "broker" not in health.run_checks("sender")[1]


@pytest.mark.django_db(transaction=True)
def test_probe_server_for_processes_without_http(extra_check):
    """A sender serves /healthz, /readyz (its own checks) and /metrics on a port."""
    import urllib.error
    import urllib.request

    server = health.start_probe_server(0, "test_sender", host="127.0.0.1")
    extra_check("test_links", lambda: "1/1 links up", roles=("test_sender",))
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        with urllib.request.urlopen(f"{base}/readyz", timeout=5) as response:  # noqa: S310
            body = json.loads(response.read())
        assert body["checks"]["test_links"]["ok"] is True
        with urllib.request.urlopen(f"{base}/metrics", timeout=5) as response:  # noqa: S310
            assert b"process_resident_memory_bytes" in response.read()
        extra_check("test_links", lambda: 1 / 0, roles=("test_sender",))
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"{base}/readyz", timeout=5)  # noqa: S310
        assert refused.value.code == 503
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.django_db
def test_healthcheck_command_exits_non_zero_when_unready(extra_check):
    from django.core.management import CommandError, call_command

    call_command("healthcheck", "--role", "worker")
    extra_check("queue", lambda: 1 / 0, roles=("worker",))
    with pytest.raises(CommandError):
        call_command("healthcheck", "--role", "worker")
