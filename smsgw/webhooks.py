"""Webhooks: delivery reports and replies POSTed to the enterprise's application, signed.

Signature (documented in docs/smsgw.md): header
`X-MAS-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>`, plus
`X-MAS-Event` (report | reply), `X-MAS-Delivery` (the delivery id, to de-duplicate
retries) and `X-Trace-Id` (for a report: the trace id of the API call that sent the
message, also returned to that call as X-Request-ID; not signed, it is for correlating
logs only). A non-2xx answer or a network error is retried by Celery with exponential
back-off (`webhook_deliver_task`), at most SMSGW_WEBHOOK_MAX_ATTEMPTS times.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import time
import urllib.error
import urllib.request
from collections.abc import Iterable
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from core import clock, crypto
from core.phone import mask_mobile
from core.tracing import current_trace_id, trace

from .models import FINAL_STATES, Message, MoMessage, WebhookDelivery, WebhookEndpoint

logger = logging.getLogger(__name__)


class WebhookFailedError(Exception):
    """The receiver did not accept the delivery; Celery retries it."""


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The X-MAS-Signature header value for `body` sent at `timestamp`."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify(secret: str, body: bytes, header: str, *, tolerance: int = 300) -> bool:
    """Check a signature header (what a receiver does; used by the tests)."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
    except (ValueError, KeyError):
        return False
    if abs(time.time() - timestamp) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, body, timestamp), header)


@transaction.atomic
def webhook_configure(
    *,
    enterprise_id: int,
    url: str,
    send_reports: bool = True,
    send_replies: bool = True,
    is_active: bool = True,
    rotate_secret: bool = False,
    by=None,
) -> tuple[WebhookEndpoint, str | None]:
    """Create or change the enterprise's webhook; returns it and the new secret (shown
    once: on creation or with `rotate_secret`), else None."""
    parts = urlsplit(url or "")
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValidationError({"url": _("回调地址必须是 http 或 https 地址")})
    endpoint = (
        WebhookEndpoint.objects.select_for_update().filter(enterprise_id=enterprise_id).first()
    )
    secret = None
    if endpoint is None or rotate_secret:
        secret = "whsec_" + secrets.token_urlsafe(24)
    if endpoint is None:
        endpoint = WebhookEndpoint(enterprise_id=enterprise_id)
    endpoint.url = url
    endpoint.send_reports = send_reports
    endpoint.send_replies = send_replies
    endpoint.is_active = is_active
    if secret:
        endpoint.secret_encrypted = crypto.encrypt(secret)
    endpoint.full_clean(exclude=["enterprise"])
    endpoint.save()
    return endpoint, secret


def _endpoints(kind: str) -> dict[int, int]:
    flag = {"report": "send_reports", "reply": "send_replies"}[kind]
    return dict(
        WebhookEndpoint.objects.filter(is_active=True, **{flag: True}).values_list(
            "enterprise_id", "id"
        )
    )


def _queue(deliveries: list[WebhookDelivery]) -> None:
    if not deliveries:
        return
    created = WebhookDelivery.objects.bulk_create(deliveries)
    ids = [d.pk for d in created if d.pk]
    if not ids:  # databases that do not return ids from bulk inserts
        ids = list(
            WebhookDelivery.objects.filter(state=WebhookDelivery.State.PENDING, attempts=0)
            .order_by("-id")
            .values_list("id", flat=True)[: len(deliveries)]
        )

    def dispatch():
        from .tasks import webhook_deliver_task

        for delivery_id in ids:
            webhook_deliver_task.delay(delivery_id)

    transaction.on_commit(dispatch)


def report_events_queue(message_ids: Iterable[int]) -> None:
    """Queue a report webhook for each message that reached a final state, when its
    enterprise has an active endpoint (called by the sender inside its transaction)."""
    endpoints = _endpoints("report")
    if not endpoints:
        return
    messages = (
        Message.objects.filter(
            id__in=list(message_ids),
            enterprise_id__in=endpoints,
            state__in=FINAL_STATES,
            send_request__kind="enterprise",
        )
        .select_related(None)
        .annotate(trace_id=F("send_request__trace_id"))
        .prefetch_related("segments")
    )
    _queue(
        [
            WebhookDelivery(
                endpoint_id=endpoints[m.enterprise_id],
                event=WebhookDelivery.Event.REPORT,
                payload=report_payload(m),
                trace_id=m.trace_id,
            )
            for m in messages
        ]
    )


def report_payload(message: Message) -> dict:
    return {
        "event": "report",
        "requestId": message.send_request_id,
        "messageId": message.pk,
        "msisdn": message.msisdn,
        "state": message.state,
        "error": message.error,
        "doneAt": message.done_at.isoformat() if message.done_at else None,
        "segments": [
            {"seq": s.seq, "msgId": s.msg_id, "stat": s.report_stat, "state": s.state}
            for s in message.segments.all()
        ],
    }


def reply_events_queue(replies: Iterable[MoMessage]) -> None:
    """Queue a reply webhook for each routed reply whose enterprise has an endpoint."""
    endpoints = _endpoints("reply")
    _queue(
        [
            WebhookDelivery(
                endpoint_id=endpoints[mo.enterprise_id],
                event=WebhookDelivery.Event.REPLY,
                payload={
                    "event": "reply",
                    "replyId": mo.pk,
                    "msisdn": mo.msisdn,
                    "destId": mo.dest_id,
                    "extension": mo.extension,
                    "department": mo.department,
                    "text": mo.text,
                    "receivedAt": mo.received_at.isoformat(),
                },
            )
            for mo in replies
            if mo.enterprise_id in endpoints
        ]
    )


def webhook_deliver(*, delivery_id: int) -> bool:
    """POST one delivery, signed; record the attempt. Raises WebhookFailedError when the
    receiver did not answer 2xx (the task retries); True when delivered (or done).

    Runs under the delivery's trace id (a report: the call that sent the message), so
    the attempt logs next to that message's enqueue, submit and report."""
    delivery = WebhookDelivery.objects.select_related("endpoint").get(pk=delivery_id)
    if delivery.state != WebhookDelivery.State.PENDING:
        return True
    with trace(delivery.trace_id or current_trace_id()) as trace_id:
        return _post(delivery, trace_id)


def _post(delivery: WebhookDelivery, trace_id: str) -> bool:
    endpoint = delivery.endpoint
    body = json.dumps(delivery.payload, ensure_ascii=False).encode("utf-8")
    timestamp = int(time.time())
    request = urllib.request.Request(  # noqa: S310 (scheme checked in webhook_configure)
        endpoint.url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "mas-smsgw-webhook",
            "X-MAS-Event": delivery.event,
            "X-MAS-Delivery": str(delivery.pk),
            "X-Trace-Id": trace_id,
            "X-MAS-Signature": sign(crypto.decrypt(endpoint.secret_encrypted), body, timestamp),
        },
    )
    status, error = None, ""
    try:
        with urllib.request.urlopen(request, timeout=settings.SMSGW_WEBHOOK_TIMEOUT) as response:  # noqa: S310
            status = response.status
    except urllib.error.HTTPError as exc:
        status, error = exc.code, f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError, ValueError) as exc:
        error = f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}"
    ok = status is not None and 200 <= status < 300
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        attempts=delivery.attempts + 1,
        last_status=status,
        last_error=error[:200],
        state=WebhookDelivery.State.DELIVERED if ok else WebhookDelivery.State.PENDING,
        delivered_at=clock.now() if ok else None,
    )
    about = _about(delivery)
    if not ok:
        logger.warning(
            "webhook %s delivery %s (%s) attempt %s failed: %s",
            delivery.event,
            delivery.pk,
            about,
            delivery.attempts + 1,
            error or f"HTTP {status}",
        )
        raise WebhookFailedError(error or f"HTTP {status}")
    logger.info(
        "webhook %s delivery %s (%s) delivered: HTTP %s", delivery.event, delivery.pk, about, status
    )
    return True


def _about(delivery: WebhookDelivery) -> str:
    """What a delivery is about, for the log: the message or reply and its masked number."""
    payload = delivery.payload or {}
    number = mask_mobile(payload.get("msisdn", ""))
    if delivery.event == WebhookDelivery.Event.REPORT:
        return f"message {payload.get('messageId')} to {number}"
    return f"reply {payload.get('replyId')} from {number}"


def webhook_give_up(*, delivery_id: int) -> None:
    """Mark a delivery failed after its last attempt (visible in the admin, resendable)."""
    delivery = WebhookDelivery.objects.filter(pk=delivery_id).first()
    if delivery is None:
        return
    updated = WebhookDelivery.objects.filter(
        pk=delivery_id, state=WebhookDelivery.State.PENDING
    ).update(state=WebhookDelivery.State.FAILED)
    if updated:
        with trace(delivery.trace_id or current_trace_id()):
            logger.error(
                "webhook %s delivery %s (%s) given up after %s attempts",
                delivery.event,
                delivery.pk,
                _about(delivery),
                delivery.attempts,
            )


def webhook_resend(*, delivery_id: int) -> None:
    """Send a failed delivery again (admin action)."""
    from .tasks import webhook_deliver_task

    WebhookDelivery.objects.filter(pk=delivery_id).update(state=WebhookDelivery.State.PENDING)
    transaction.on_commit(lambda: webhook_deliver_task.delay(delivery_id))
