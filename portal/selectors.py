"""Read queries the portal composes from the domain apps, always for one enterprise."""

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.utils.translation import gettext as _

from core.phone import normalize_mobile
from customers.models import Enterprise, RegisteredRecipient, Signature
from customers.selectors import recipient_status
from fulfillment.models import Order, Subscription
from fulfillment.selectors import subscriptions_of_enterprise
from portal.uploads import read_dataset
from smsgw.cmpp.text import split_text
from smsgw.selectors import usage_by_day


def dashboard_summary(enterprise: Enterprise) -> dict:
    """The dashboard's figures for one enterprise."""
    subscriptions = list(subscriptions_of_enterprise(enterprise.pk).exclude(state="terminated"))
    recipients = RegisteredRecipient.objects.filter(enterprise=enterprise).aggregate(
        registered=Count("id", filter=Q(opted_out_at__isnull=True)),
        opted_out=Count("id", filter=Q(opted_out_at__isnull=False)),
    )
    return {
        "subscriptions": subscriptions,
        "suspended_subscriptions": [s for s in subscriptions if s.state == "suspended"],
        "recipient_counts": recipients,
        "signatures": Signature.objects.filter(enterprise=enterprise).order_by("-created_at")[:5],
        "open_orders": orders_of(enterprise).filter(
            state__in=["acknowledged", "inProgress", "pending", "held", "assessingCancellation"]
        ),
    }


def recipients_of(enterprise: Enterprise, *, query: str = "", group: str = "", status: str = ""):
    """The enterprise's registered recipients, filtered for the list page."""
    queryset = RegisteredRecipient.objects.filter(enterprise=enterprise).order_by("msisdn")
    if query:
        digits = "".join(ch for ch in query if ch.isdigit())
        condition = Q(name__icontains=query)
        if digits:
            condition |= Q(msisdn__startswith=digits[-11:] if len(digits) > 11 else digits)
        queryset = queryset.filter(condition)
    if group:
        queryset = queryset.filter(group_label=group)
    if status == "registered":
        queryset = queryset.filter(opted_out_at__isnull=True)
    elif status == "opted_out":
        queryset = queryset.filter(opted_out_at__isnull=False)
    return queryset


def recipient_groups(enterprise: Enterprise) -> list[str]:
    """The group labels the enterprise uses, for filters and group sends."""
    return list(
        RegisteredRecipient.objects.filter(enterprise=enterprise)
        .exclude(group_label="")
        .values_list("group_label", flat=True)
        .distinct()
        .order_by("group_label")
    )


def orders_of(enterprise: Enterprise):
    """The enterprise's orders (its change requests among them), newest first; no drafts."""
    return (
        Order.objects.filter(enterprise=enterprise)
        .exclude(state="draft")
        .prefetch_related("items__offering", "items__subscription__service_code")
        .order_by("-order_date", "-id")
    )


def subscription_of(enterprise: Enterprise, subscription_id: int) -> Subscription:
    """One of the enterprise's subscriptions; DoesNotExist for anyone else's."""
    return subscriptions_of_enterprise(enterprise.pk).get(pk=subscription_id)


# --- sending ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SegmentPreview:
    """How a text will go out: with the signature, its length and SUBMIT segments."""

    content: str
    characters: int
    segments: int
    encoding: str


def signed_text(body: str, signature: str) -> str:
    """The text as it will appear: the body with the signature at the end (第6条第4款),
    never twice (the same rule as smsgw's enqueue)."""
    body = (body or "").strip()
    if signature:
        if body.startswith(signature):
            body = body[len(signature) :].lstrip()
        if body.endswith(signature):
            body = body[: -len(signature)].rstrip()
    return f"{body}{signature}"


def segment_preview(body: str, signature: str) -> SegmentPreview:
    """The gateway's own split of the signed text (the figure portal.js estimates)."""
    content = signed_text(body, signature)
    try:
        segments = split_text(content, 0)
    except ValueError:
        return SegmentPreview(content, len(content), 256, "UCS2")
    encoding = "ASCII" if segments[0].msg_fmt == 0 else "UCS2"
    return SegmentPreview(content, len(content), len(segments), encoding)


@dataclass
class BulkPreview:
    """An uploaded number file sorted into what will be sent and what is refused."""

    total: int = 0
    accepted: list[str] = field(default_factory=list)
    refused: list[dict] = field(default_factory=list)

    def refused_by_reason(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for row in self.refused:
            counts[row["reason"]] = counts.get(row["reason"], 0) + 1
        return counts


# Already in 11-digit form: accepted as is, as smsgw's enqueue does (phonenumbers is slow).
_PLAIN_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_NUMBER_HEADERS = {"手机号码", "手机号", "号码", "msisdn", "mobile", "phone"}


def bulk_preview(enterprise: Enterprise, path: Path) -> BulkPreview:
    """Check every row of an uploaded number file against the registered list (第4条).

    The number is the column headed 手机号码 (or msisdn/mobile), else the first column; a
    first row that is not a number is taken as the header. Rows are refused as
    malformed, duplicate, not registered or opted out; nothing is written.
    """
    dataset = read_dataset(path, headers=False)
    rows = [list(row) for row in dataset]
    column, start = 0, 0
    if rows:
        header = [str(cell or "").strip().lower() for cell in rows[0]]
        for index, name in enumerate(header):
            if name in _NUMBER_HEADERS:
                column, start = index, 1
                break
        else:
            if not _looks_like_number(header[0] if header else ""):
                start = 1
    preview = BulkPreview()
    seen: set[str] = set()
    candidates: list[tuple[int, str, str]] = []
    for line, row in enumerate(rows[start:], start=start + 1):
        raw = str(row[column] if column < len(row) and row[column] is not None else "").strip()
        if not raw and not any(str(cell or "").strip() for cell in row):
            continue
        preview.total += 1
        try:
            msisdn = raw if _PLAIN_MOBILE.match(raw) else normalize_mobile(raw)
        except ValidationError:
            preview.refused.append({"row": line, "value": raw, "reason": str(_("号码格式错误"))})
            continue
        if msisdn in seen:
            preview.refused.append(
                {"row": line, "value": raw, "reason": str(_("文件中重复，只发送一次"))}
            )
            continue
        seen.add(msisdn)
        candidates.append((line, raw, msisdn))
    status: dict[str, str] = {}
    numbers = [msisdn for _line, _raw, msisdn in candidates]
    for offset in range(0, len(numbers), 2000):
        status.update(recipient_status(enterprise.pk, numbers[offset : offset + 2000]))
    for line, raw, msisdn in candidates:
        state = status.get(msisdn)
        if state == "registered":
            preview.accepted.append(msisdn)
        elif state == "opted_out":
            preview.refused.append({"row": line, "value": raw, "reason": str(_("第4条：已退订"))})
        else:
            preview.refused.append(
                {"row": line, "value": raw, "reason": str(_("第4条：不在注册客户名单中"))}
            )
    preview.refused.sort(key=lambda row: row["row"])
    return preview


def _looks_like_number(value: str) -> bool:
    digits = "".join(ch for ch in value if ch.isdigit())
    return len(digits) >= 5 and len(digits) >= len(value.replace(" ", "").replace("+", "")) - 1


# --- dashboard ----------------------------------------------------------------------------


def sending_summary(enterprise: Enterprise, *, today: dt.date) -> dict:
    """This month's sent/delivered/failed segments against the package allowance, and the
    delivery rate of each of the last 30 days (None on a day without reports).

    Figures are segments (billable messages) from smsgw's daily counters; the allowance
    is the sum of the included messages of the enterprise's live subscriptions.
    """
    subscriptions = list(subscriptions_of_enterprise(enterprise.pk, states=["active", "suspended"]))
    ids = [s.pk for s in subscriptions]
    month_start = today.replace(day=1)
    next_month = (month_start + dt.timedelta(days=32)).replace(day=1)
    month = {"submitted": 0, "delivered": 0, "failed": 0}
    for row in usage_by_day(subscription_ids=ids, start=month_start, end=next_month):
        for key in month:
            month[key] += row[key]
    allowance = sum(s.included_messages or 0 for s in subscriptions)
    first_day = today - dt.timedelta(days=29)
    per_day: dict[dt.date, dict] = {}
    for row in usage_by_day(
        subscription_ids=ids, start=first_day, end=today + dt.timedelta(days=1)
    ):
        day = per_day.setdefault(row["day"], {"delivered": 0, "failed": 0, "submitted": 0})
        for key in day:
            day[key] += row[key]
    days = []
    for offset in range(30):
        day = first_day + dt.timedelta(days=offset)
        counts = per_day.get(day, {"delivered": 0, "failed": 0, "submitted": 0})
        reported = counts["delivered"] + counts["failed"]
        rate = counts["delivered"] / reported if reported else None
        days.append({"day": day, "rate": rate, **counts})
    reported = sum(d["delivered"] + d["failed"] for d in days)
    return {
        "month": month,
        "month_start": month_start,
        "allowance": allowance,
        "allowance_used": (month["submitted"] / allowance) if allowance else None,
        "over_allowance": max(0, month["submitted"] - allowance) if allowance else 0,
        "days": days,
        "rate_30_days": (sum(d["delivered"] for d in days) / reported) if reported else None,
    }


# --- webhooks (smsgw has no selectors for these yet: plain queries over its models) ------


def webhook_of(enterprise: Enterprise):
    """The enterprise's webhook endpoint (smsgw.WebhookEndpoint) or None."""
    from smsgw.models import WebhookEndpoint

    return WebhookEndpoint.objects.filter(enterprise=enterprise).first()


def webhook_deliveries_of(enterprise: Enterprise, *, limit: int = 20) -> list:
    """The latest webhook deliveries (reports and replies) to the enterprise's endpoint."""
    from smsgw.models import WebhookDelivery

    return list(
        WebhookDelivery.objects.filter(endpoint__enterprise=enterprise).order_by(
            "-created_at", "-id"
        )[:limit]
    )


def webhook_delivery_of(enterprise: Enterprise, delivery_id: int):
    """One of the enterprise's deliveries; DoesNotExist for anyone else's."""
    from smsgw.models import WebhookDelivery

    return WebhookDelivery.objects.get(pk=delivery_id, endpoint__enterprise=enterprise)


def running_sends(enterprise: Enterprise, *, limit: int = 5) -> list[dict]:
    """The enterprise's latest send requests that still have messages without a final
    result (for the dashboard's progress bars), newest first."""
    from smsgw.selectors import send_request_progress, send_requests_of_enterprise

    running = []
    for request in send_requests_of_enterprise(enterprise.pk)[:20]:
        progress = send_request_progress(send_request_id=request.pk, enterprise_id=enterprise.pk)
        if not progress["done"]:
            states = progress["states"]
            progress["final"] = states["delivered"] + states["failed"] + states["expired"]
            progress["content"] = request.content
            running.append(progress)
        if len(running) == limit:
            break
    return running
