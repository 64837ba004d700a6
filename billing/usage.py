"""The one place billing learns how many messages a subscription sent (smsgw's counters).

Each billed segment counts as one message (a long message split into three segments is
three messages), as the invoice says: `DailyUsage.submitted_segments`, the segments the
ISMG accepted. Periods are half-open: start <= day < end (Asia/Shanghai days).
"""

import datetime as dt
from collections.abc import Iterable

from django.db.models import Sum
from django.db.models.functions import TruncMonth

from smsgw import selectors as smsgw_selectors
from smsgw.models import DailyUsage


def billable_segments(*, subscription_id: int, start: dt.date, end: dt.date) -> int:
    """Billable segments of one subscription in [start, end) (smsgw's selector)."""
    return smsgw_selectors.billable_segments(subscription_id=subscription_id, start=start, end=end)


def billable_segments_by_subscription(
    subscription_ids: Iterable[int], start: dt.date, end: dt.date
) -> dict[int, int]:
    """Billable segments per subscription in [start, end) in one query (billing runs);
    the same count as `smsgw.selectors.billable_segments`, grouped."""
    ids = list(subscription_ids)
    if not ids:
        return {}
    rows = (
        DailyUsage.objects.filter(subscription_id__in=ids, day__gte=start, day__lt=end)
        .values("subscription_id")
        .annotate(total=Sum("submitted_segments"))
    )
    return {row["subscription_id"]: int(row["total"] or 0) for row in rows}


def billable_segments_by_month(
    subscription_ids: Iterable[int], start: dt.date, end: dt.date
) -> dict[tuple[int, dt.date], int]:
    """Billable segments per (subscription, first day of month) in [start, end), in one
    query (a billing run rates several months of many subscriptions at once)."""
    ids = list(subscription_ids)
    if not ids:
        return {}
    rows = (
        DailyUsage.objects.filter(subscription_id__in=ids, day__gte=start, day__lt=end)
        .annotate(month=TruncMonth("day"))
        .values("subscription_id", "month")
        .annotate(total=Sum("submitted_segments"))
    )
    result = {}
    for row in rows:
        month = row["month"]
        if isinstance(month, dt.datetime):
            month = month.date()
        result[(row["subscription_id"], month)] = int(row["total"] or 0)
    return result
