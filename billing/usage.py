"""The one place billing learns how many messages a subscription sent (from smsgw).

Each billed segment counts as one message (a long message split into three segments is
three messages), as the invoice says. Periods are half-open: start <= day < end.
"""

import datetime as dt
from collections.abc import Iterable

from django.db.models import Sum


def billable_segments(*, subscription_id: int, start: dt.date, end: dt.date) -> int:
    """Billable (submitted) segments of one subscription in [start, end)."""
    return billable_segments_by_subscription([subscription_id], start, end).get(subscription_id, 0)


def billable_segments_by_subscription(
    subscription_ids: Iterable[int], start: dt.date, end: dt.date
) -> dict[int, int]:
    """Billable segments per subscription in [start, end), in one query (billing runs)."""
    model = _daily_usage_model()
    ids = list(subscription_ids)
    if model is None or not ids:
        return {}
    rows = (
        model.objects.filter(subscription_id__in=ids, day__gte=start, day__lt=end)
        .values("subscription_id")
        .annotate(total=Sum("submitted_segments"))
    )
    return {row["subscription_id"]: int(row["total"] or 0) for row in rows}


def _daily_usage_model():
    """smsgw's DailyUsage, or None while smsgw has no usage counters yet."""
    try:
        from smsgw.models import DailyUsage
    except ImportError:
        return None
    return DailyUsage
