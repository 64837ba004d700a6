"""Read queries the portal composes from the domain apps, always for one enterprise."""

from django.db.models import Count, Q

from customers.models import Enterprise, RegisteredRecipient, Signature
from fulfillment.models import Order, Subscription
from fulfillment.selectors import subscriptions_of_enterprise


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
