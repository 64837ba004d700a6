"""The sender's database side: claim due messages, record submit results, reports and replies.

Plain synchronous functions (the asyncio sender runs them in its database thread), so
they are tested without sockets. The outbox protocol:

1. `outbox_claim` takes due messages with `SELECT … FOR UPDATE SKIP LOCKED` (PostgreSQL;
   SQLite runs one sender) and marks them `submitting` under a lease owned by the
   sender; a message whose lease ran out (its sender died) is claimed again.
2. It creates the `Segment` rows (state submitting, no Msg_Id) before anything is
   sent. On a re-claim only segments without a Msg_Id are sent again: after a kill -9
   the unacknowledged window is all that can go twice.
3. `submit_results_record` stores Msg_Id and Result per segment, `reports_record`
   matches status reports by Msg_Id; both settle the messages' states and count
   `DailyUsage` (day in Asia/Shanghai).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from core import clock
from core.phone import mask_mobile
from core.tracing import trace

from .cmpp.text import split_text
from .models import (
    DailyUsage,
    Extension,
    Message,
    MessageState,
    MoMessage,
    Segment,
    WebhookEndpoint,
)
from .webhooks import reply_events_queue, report_events_queue

logger = logging.getLogger(__name__)

S = MessageState


@dataclass(frozen=True, slots=True)
class WorkItem:
    """One segment to submit, with everything the PDU needs."""

    segment_id: int
    message_id: int
    sp_id: str
    msisdn: str
    src_id: str
    msg_fmt: int
    tp_udhi: int
    pk_total: int
    pk_number: int
    content: bytes
    trace_id: str = ""  # of the call that enqueued the message (SendRequest.trace_id)


@dataclass(frozen=True, slots=True)
class SubmitOutcome:
    """What happened to one submitted segment: `result` None = no answer (resend later)."""

    segment_id: int
    message_id: int
    msg_id: int | None
    result: int | None
    error: str = ""


@dataclass(frozen=True, slots=True)
class ReportIn:
    msg_id: int
    stat: str


@dataclass(frozen=True, slots=True)
class ReplyIn:
    sp_id: str
    src: str
    dest: str
    text: str
    msg_id: int


def lease_seconds() -> int:
    return int(getattr(settings, "SMSGW_LEASE_SECONDS", 60))


def local_day(at: dt.datetime) -> dt.date:
    return timezone.localtime(at).date()


# ----------------------------------------------------------------------------- bulk

_CASTS = {
    "id": "bigint",
    "state": "varchar",
    "msg_id": "varchar",
    "submit_result": "integer",
    "report_stat": "varchar",
    "submitted_at": "timestamptz",
    "report_at": "timestamptz",
    "done_at": "timestamptz",
}


def _segments_set(segments: list[Segment], fields: list[str]) -> None:
    """Write `fields` of many segments in one statement (UPDATE … FROM VALUES on
    PostgreSQL; Django's bulk_update elsewhere)."""
    if not segments:
        return
    if connection.vendor != "postgresql":
        Segment.objects.bulk_update(segments, fields, batch_size=500)
        return
    columns = ["id", *fields]
    row = "(" + ", ".join(f"%s::{_CASTS[c]}" for c in columns) + ")"
    assignments = ", ".join(f"{c} = v.{c}" for c in fields)
    table = Segment._meta.db_table
    with connection.cursor() as cursor:
        for start in range(0, len(segments), 2000):
            chunk = segments[start : start + 2000]
            params = [getattr(s, "pk" if c == "id" else c) for s in chunk for c in columns]
            cursor.execute(
                f"UPDATE {table} AS s SET {assignments} FROM (VALUES "  # noqa: S608 (fixed names)
                + ", ".join([row] * len(chunk))
                + f") AS v({', '.join(columns)}) WHERE s.id = v.id",
                params,
            )


# ----------------------------------------------------------------------------- claim


def _claim_ids(queryset, limit: int) -> list[int]:
    if connection.vendor == "postgresql":
        queryset = queryset.select_for_update(skip_locked=True, of=("self",))
    return list(queryset.values_list("id", flat=True)[:limit])


@transaction.atomic
def outbox_claim(*, sender: str, sp_ids: Iterable[str], limit: int) -> list[WorkItem]:
    """Claim up to `limit` due messages of the given accounts; return their segments to send.

    Expired leases first (a dead sender's messages; never the caller's own, which it
    still holds in memory), then queued messages by due time.
    """
    sp_ids = list(sp_ids)
    if not sp_ids or limit <= 0:
        return []
    now = clock.now()
    stale = _claim_ids(
        Message.objects.filter(state=S.SUBMITTING, lease_until__lt=now, sp_id__in=sp_ids)
        .exclude(lease_owner=sender)
        .order_by("lease_until"),
        limit,
    )
    due = _claim_ids(
        Message.objects.filter(state=S.QUEUED, due_at__lte=now, sp_id__in=sp_ids).order_by(
            "due_at", "id"
        ),
        limit - len(stale),
    )
    ids = stale + due
    if not ids:
        return []
    Message.objects.filter(id__in=ids).update(
        state=S.SUBMITTING,
        lease_owner=sender,
        lease_until=now + dt.timedelta(seconds=lease_seconds()),
        attempts=F("attempts") + 1,
    )
    messages = list(
        Message.objects.filter(id__in=ids)
        .select_related("send_request")
        .only(
            "id",
            "sp_id",
            "msisdn",
            "segments_total",
            "send_request__content",
            "send_request__src_id",
            "send_request__trace_id",
        )
    )
    existing: dict[int, dict[int, Segment]] = defaultdict(dict)
    if stale:
        for segment in Segment.objects.filter(message_id__in=stale):
            existing[segment.message_id][segment.seq] = segment
    new_segments: list[Segment] = []
    resend: list[int] = []
    plan: list[tuple[Message, int, object]] = []
    for message in messages:
        parts = split_text(message.send_request.content, message.id)
        have = existing.get(message.id, {})
        for part in parts:
            seq = part.pk_number
            old = have.get(seq)
            if old is None:
                new_segments.append(
                    Segment(message_id=message.id, seq=seq, submitting_at=now, sender=sender)
                )
                plan.append((message, seq, part))
            elif old.state == S.SUBMITTING and not old.msg_id:
                resend.append(old.pk)
                plan.append((message, seq, part))
    if new_segments:
        Segment.objects.bulk_create(new_segments, batch_size=2000)
    if resend:
        Segment.objects.filter(id__in=resend).update(submitting_at=now, sender=sender)
    segment_ids = dict(
        ((m, s), pk)
        for pk, m, s in Segment.objects.filter(message_id__in=ids).values_list(
            "id", "message_id", "seq"
        )
    )
    items = [
        WorkItem(
            segment_id=segment_ids[(message.id, seq)],
            message_id=message.id,
            sp_id=message.sp_id,
            msisdn=message.msisdn,
            src_id=message.send_request.src_id,
            msg_fmt=part.msg_fmt,
            tp_udhi=part.tp_udhi,
            pk_total=part.pk_total,
            pk_number=part.pk_number,
            content=part.content,
            trace_id=message.send_request.trace_id,
        )
        for message, seq, part in plan
    ]
    # A re-claimed message whose segments all have a Msg_Id needs nothing sent: settle it.
    if stale:
        settle_messages(stale)
    return items


def leases_renew(*, sender: str) -> int:
    """Extend the leases of the messages this sender is still submitting."""
    return Message.objects.filter(lease_owner=sender, state=S.SUBMITTING).update(
        lease_until=clock.now() + dt.timedelta(seconds=lease_seconds())
    )


def leases_release(*, sender: str) -> int:
    """On a clean stop: give back messages not yet fully submitted (sent again by anyone)."""
    return Message.objects.filter(lease_owner=sender, state=S.SUBMITTING).update(
        lease_until=clock.now(), lease_owner=""
    )


# ----------------------------------------------------------------------------- settle


def settle_messages(message_ids: Iterable[int]) -> None:
    """Recompute each message's state from its segments (the message summarises them)."""
    ids = list(set(message_ids))
    if not ids:
        return
    now = clock.now()
    totals = dict(Message.objects.filter(id__in=ids).values_list("id", "segments_total"))
    states: dict[int, Counter] = defaultdict(Counter)
    for message_id, state, msg_id in Segment.objects.filter(message_id__in=ids).values_list(
        "message_id", "state", "msg_id"
    ):
        states[message_id][state] += 1
        if msg_id:
            states[message_id]["_with_id"] += 1
    target: dict[str, list[int]] = defaultdict(list)
    for message_id, total in totals.items():
        counts = states.get(message_id, Counter())
        if counts[S.FAILED]:
            target[S.FAILED].append(message_id)
        elif counts[S.DELIVERED] == total:
            target[S.DELIVERED].append(message_id)
        elif counts[S.DELIVERED] + counts[S.EXPIRED] == total:
            target[S.EXPIRED].append(message_id)
        elif counts["_with_id"] == total:
            target[S.SUBMITTED].append(message_id)
    final_from = [S.QUEUED, S.SUBMITTING, S.SUBMITTED]
    notify = WebhookEndpoint.objects.filter(is_active=True, send_reports=True).exists()
    newly_final: list[int] = []
    for state, members in target.items():
        queryset = Message.objects.filter(id__in=members)
        if state == S.SUBMITTED:
            queryset.filter(state=S.SUBMITTING).update(
                state=S.SUBMITTED, submitted_at=now, lease_owner="", lease_until=None
            )
        else:
            moving = queryset.filter(state__in=final_from)
            if notify:
                newly_final.extend(moving.values_list("id", flat=True))
            moving.update(state=state, done_at=now, lease_owner="", lease_until=None)
            queryset.filter(submitted_at__isnull=True).update(submitted_at=now)
    if newly_final:
        report_events_queue(newly_final)


# ----------------------------------------------------------------------------- usage


def _usage_add(counts: dict[tuple[int, dt.date], Counter]) -> None:
    """Add to DailyUsage rows (created on first use; safe against a concurrent creator)."""
    for (subscription_id, day), counter in counts.items():
        increments = {
            f"{field}_segments": F(f"{field}_segments") + n for field, n in counter.items() if n
        }
        if not increments:
            continue
        row = DailyUsage.objects.filter(subscription_id=subscription_id, day=day)
        if row.update(**increments):
            continue
        try:
            with transaction.atomic():
                DailyUsage.objects.create(
                    subscription_id=subscription_id,
                    day=day,
                    **{f"{field}_segments": n for field, n in counter.items()},
                )
        except IntegrityError:
            row.update(**increments)


# ----------------------------------------------------------------------------- results


@transaction.atomic
def submit_results_record(outcomes: list[SubmitOutcome], *, sender: str = "") -> None:
    """Store what the ISMG answered for each segment.

    Result 0: submitted with its Msg_Id (one billable segment); another Result: the
    segment and its message failed; no answer (link lost, N timeouts): the segment
    stays unacknowledged and its message is handed back for another try shortly.
    """
    if not outcomes:
        return
    now = clock.now()
    by_id = {o.segment_id: o for o in outcomes}
    segments = list(Segment.objects.filter(id__in=by_id, state=S.SUBMITTING))
    changed: list[Segment] = []
    unanswered: set[int] = set()
    usage: dict[tuple[int, dt.date], Counter] = defaultdict(Counter)
    accepted_messages: list[int] = []
    for segment in segments:
        outcome = by_id[segment.pk]
        if outcome.result is None:
            unanswered.add(segment.message_id)
            continue
        segment.submit_result = outcome.result
        segment.submitted_at = now
        if outcome.result == 0:
            segment.msg_id = str(outcome.msg_id)
            segment.state = S.SUBMITTED
            accepted_messages.append(segment.message_id)
        else:
            segment.state = S.FAILED
            segment.done_at = now
            if outcome.msg_id:
                segment.msg_id = str(outcome.msg_id)
        changed.append(segment)
    if changed:
        _segments_set(changed, ["state", "msg_id", "submit_result", "submitted_at", "done_at"])
    failed = {by_id[s.pk].message_id: by_id[s.pk] for s in changed if s.state == S.FAILED}
    for message_id, outcome in failed.items():
        Message.objects.filter(id=message_id).update(
            error=(outcome.error or f"Result {outcome.result}")[:100]
        )
    if accepted_messages:
        per_message = Counter(accepted_messages)
        subs = Message.objects.filter(id__in=per_message, subscription_id__isnull=False)
        day = local_day(now)
        for message_id, subscription_id in subs.values_list("id", "subscription_id"):
            usage[(subscription_id, day)]["submitted"] += per_message[message_id]
    _usage_add(usage)
    if unanswered:
        Message.objects.filter(id__in=unanswered, state=S.SUBMITTING).update(
            lease_owner="", lease_until=now + dt.timedelta(seconds=5)
        )
    settle_messages({o.message_id for o in outcomes} - unanswered)


def _report_log(segment: Segment, report: ReportIn) -> None:
    """Log a matched report under its message's trace id: a failure at INFO, a delivery
    at DEBUG (thousands a second; the level check keeps that free when DEBUG is off)."""
    level = logging.DEBUG if report.stat == "DELIVRD" else logging.INFO
    if not logger.isEnabledFor(level):
        return
    with trace(segment.trace_id):
        logger.log(
            level,
            "report %s for message %s segment %s to %s (Msg_Id %s)",
            report.stat,
            segment.message_id,
            segment.seq,
            mask_mobile(segment.msisdn),
            segment.msg_id,
        )


@transaction.atomic
def reports_record(reports: list[ReportIn]) -> list[ReportIn]:
    """Match status reports to segments by Msg_Id; return the ones that matched nothing.

    DELIVRD delivers the segment; any other final stat (UNDELIV, EXPIRED, REJECTD, …)
    fails it. A second report for a finished segment is ignored.
    """
    if not reports:
        return []
    now = clock.now()
    by_msg_id = {str(r.msg_id): r for r in reports}
    segments = list(
        Segment.objects.filter(msg_id__in=by_msg_id).annotate(
            trace_id=F("message__send_request__trace_id"), msisdn=F("message__msisdn")
        )
    )
    found = {s.msg_id for s in segments}
    changed = []
    delivered: list[int] = []
    failed: list[int] = []
    for segment in segments:
        if segment.state != S.SUBMITTED:
            continue
        report = by_msg_id[segment.msg_id]
        segment.report_stat = report.stat[:7]
        segment.report_at = now
        segment.done_at = now
        if report.stat == "DELIVRD":
            segment.state = S.DELIVERED
            delivered.append(segment.message_id)
        else:
            segment.state = S.FAILED
            failed.append(segment.message_id)
        changed.append(segment)
        _report_log(segment, report)
    if changed:
        _segments_set(changed, ["state", "report_stat", "report_at", "done_at"])
        for message_id in set(failed):
            stat = next(s.report_stat for s in changed if s.message_id == message_id)
            Message.objects.filter(id=message_id, error="").update(error=f"状态报告 {stat}")
        usage: dict[tuple[int, dt.date], Counter] = defaultdict(Counter)
        day = local_day(now)
        counts = Counter((m, "delivered") for m in delivered) + Counter(
            (m, "failed") for m in failed
        )
        subs = dict(
            Message.objects.filter(
                id__in={m for m, _k in counts}, subscription_id__isnull=False
            ).values_list("id", "subscription_id")
        )
        for (message_id, kind), n in counts.items():
            if message_id in subs:
                usage[(subs[message_id], day)][kind] += n
        _usage_add(usage)
        settle_messages({s.message_id for s in changed})
    return [r for r in reports if str(r.msg_id) not in found]


def segments_expire_overdue() -> int:
    """Expire segments whose report has not come within SMSGW_REPORT_TIMEOUT_HOURS (48 h)."""
    hours = int(getattr(settings, "SMSGW_REPORT_TIMEOUT_HOURS", 48))
    now = clock.now()
    with transaction.atomic():
        overdue = Segment.objects.filter(
            state=S.SUBMITTED, submitted_at__lt=now - dt.timedelta(hours=hours)
        )
        message_ids = set(overdue.values_list("message_id", flat=True))
        count = overdue.update(state=S.EXPIRED, done_at=now)
        settle_messages(message_ids)
    return count


# ----------------------------------------------------------------------------- replies

OPT_OUT_WORDS = {"TD", "T", "N", "0000", "退订", "取消", "QX"}


@transaction.atomic
def replies_record(replies: list[ReplyIn]) -> list[MoMessage]:
    """Store replies (MO), routed by Dest_Id: service code → subscription → enterprise,
    the remaining digits (extension) → a department when one is mapped. A reply that is
    an opt-out word (TD, 退订, …) from a registered number records the opt-out (第4条)."""
    from customers.models import RegisteredRecipient
    from customers.services import recipient_opt_out
    from fulfillment.selectors import subscription_for_destination

    stored = []
    for reply in replies:
        subscription = subscription_for_destination(reply.dest)
        extension = department = ""
        enterprise_id = None
        if subscription is not None:
            enterprise_id = subscription.enterprise_id
            extension = reply.dest[len(subscription.service_code.code) :]
            if extension:
                mapped = (
                    Extension.objects.filter(
                        subscription=subscription,
                        extension__in=[extension[:n] for n in range(len(extension), 0, -1)],
                    )
                    .order_by("-extension")
                    .first()
                )
                department = mapped.department if mapped else ""
        msisdn = reply.src[-11:] if reply.src.isdigit() else reply.src
        mo = MoMessage.objects.create(
            enterprise_id=enterprise_id,
            subscription=subscription,
            department=department,
            msisdn=msisdn,
            dest_id=reply.dest,
            extension=extension,
            text=reply.text,
            msg_id=str(reply.msg_id),
            sp_id=reply.sp_id,
            received_at=clock.now(),
        )
        if (
            enterprise_id
            and reply.text.strip().upper() in OPT_OUT_WORDS
            and RegisteredRecipient.objects.filter(
                enterprise_id=enterprise_id, msisdn=msisdn, opted_out_at__isnull=True
            ).exists()
        ):
            recipient_opt_out(enterprise_id=enterprise_id, msisdn=msisdn)
        stored.append(mo)
    reply_events_queue(stored)
    return stored
