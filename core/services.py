"""Kernel write services: state-change records and the TMF event hub's deliveries."""

import json
import urllib.error
import urllib.request
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils.translation import gettext as _

from . import clock
from .models import (
    DeliveryAttempt,
    EventDelivery,
    EventSubscription,
    StateChange,
    User,
)


def state_change_record(
    *,
    obj: models.Model,
    before: str,
    by: User | None,
    reason: str = "",
    field: str = "state",
) -> StateChange:
    """Record that `obj.<field>` moved from `before` to its current value.

    Call inside the transaction that saved the change, so the record and the change
    commit or roll back together.
    """
    user = by if by is not None and getattr(by, "is_authenticated", False) else None
    return StateChange.objects.create(
        content_type=ContentType.objects.get_for_model(obj, for_concrete_model=True),
        object_id=obj.pk,
        field=field,
        from_state=before,
        to_state=getattr(obj, field),
        by=user,
        at=clock.now(),
        reason=reason,
    )


def state_changes_record(
    *,
    objs: list[models.Model],
    before: str,
    by: User | None,
    reason: str = "",
    field: str = "state",
) -> list[StateChange]:
    """`state_change_record` for many objects of one model that all moved from `before`,
    in one insert (a billing run issues a chunk of invoices at once)."""
    if not objs:
        return []
    user = by if by is not None and getattr(by, "is_authenticated", False) else None
    content_type = ContentType.objects.get_for_model(objs[0], for_concrete_model=True)
    at = clock.now()
    return StateChange.objects.bulk_create(
        StateChange(
            content_type=content_type,
            object_id=obj.pk,
            field=field,
            from_state=before,
            to_state=getattr(obj, field),
            by=user,
            at=at,
            reason=reason,
        )
        for obj in objs
    )


# ---------------------------------------------------------------- TMF event hub
@transaction.atomic
def event_subscription_create(
    *, api: str, callback: str, query: str = "", owner: User | None, enterprise_id: int | None
) -> EventSubscription:
    """Register a hub listener; the query must be readable (core.tmf.events.parse_query)."""
    from .tmf.events import QueryError, parse_query

    scheme = urlsplit(callback).scheme.lower()
    if scheme not in ("http", "https") or not urlsplit(callback).netloc:
        raise ValidationError({"callback": _("回调地址须为 http 或 https 的完整地址")})
    try:
        parse_query(query)
    except QueryError as exc:
        raise ValidationError({"query": str(exc)}) from exc
    subscription = EventSubscription(
        api=api, callback=callback, query=query or "", owner=owner, enterprise_id=enterprise_id
    )
    subscription.full_clean()
    subscription.save()
    return subscription


@transaction.atomic
def event_subscription_delete(*, subscription_id: int) -> None:
    """Remove a hub listener; pending deliveries to it are still attempted."""
    EventSubscription.objects.filter(pk=subscription_id).delete()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A callback that redirects has not received the event: report the 3xx as is."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def _post_json(url: str, body: bytes, timeout: float) -> tuple[int | None, str]:
    """POST a JSON body; returns (HTTP status or None, error text or "")."""
    request = urllib.request.Request(  # noqa: S310  (scheme checked on subscription: http/https)
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json; charset=utf-8", "User-Agent": "mas-oss-hub"},
    )
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            return response.status, ""
    except urllib.error.HTTPError as exc:
        return exc.code, f"HTTP {exc.code} {exc.reason}"
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return None, f"{type(exc).__name__}: {reason}"[:1000]


def event_delivery_attempt(*, delivery_id: int) -> bool:
    """POST the event to the callback once and record the attempt; True when delivered.

    The HTTP call is made outside any transaction and row lock; the attempt and the
    outcome are then recorded together. A delivery that is no longer pending (already
    delivered, or failed) is left alone and reported as done.
    """
    delivery = EventDelivery.objects.select_related("event").get(pk=delivery_id)
    if delivery.state != EventDelivery.State.PENDING:
        return True
    body = json.dumps(delivery.event.payload, ensure_ascii=False).encode("utf-8")
    status_code, error = _post_json(
        delivery.callback, body, timeout=settings.TMF_EVENT_TIMEOUT_SECONDS
    )
    succeeded = status_code is not None and 200 <= status_code < 300
    with transaction.atomic():
        delivery = EventDelivery.objects.select_for_update().get(pk=delivery_id)
        now = clock.now()
        delivery.attempt_count += 1
        delivery.last_attempt_at = now
        DeliveryAttempt.objects.create(
            delivery=delivery,
            number=delivery.attempt_count,
            at=now,
            status_code=status_code,
            error=error,
            succeeded=succeeded,
        )
        if succeeded and delivery.state == EventDelivery.State.PENDING:
            delivery.deliver(at=now)
        delivery.save()
    return succeeded


@transaction.atomic
def event_delivery_give_up(*, delivery_id: int) -> EventDelivery:
    """Mark a pending delivery failed once its attempts are used up."""
    delivery = EventDelivery.objects.select_for_update().get(pk=delivery_id)
    if delivery.state == EventDelivery.State.PENDING:
        delivery.fail()
        delivery.save()
    return delivery


@transaction.atomic
def event_delivery_resend(*, delivery_id: int, by: User | None, reason: str = "") -> EventDelivery:
    """An operator sends a failed delivery again (a new round of attempts)."""
    delivery = EventDelivery.objects.select_for_update().get(pk=delivery_id)
    before = delivery.state
    delivery.resend()
    delivery.save()
    state_change_record(obj=delivery, before=before, by=by, reason=reason)
    from .tasks import tmf_event_deliver_task

    transaction.on_commit(lambda: tmf_event_deliver_task.delay(delivery.pk))
    return delivery
