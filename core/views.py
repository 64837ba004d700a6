"""Operational endpoints served by the web processes: /metrics (health is middleware), and
the 400 handler that keeps API answers JSON."""

from __future__ import annotations

import hmac
import ipaddress

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from django.views.decorators.http import require_GET

from core.metrics import web_metrics
from core.tmf.errors import error_body

API_PREFIXES = ("/tmf-api/", "/api/")


def bad_request(request: HttpRequest, exception=None) -> HttpResponse:
    """400 raised before any view runs (a Host header not in ALLOWED_HOSTS, a malformed
    request): API clients get the same TMF Error document as from the views, browsers
    Django's page. No request is passed on to `error_body`, because building the
    documentation link would read the rejected Host header again."""
    if request.path.startswith(API_PREFIXES):
        return JsonResponse(
            error_body(None, 400, "Bad Request: the request was refused"), status=400
        )
    return defaults.bad_request(request, exception)


def _token_ok(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    header = request.headers.get("Authorization", "")
    if not token or not header.startswith("Bearer "):
        return False
    return hmac.compare_digest(header[len("Bearer ") :].strip().encode(), token.encode())


def _network_ok(request: HttpRequest) -> bool:
    networks = settings.METRICS_ALLOWED_NETWORKS
    if not networks:
        return False
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(network, strict=False) for network in networks)


def metrics_allowed(request: HttpRequest) -> bool:
    """A scrape is allowed with the bearer token, from an allowed network, or for staff.

    The token (METRICS_TOKEN) is the production way: Prometheus sends it with
    `authorization: {credentials: ...}`. METRICS_ALLOWED_NETWORKS (CIDRs) admits scrapes
    by the peer address, which only makes sense when nothing proxies between them.
    Staff may look at the page in a browser while logged in to the admin.
    """
    if _token_ok(request) or _network_ok(request):
        return True
    user = getattr(request, "user", None)
    return bool(user and user.is_authenticated and user.is_staff)


@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    """Prometheus exposition: django-prometheus plus the project's metrics (core.metrics)."""
    if not metrics_allowed(request):
        response = HttpResponse("authentication required\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    payload, content_type = web_metrics()
    return HttpResponse(payload, content_type=content_type)
