"""Read side of the SMS pipeline: for the portal, the admin/NOC, billing and assurance.

Every enterprise-facing selector takes `enterprise_id` and filters by it, so a caller
that passes the user's own enterprise can never reach another's rows (a `get` raises
DoesNotExist, which views turn into 404).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from .models import (
    FINAL_STATES,
    DailyUsage,
    Message,
    MessageState,
    MoMessage,
    NoticeBatch,
    SendRequest,
)


def _day_bounds(date_from: dt.date | None, date_to: dt.date | None):
    """Aware datetimes [start of date_from, start of the day after date_to) in local time."""
    tz = timezone.get_default_timezone()
    start = dt.datetime.combine(date_from, dt.time.min, tzinfo=tz) if date_from else None
    end = (
        dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
        if date_to
        else None
    )
    return start, end


# ----------------------------------------------------------------------------- portal


def messages_of_enterprise(
    enterprise_id: int,
    *,
    msisdn: str | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    state: str | None = None,
    send_request_id: int | None = None,
) -> QuerySet[Message]:
    """The enterprise's own messages (not operator notices), newest first.

    `msisdn` matches a full number or a part of it; dates are Asia/Shanghai days
    (inclusive) of acceptance; `state` one of MessageState.
    """
    queryset = Message.objects.filter(
        enterprise_id=enterprise_id, send_request__kind=SendRequest.Kind.ENTERPRISE
    )
    if msisdn:
        digits = "".join(ch for ch in msisdn if ch.isdigit())
        queryset = (
            queryset.filter(msisdn=digits)
            if len(digits) == 11
            else queryset.filter(msisdn__contains=digits)
        )
    start, end = _day_bounds(date_from, date_to)
    if start:
        queryset = queryset.filter(created_at__gte=start)
    if end:
        queryset = queryset.filter(created_at__lt=end)
    if state:
        queryset = queryset.filter(state=state)
    if send_request_id:
        queryset = queryset.filter(send_request_id=send_request_id)
    return queryset.select_related("send_request").order_by("-created_at", "-id")


def message_detail(*, message_id: int, enterprise_id: int | None = None) -> Message:
    """One message with its segments (`message.segments.all()` prefetched, in order).

    With `enterprise_id` only that enterprise's message is found (else DoesNotExist).
    """
    queryset = Message.objects.select_related(
        "send_request", "subscription__service_code", "enterprise"
    ).prefetch_related("segments")
    if enterprise_id is not None:
        queryset = queryset.filter(enterprise_id=enterprise_id)
    return queryset.get(pk=message_id)


def replies_of_enterprise(
    enterprise_id: int,
    *,
    msisdn: str | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    department: str | None = None,
) -> QuerySet[MoMessage]:
    """Replies (MO) routed to the enterprise, newest first."""
    queryset = MoMessage.objects.filter(enterprise_id=enterprise_id)
    if msisdn:
        digits = "".join(ch for ch in msisdn if ch.isdigit())
        queryset = queryset.filter(msisdn__contains=digits)
    start, end = _day_bounds(date_from, date_to)
    if start:
        queryset = queryset.filter(received_at__gte=start)
    if end:
        queryset = queryset.filter(received_at__lt=end)
    if department:
        queryset = queryset.filter(department=department)
    return queryset.order_by("-received_at", "-id")


def send_requests_of_enterprise(enterprise_id: int) -> QuerySet[SendRequest]:
    """The enterprise's send requests (portal, API, campaigns), newest first."""
    return SendRequest.objects.filter(
        enterprise_id=enterprise_id, kind=SendRequest.Kind.ENTERPRISE
    ).order_by("-created_at", "-id")


def _state_counts(messages: QuerySet[Message]) -> dict:
    counts = {state: 0 for state in MessageState.values}
    for row in messages.values("state").annotate(n=Count("id")):
        counts[row["state"]] = row["n"]
    return counts


def send_request_progress(*, send_request_id: int, enterprise_id: int | None = None) -> dict:
    """Progress of a send request.

    {"id", "channel", "created_at", "scheduled_at", "requested", "accepted", "refused",
    "segments_per_message", "states": {queued, submitting, submitted, delivered, failed,
    expired}, "done": bool, "refused_rows": [...]}. DoesNotExist for another
    enterprise's request.
    """
    queryset = SendRequest.objects.all()
    if enterprise_id is not None:
        queryset = queryset.filter(enterprise_id=enterprise_id)
    request = queryset.get(pk=send_request_id)
    states = _state_counts(request.messages.all())
    final = sum(states[s] for s in FINAL_STATES)
    return {
        "id": request.pk,
        "channel": request.channel,
        "created_at": request.created_at,
        "scheduled_at": request.scheduled_at,
        "requested": request.requested_count,
        "accepted": request.accepted_count,
        "refused": request.refused_count,
        "segments_per_message": request.segments_per_message,
        "states": states,
        "done": final == request.accepted_count,
        "refused_rows": request.refused,
    }


# ----------------------------------------------------------------------------- notices


def notice_batch_status(batch_id: int) -> dict:
    """Delivery of an operator notice: {"id", "topic", "enterprise_id", "created_at",
    "total", "queued", "submitted", "delivered", "failed", "done"}. `queued` includes
    messages being submitted; `failed` includes expired ones (no report in 48 h)."""
    batch = NoticeBatch.objects.select_related("send_request").get(pk=batch_id)
    states = _state_counts(batch.send_request.messages.all())
    result = {
        "id": batch.pk,
        "topic": batch.topic,
        "enterprise_id": batch.enterprise_id,
        "created_at": batch.created_at,
        "total": batch.send_request.accepted_count,
        "queued": states[MessageState.QUEUED] + states[MessageState.SUBMITTING],
        "submitted": states[MessageState.SUBMITTED],
        "delivered": states[MessageState.DELIVERED],
        "failed": states[MessageState.FAILED] + states[MessageState.EXPIRED],
    }
    result["done"] = result["delivered"] + result["failed"] == result["total"]
    return result


def notice_batches_of_enterprise(enterprise_id: int) -> QuerySet[NoticeBatch]:
    """Operator notices sent to an enterprise, newest first."""
    return NoticeBatch.objects.filter(enterprise_id=enterprise_id).select_related("send_request")


# ----------------------------------------------------------------------------- usage


def billable_segments(*, subscription_id: int, start: dt.date, end: dt.date) -> int:
    """Segments the ISMG accepted for the subscription on days start <= day < end
    (Asia/Shanghai): each is one billable downlink message."""
    total = DailyUsage.objects.filter(
        subscription_id=subscription_id, day__gte=start, day__lt=end
    ).aggregate(n=Sum("submitted_segments"))["n"]
    return total or 0


def usage_by_day(*, subscription_ids: Iterable[int], start: dt.date, end: dt.date) -> list[dict]:
    """Daily counters of the subscriptions for start <= day < end, ordered by day:
    [{"subscription_id", "day", "submitted", "delivered", "failed"}] (days without
    traffic are absent)."""
    rows = DailyUsage.objects.filter(
        subscription_id__in=list(subscription_ids), day__gte=start, day__lt=end
    ).order_by("day", "subscription_id")
    return [
        {
            "subscription_id": row.subscription_id,
            "day": row.day,
            "submitted": row.submitted_segments,
            "delivered": row.delivered_segments,
            "failed": row.failed_segments,
        }
        for row in rows
    ]


# ----------------------------------------------------------------------------- staff


def messages_visible_to(user) -> QuerySet[Message]:
    """Messages a staff user may see: those of the enterprises visible to them."""
    from customers.selectors import enterprises_visible_to

    return Message.objects.filter(enterprise__in=enterprises_visible_to(user))


def message_search(query: str, *, queryset: QuerySet[Message] | None = None) -> QuerySet[Message]:
    """Messages matching a number (full or part) or a Msg_Id (decimal) of one segment."""
    queryset = queryset if queryset is not None else Message.objects.all()
    text = (query or "").strip()
    if not text:
        return queryset
    digits = "".join(ch for ch in text if ch.isdigit())
    condition = Q(msisdn__contains=digits) if digits else Q(pk__in=[])
    if digits and len(digits) > 11:
        condition |= Q(segments__msg_id=digits)
    return queryset.filter(condition).distinct()
