"""Liveness and readiness: `/healthz`, `/readyz`, and a registry of readiness checks.

- `/healthz` (liveness) answers 200 as long as the process serves requests; it touches
  nothing else, so a database outage does not make an orchestrator restart every web
  process.
- `/readyz` (readiness) runs the checks registered for the process's role and answers 200
  when all pass, 503 otherwise, with a JSON body naming each check's result. A load
  balancer takes a web process out of rotation on 503.

Both are answered by `HealthCheckMiddleware`, first in MIDDLEWARE: before the SSL
redirect and the ALLOWED_HOSTS check (a load balancer probes by IP over plain HTTP),
before sessions and the database. They disclose no data, only check names and "ok"/an
error class.

Checks. `register_check(name, func, roles=("web",))`: `func()` returns None (or a short
detail string) when healthy and raises when not. Core registers `database` (every
configured database, including the replica) and `broker` (a connection to the Celery
broker) for the roles `web` and `worker`. An app registers its own in
`AppConfig.ready`; smsgw registers `cmpp_links` for the role `sender`, reading the sender
process's own link state.

Processes that serve no HTTP (senders, workers) expose the same endpoints with
`start_probe_server(port, role)` — a small thread that also serves `/metrics` of that
process (core.metrics) — or run `manage.py healthcheck --role sender` as an exec probe.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from django.http import JsonResponse

logger = logging.getLogger(__name__)

LIVENESS_PATH = "/healthz"
READINESS_PATH = "/readyz"


@dataclass(frozen=True)
class Check:
    """A named readiness check and the process roles it applies to."""

    name: str
    func: Callable[[], str | None]
    roles: tuple[str, ...]


_checks: dict[str, Check] = {}


def register_check(name: str, func: Callable[[], str | None], roles: Iterable[str] = ("web",)):
    """Add (or replace) a readiness check; see the module docstring."""
    _checks[name] = Check(name=name, func=func, roles=tuple(roles))


def unregister_check(name: str) -> None:
    """Remove a check (tests, or an app that is switched off)."""
    _checks.pop(name, None)


def checks_for(role: str) -> list[Check]:
    """The checks that apply to a process of this role, in registration order."""
    return [check for check in _checks.values() if role in check.roles]


def run_checks(role: str = "web", only: Iterable[str] | None = None) -> tuple[bool, dict]:
    """Run the role's checks (or `only` those): (all passed, {name: {ok, detail, ms}})."""
    results = {}
    healthy = True
    for check in checks_for(role):
        if only and check.name not in only:
            continue
        started = time.monotonic()
        try:
            detail = check.func() or "ok"
            ok = True
        except Exception as exc:
            ok = False
            detail = f"{type(exc).__name__}: {str(exc)[:200]}"
            logger.warning("readiness check %s failed: %s", check.name, detail)
        healthy &= ok
        results[check.name] = {
            "ok": ok,
            "detail": detail,
            "ms": int((time.monotonic() - started) * 1000),
        }
    return healthy, results


def check_database() -> str:
    """Every configured database answers a trivial query."""
    from django.db import connections

    for alias in connections:
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT 1")
    return "ok"


def check_broker() -> str:
    """The Celery broker accepts a connection (skipped when tasks run eagerly)."""
    from django.conf import settings

    if settings.CELERY_TASK_ALWAYS_EAGER:
        return "eager"
    from celery import current_app

    with current_app.connection_for_write() as connection:
        connection.ensure_connection(max_retries=1, timeout=3)
    return "ok"


def _body(healthy: bool, results: dict | None = None) -> dict:
    body = {"status": "ok" if healthy else "unavailable"}
    if results is not None:
        body["checks"] = results
    return body


class HealthCheckMiddleware:
    """Answers /healthz and /readyz before any other middleware (see the module docstring)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path == LIVENESS_PATH:
            return JsonResponse(_body(True))
        if request.path == READINESS_PATH:
            healthy, results = run_checks("web")
            return JsonResponse(_body(healthy, results), status=200 if healthy else 503)
        return self.get_response(request)


def _probe_handler(role: str, metrics: Callable[[], tuple[bytes, str]] | None):
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path == LIVENESS_PATH:
                self._send(200, json.dumps(_body(True)).encode(), "application/json")
            elif self.path == READINESS_PATH:
                healthy, results = run_checks(role)
                body = json.dumps(_body(healthy, results)).encode()
                self._send(200 if healthy else 503, body, "application/json")
            elif self.path == "/metrics" and metrics is not None:
                payload, content_type = metrics()
                self._send(200, payload, content_type)
            else:
                self._send(404, b"not found", "text/plain")

        def _send(self, status: int, body: bytes, content_type: str):
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format, *args):  # probes every few seconds: not worth a line
            return

    return Handler


def start_probe_server(port: int, role: str, host: str = "0.0.0.0") -> ThreadingHTTPServer:  # noqa: S104
    """Serve /healthz, /readyz (the role's checks) and /metrics from a daemon thread.

    For processes without a web server (smsgw_run senders, Celery workers). Bind it to
    the internal network only; it needs no authentication because it discloses nothing
    but check results and the process's own counters.
    """
    from core.metrics import process_metrics

    server = ThreadingHTTPServer((host, port), _probe_handler(role, process_metrics))
    thread = threading.Thread(target=server.serve_forever, name=f"probe-{role}", daemon=True)
    thread.start()
    return server


def register_defaults() -> None:
    """The kernel's checks: the databases and the broker (called from CoreConfig.ready)."""
    register_check("database", check_database, roles=("web", "worker", "sender"))
    register_check("broker", check_broker, roles=("web", "worker"))
