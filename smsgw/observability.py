"""smsgw's metrics, readiness check and retention policies (core's operations hooks).

Discovered by core (`<app>.observability` modules are imported in CoreConfig.ready), so
nothing else in smsgw has to change. Everything here reads what the pipeline already
writes: the senders' LinkState rows (refreshed every few seconds), the outbox, the
segments, DailyUsage and the webhook deliveries.
"""

from __future__ import annotations

import datetime as dt
import os

from django.db.models import Count, Q, Sum

from core import clock
from core.health import register_check
from core.metrics import Sample, register_collector
from core.retention import RetentionPolicy, mask_mobile_value, register

from .models import (
    FINAL_STATES,
    LinkState,
    Message,
    MessageState,
    Segment,
    WebhookDelivery,
)

STALE_SECONDS = 60  # LinkState rows older than this belong to a sender that stopped
LATENCY_WINDOW = dt.timedelta(minutes=15)
LATENCY_SAMPLE = 5000
OPEN_STATES = [MessageState.QUEUED, MessageState.SUBMITTING, MessageState.SUBMITTED]


def _fresh_links():
    return LinkState.objects.filter(
        updated_at__gte=clock.now() - dt.timedelta(seconds=STALE_SECONDS)
    )


def links_up() -> list[Sample]:
    """CMPP links logged in per account, over every live sender."""
    rows = _fresh_links().values("sp_id").annotate(up=Count("id", filter=Q(connected=True)))
    return [({"account": row["sp_id"]}, row["up"]) for row in rows]


def links_configured() -> list[Sample]:
    rows = _fresh_links().values("sp_id").annotate(n=Count("id"))
    return [({"account": row["sp_id"]}, row["n"]) for row in rows]


def window_in_use() -> list[Sample]:
    rows = _fresh_links().values("sp_id").annotate(n=Sum("window_in_use"))
    return [({"account": row["sp_id"]}, row["n"] or 0) for row in rows]


def submit_rate() -> list[Sample]:
    """Submits per second as the senders measure them (summed over live senders)."""
    rows = _fresh_links().values("sp_id").annotate(n=Sum("current_rate"))
    return [({"account": row["sp_id"]}, row["n"] or 0) for row in rows]


def submits_total() -> list[Sample]:
    """Segments accepted by the ISMG since the start (DailyUsage: one row per day)."""
    from fulfillment.models import CmppAccount

    from .models import DailyUsage

    accounts = dict(CmppAccount.objects.values_list("subscription_id", "sp_id"))
    totals: dict[str, int] = {}
    for row in DailyUsage.objects.values("subscription_id").annotate(n=Sum("submitted_segments")):
        sp_id = accounts.get(row["subscription_id"], "")
        totals[sp_id] = totals.get(sp_id, 0) + (row["n"] or 0)
    return [({"account": sp_id}, n) for sp_id, n in sorted(totals.items())]


def result8_recent() -> list[Sample]:
    """Segments failed with Result 8 (flow control) in the last 5 minutes, per account: the
    session retries Result 8 with a back-off, so these are the ones whose retries ran out."""
    since = clock.now() - dt.timedelta(minutes=5)
    rows = (
        Segment.objects.filter(state=MessageState.FAILED, submitted_at__gte=since, submit_result=8)
        .values("message__sp_id")
        .annotate(n=Count("id"))
    )
    return [({"account": row["message__sp_id"]}, row["n"]) for row in rows]


def result8_total() -> list[Sample]:
    """Every SUBMIT_RESP with Result 8 per account and sender, as the live senders count it
    (`SessionCounters.flow_controlled`, written to LinkState with the link state). Per
    sender, because each sender's count restarts with it: Prometheus sees a counter reset
    of that series rather than a drop in a sum."""
    rows = _fresh_links().values("sp_id", "sender").annotate(n=Sum("flow_controlled"))
    return [({"account": row["sp_id"], "sender": row["sender"]}, row["n"] or 0) for row in rows]


def mo_messages_total() -> list[Sample]:
    """Replies (MO) received per account and sender, as the live senders count them
    (`SessionCounters.mo_messages`, written to LinkState with the link state); per sender
    for the same reason as `result8_total`."""
    rows = _fresh_links().values("sp_id", "sender").annotate(n=Sum("mo_messages"))
    return [({"account": row["sp_id"], "sender": row["sender"]}, row["n"] or 0) for row in rows]


def report_latency() -> list[Sample]:
    """p50/p99 from acceptance to status report over the last 15 minutes (sampled)."""
    since = clock.now() - LATENCY_WINDOW
    pairs = list(
        Segment.objects.filter(
            state__in=[MessageState.DELIVERED, MessageState.FAILED],
            submitted_at__gte=since,
            report_at__isnull=False,
        ).values_list("message__created_at", "report_at")[:LATENCY_SAMPLE]
    )
    if not pairs:
        return []
    values = sorted((report - accepted).total_seconds() for accepted, report in pairs)
    last = len(values) - 1
    return [({"quantile": str(q)}, values[min(last, round(q * last))]) for q in (0.5, 0.99)]


def outbox_depth() -> list[Sample]:
    """Messages not yet final, by state (final ones are history, not depth)."""
    counts = dict.fromkeys((str(s) for s in OPEN_STATES), 0)
    for row in (
        Message.objects.filter(state__in=OPEN_STATES).values("state").annotate(n=Count("id"))
    ):
        counts[row["state"]] = row["n"]
    return [({"state": state}, n) for state, n in counts.items()]


def webhook_deliveries() -> list[Sample]:
    counts = dict.fromkeys(WebhookDelivery.State.values, 0)
    for row in WebhookDelivery.objects.values("state").annotate(n=Count("id")):
        counts[row["state"]] = row["n"]
    return [({"kind": "sms_report", "state": state}, n) for state, n in counts.items()]


def webhook_retrying() -> list[Sample]:
    """Deliveries whose last POST failed and that are not given up yet."""
    pending = WebhookDelivery.objects.filter(
        state=WebhookDelivery.State.PENDING, attempts__gt=0
    ).count()
    return [({"kind": "sms_report"}, pending)]


def webhook_attempt_failures() -> list[Sample]:
    """Failed POSTs: every attempt of a delivery except a successful last one."""
    totals = WebhookDelivery.objects.aggregate(
        attempts=Sum("attempts"),
        delivered=Count("id", filter=Q(state=WebhookDelivery.State.DELIVERED)),
    )
    failures = (totals["attempts"] or 0) - (totals["delivered"] or 0)
    return [({"kind": "sms_report"}, max(0, failures))]


def cmpp_links_ready() -> str:
    """A sender is ready when its links are logged in (its LinkState rows are fresh)."""
    sender = os.environ.get("MAS_SENDER_ID", "")
    rows = _fresh_links().filter(sender=sender) if sender else _fresh_links()
    total = rows.count()
    up = rows.filter(connected=True).count()
    if not total:
        raise RuntimeError(f"no fresh link state for sender {sender or '(any)'}")
    if not up:
        raise RuntimeError(f"0/{total} CMPP links logged in")
    return f"{up}/{total} links up"


def register_all() -> None:
    for metric, provider in (
        ("mas_smsgw_cmpp_links_up", links_up),
        ("mas_smsgw_cmpp_links_configured", links_configured),
        ("mas_smsgw_window_in_use", window_in_use),
        ("mas_smsgw_submit_rate", submit_rate),
        ("mas_smsgw_submits_total", submits_total),
        ("mas_smsgw_submit_result8_total", result8_total),
        ("mas_smsgw_submit_result8_5m", result8_recent),
        ("mas_smsgw_mo_messages_total", mo_messages_total),
        ("mas_smsgw_report_latency_seconds", report_latency),
        ("mas_smsgw_outbox_messages", outbox_depth),
        ("mas_webhook_deliveries", webhook_deliveries),
        ("mas_webhook_deliveries_retrying", webhook_retrying),
        ("mas_webhook_attempt_failures_total", webhook_attempt_failures),
    ):
        register_collector(metric, provider)
    register_check("cmpp_links", cmpp_links_ready, roles=("sender",))

    # PIPL: texts and numbers go after RETENTION_DAYS; states, counts, Msg_Ids, times and
    # DailyUsage stay, so statistics and bills are unchanged (docs/retention.md).
    register(
        RetentionPolicy(
            name="smsgw.message_numbers",
            model="smsgw.Message",
            date_field="created_at",
            fields={"msisdn": mask_mobile_value},
            pending=~Q(msisdn__contains="*"),
            only=Q(state__in=FINAL_STATES),
        )
    )
    register(
        RetentionPolicy(
            name="smsgw.request_texts",
            model="smsgw.SendRequest",
            date_field="created_at",
            fields={"body": "", "content": "", "refused": []},
            pending=~Q(content=""),
            only=~Q(messages__state__in=OPEN_STATES),
        )
    )
    register(
        RetentionPolicy(
            name="smsgw.mo_inbox",
            model="smsgw.MoMessage",
            date_field="received_at",
            fields={"text": "", "msisdn": mask_mobile_value},
            pending=~Q(text=""),
        )
    )
    register(
        RetentionPolicy(
            name="smsgw.webhook_payloads",
            model="smsgw.WebhookDelivery",
            date_field="created_at",
            action="purge",
            only=~Q(state=WebhookDelivery.State.PENDING),
        )
    )


register_all()
