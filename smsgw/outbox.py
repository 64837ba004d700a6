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

On PostgreSQL each step is a few set-based statements per batch, whatever its size
(the sender's throughput is bound by these round trips); elsewhere the ORM does the
same row by row.
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
    SendRequest,
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
    still holds in memory), then queued messages by due time. On PostgreSQL the queued
    ones are claimed, leased and given their segment rows in one statement
    (`_claim_due_pg`): the claim is one round trip however large the batch.
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
    if connection.vendor == "postgresql":
        items = _claim_messages(stale, stale=stale, sender=sender, now=now)
        due_limit = limit - len(stale)
        return items + _claim_due_pg(sender=sender, sp_ids=sp_ids, limit=due_limit, now=now)
    due = _claim_ids(
        Message.objects.filter(state=S.QUEUED, due_at__lte=now, sp_id__in=sp_ids).order_by(
            "due_at", "id"
        ),
        limit - len(stale),
    )
    return _claim_messages(stale + due, stale=stale, sender=sender, now=now)


def _claim_messages(
    ids: list[int], *, stale: list[int], sender: str, now: dt.datetime
) -> list[WorkItem]:
    """Lease the messages `ids` (already locked by the caller) and create or reuse their
    segment rows: a re-claimed (`stale`) message's segments that have a Msg_Id are not
    sent again."""
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


def _claim_due_pg(
    *, sender: str, sp_ids: list[str], limit: int, now: dt.datetime
) -> list[WorkItem]:
    """PostgreSQL: take up to `limit` queued messages (FOR UPDATE SKIP LOCKED, so
    concurrent senders never take the same row), lease them and insert their segment
    rows (state submitting, no Msg_Id) in one statement; return the work items.

    A queued message has no segments yet (segments are only created here and in
    `_claim_messages`, which also moves the message out of queued), so every segment
    is new.
    """
    if limit <= 0:
        return []
    message_table = Message._meta.db_table
    segment_table = Segment._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH picked AS (
                SELECT id FROM {message_table}
                WHERE state = %(queued)s AND due_at <= %(now)s AND sp_id = ANY(%(sp_ids)s)
                ORDER BY due_at, id
                LIMIT %(limit)s
                FOR UPDATE SKIP LOCKED
            ), claimed AS (
                UPDATE {message_table} AS m
                SET state = %(submitting)s, lease_owner = %(sender)s,
                    lease_until = %(lease_until)s, attempts = m.attempts + 1
                FROM picked WHERE m.id = picked.id
                RETURNING m.id, m.sp_id, m.msisdn, m.send_request_id, m.segments_total
            ), segments AS (
                INSERT INTO {segment_table}
                    (message_id, seq, state, msg_id, report_stat, submitting_at, sender)
                SELECT c.id, g.seq, %(submitting)s, '', '', %(now)s, %(sender)s
                FROM claimed AS c CROSS JOIN LATERAL generate_series(1, c.segments_total) AS g(seq)
                RETURNING id, message_id, seq
            )
            SELECT s.id, c.id, s.seq, c.sp_id, c.msisdn, c.send_request_id
            FROM segments AS s JOIN claimed AS c ON c.id = s.message_id
            ORDER BY c.id, s.seq
            """,  # noqa: S608 (table names from the models)
            {
                "queued": S.QUEUED,
                "submitting": S.SUBMITTING,
                "now": now,
                "sp_ids": sp_ids,
                "limit": limit,
                "sender": sender,
                "lease_until": now + dt.timedelta(seconds=lease_seconds()),
            },
        )
        rows = cursor.fetchall()
    if not rows:
        return []
    requests = {
        pk: (content, src_id, trace_id)
        for pk, content, src_id, trace_id in SendRequest.objects.filter(
            id__in={row[5] for row in rows}
        ).values_list("id", "content", "src_id", "trace_id")
    }
    # split_text depends only on the text and the 8-bit reference: split each once.
    splits: dict[tuple[int, int], list] = {}
    items = []
    for segment_id, message_id, seq, sp_id, msisdn, request_id in rows:
        content, src_id, trace_id = requests[request_id]
        key = (request_id, message_id & 0xFF)
        parts = splits.get(key)
        if parts is None:
            parts = splits[key] = split_text(content, message_id)
        part = parts[seq - 1]
        items.append(
            WorkItem(
                segment_id=segment_id,
                message_id=message_id,
                sp_id=sp_id,
                msisdn=msisdn,
                src_id=src_id,
                msg_fmt=part.msg_fmt,
                tp_udhi=part.tp_udhi,
                pk_total=part.pk_total,
                pk_number=part.pk_number,
                content=part.content,
                trace_id=trace_id,
            )
        )
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
    if connection.vendor == "postgresql":
        _settle_messages_pg(ids)
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


def _settle_messages_pg(ids: list[int]) -> None:
    """`settle_messages` as one statement: count each message's segments by state, lock
    the messages (in id order, so two writers never wait on each other in a cycle) and
    move them by the same rules: failed as soon as one segment failed, delivered when
    all were delivered, expired when the rest expired, submitted when all have a Msg_Id
    (only from submitting). A message reaching a final state is released from its
    lease and queued for the report webhook."""
    now = clock.now()
    message_table = Message._meta.db_table
    segment_table = Segment._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH counts AS (
                SELECT message_id,
                       count(*) FILTER (WHERE state = %(failed)s) AS failed,
                       count(*) FILTER (WHERE state = %(delivered)s) AS delivered,
                       count(*) FILTER (WHERE state = %(expired)s) AS expired,
                       count(*) FILTER (WHERE msg_id <> '') AS with_id
                FROM {segment_table} WHERE message_id = ANY(%(ids)s)
                GROUP BY message_id
            ), locked AS (
                SELECT m.id, m.state AS old_state,
                       CASE
                           WHEN c.failed > 0 THEN %(failed)s
                           WHEN c.delivered = m.segments_total THEN %(delivered)s
                           WHEN c.delivered + c.expired = m.segments_total THEN %(expired)s
                           WHEN c.with_id = m.segments_total THEN %(submitted)s
                       END AS target
                FROM {message_table} AS m JOIN counts AS c ON c.message_id = m.id
                ORDER BY m.id
                FOR UPDATE OF m
            ), moves AS (
                SELECT id, target,
                       target = %(submitted)s AND old_state = %(submitting)s AS to_submitted,
                       target <> %(submitted)s AND old_state = ANY(%(final_from)s) AS to_final
                FROM locked WHERE target IS NOT NULL
            )
            UPDATE {message_table} AS m SET
                state = CASE WHEN v.to_submitted OR v.to_final THEN v.target ELSE m.state END,
                submitted_at = CASE WHEN v.to_submitted THEN %(now)s
                                    ELSE COALESCE(m.submitted_at, %(now)s) END,
                done_at = CASE WHEN v.to_final THEN %(now)s ELSE m.done_at END,
                lease_owner = CASE WHEN v.to_submitted OR v.to_final THEN ''
                                   ELSE m.lease_owner END,
                lease_until = CASE WHEN v.to_submitted OR v.to_final THEN NULL
                                   ELSE m.lease_until END
            FROM moves AS v
            WHERE m.id = v.id
              AND (v.to_submitted OR v.to_final
                   OR (v.target <> %(submitted)s AND m.submitted_at IS NULL))
            RETURNING m.id, v.to_final
            """,  # noqa: S608 (table names from the models)
            {
                "ids": ids,
                "now": now,
                "failed": S.FAILED,
                "delivered": S.DELIVERED,
                "expired": S.EXPIRED,
                "submitted": S.SUBMITTED,
                "submitting": S.SUBMITTING,
                "final_from": [S.QUEUED, S.SUBMITTING, S.SUBMITTED],
            },
        )
        newly_final = [message_id for message_id, to_final in cursor.fetchall() if to_final]
    if newly_final and WebhookEndpoint.objects.filter(is_active=True, send_reports=True).exists():
        report_events_queue(newly_final)


# ----------------------------------------------------------------------------- usage


def _usage_add(counts: dict[tuple[int, dt.date], Counter]) -> None:
    """Add to DailyUsage rows (created on first use; safe against a concurrent creator)."""
    counts = {key: counter for key, counter in counts.items() if any(counter.values())}
    if not counts:
        return
    if connection.vendor == "postgresql":
        _usage_add_pg(counts)
        return
    for (subscription_id, day), counter in counts.items():
        increments = {
            f"{field}_segments": F(f"{field}_segments") + n for field, n in counter.items() if n
        }
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


def _usage_add_pg(counts: dict[tuple[int, dt.date], Counter]) -> None:
    """PostgreSQL: all increments in one INSERT … ON CONFLICT DO UPDATE (the unique
    (subscription, day) constraint makes a concurrent first use safe)."""
    keys = sorted(counts)  # one lock order for every writer
    table = DailyUsage._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {table}
                (subscription_id, day, submitted_segments, delivered_segments, failed_segments)
            SELECT * FROM unnest(%s::bigint[], %s::date[], %s::integer[], %s::integer[],
                                 %s::integer[])
            ON CONFLICT (subscription_id, day) DO UPDATE SET
                submitted_segments = {table}.submitted_segments + EXCLUDED.submitted_segments,
                delivered_segments = {table}.delivered_segments + EXCLUDED.delivered_segments,
                failed_segments = {table}.failed_segments + EXCLUDED.failed_segments
            """,  # noqa: S608 (table name from the model)
            [
                [k[0] for k in keys],
                [k[1] for k in keys],
                [counts[k]["submitted"] for k in keys],
                [counts[k]["delivered"] for k in keys],
                [counts[k]["failed"] for k in keys],
            ],
        )


def _errors_set(errors: dict[int, str], *, only_empty: bool) -> None:
    """Set messages' `error` (one statement on PostgreSQL); `only_empty` keeps an error
    already recorded."""
    if not errors:
        return
    if connection.vendor != "postgresql":
        for message_id, error in errors.items():
            queryset = Message.objects.filter(id=message_id)
            if only_empty:
                queryset = queryset.filter(error="")
            queryset.update(error=error)
        return
    table = Message._meta.db_table
    condition = " AND m.error = ''" if only_empty else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} AS m SET error = v.error "  # noqa: S608 (fixed names)
            "FROM unnest(%s::bigint[], %s::varchar[]) AS v(id, error) "
            f"WHERE m.id = v.id{condition}",
            [list(errors), list(errors.values())],
        )


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
    if connection.vendor == "postgresql":
        _submit_results_record_pg(outcomes)
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
    _errors_set(
        {m: (o.error or f"Result {o.result}")[:100] for m, o in failed.items()}, only_empty=False
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
    if connection.vendor == "postgresql":
        return _reports_record_pg(reports)
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
        first_stat: dict[int, str] = {}
        for segment in changed:
            if segment.state == S.FAILED:
                first_stat.setdefault(segment.message_id, segment.report_stat)
        _errors_set({m: f"状态报告 {stat}" for m, stat in first_stat.items()}, only_empty=True)
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


def _submit_results_record_pg(outcomes: list[SubmitOutcome]) -> None:
    """`submit_results_record` on PostgreSQL: the segments are written with one
    UPDATE … FROM unnest(…) (only those still submitting), then errors, message states
    (`_settle_messages_pg`) and usage, each one statement for the whole batch."""
    now = clock.now()
    by_id = {o.segment_id: o for o in outcomes}
    answered = [o for o in by_id.values() if o.result is not None]
    segment_table = Segment._meta.db_table
    message_table = Message._meta.db_table
    rows = []
    with connection.cursor() as cursor:
        if answered:
            cursor.execute(
                f"""
                UPDATE {segment_table} AS s SET
                    state = CASE WHEN v.result = 0 THEN %(submitted)s ELSE %(failed)s END,
                    msg_id = COALESCE(v.msg_id, s.msg_id),
                    submit_result = v.result,
                    submitted_at = %(now)s,
                    done_at = CASE WHEN v.result = 0 THEN s.done_at ELSE %(now)s END
                FROM unnest(%(ids)s::bigint[], %(msg_ids)s::varchar[], %(results)s::integer[])
                     AS v(id, msg_id, result),
                     {message_table} AS m
                WHERE s.id = v.id AND s.state = %(submitting)s AND m.id = s.message_id
                RETURNING s.message_id, v.result, m.subscription_id
                """,  # noqa: S608 (table names from the models)
                {
                    "submitted": S.SUBMITTED,
                    "failed": S.FAILED,
                    "submitting": S.SUBMITTING,
                    "now": now,
                    "ids": [o.segment_id for o in answered],
                    "msg_ids": [
                        str(o.msg_id) if o.result == 0 or o.msg_id else None for o in answered
                    ],
                    "results": [o.result for o in answered],
                },
            )
            rows = cursor.fetchall()
        unanswered: set[int] = set()
        silent = [o.segment_id for o in by_id.values() if o.result is None]
        if silent:
            cursor.execute(
                f"SELECT DISTINCT message_id FROM {segment_table} "  # noqa: S608
                "WHERE id = ANY(%s) AND state = %s",
                [silent, S.SUBMITTING],
            )
            unanswered = {row[0] for row in cursor.fetchall()}
    failed = {message_id for message_id, result, _sub in rows if result != 0}
    if failed:
        refused = {o.message_id: o for o in answered if o.result != 0 and o.message_id in failed}
        _errors_set(
            {m: (o.error or f"Result {o.result}")[:100] for m, o in refused.items()},
            only_empty=False,
        )
    if unanswered:
        Message.objects.filter(id__in=unanswered, state=S.SUBMITTING).update(
            lease_owner="", lease_until=now + dt.timedelta(seconds=5)
        )
    settle_messages({o.message_id for o in outcomes} - unanswered)
    usage: dict[tuple[int, dt.date], Counter] = defaultdict(Counter)
    day = local_day(now)
    for _message_id, result, subscription_id in rows:
        if result == 0 and subscription_id is not None:
            usage[(subscription_id, day)]["submitted"] += 1
    _usage_add(usage)


def _reports_record_pg(reports: list[ReportIn]) -> list[ReportIn]:
    """`reports_record` on PostgreSQL: the segments still awaiting a report are matched
    and written with one UPDATE … FROM unnest(…); the reports that matched no
    segment at all are found with one more query; then errors, message states and
    usage in one statement each."""
    now = clock.now()
    by_msg_id = {str(r.msg_id): r for r in reports}
    segment_table = Segment._meta.db_table
    message_table = Message._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE {segment_table} AS s SET
                state = CASE WHEN v.delivered THEN %(delivered)s ELSE %(failed)s END,
                report_stat = v.stat, report_at = %(now)s, done_at = %(now)s
            FROM unnest(%(msg_ids)s::varchar[], %(stats)s::varchar[], %(flags)s::boolean[])
                 AS v(msg_id, stat, delivered),
                 {message_table} AS m
            WHERE s.msg_id = v.msg_id AND s.state = %(submitted)s AND m.id = s.message_id
            RETURNING s.msg_id, s.message_id, s.state, s.report_stat, m.subscription_id
            """,  # noqa: S608 (table names from the models)
            {
                "delivered": S.DELIVERED,
                "failed": S.FAILED,
                "submitted": S.SUBMITTED,
                "now": now,
                "msg_ids": list(by_msg_id),
                "stats": [r.stat[:7] for r in by_msg_id.values()],
                "flags": [r.stat == "DELIVRD" for r in by_msg_id.values()],
            },
        )
        changed = cursor.fetchall()
        found = {row[0] for row in changed}
        rest = [m for m in by_msg_id if m not in found]
        if rest:
            # Already final (a repeated report) or not known (yet): tell them apart.
            cursor.execute(
                f"SELECT DISTINCT msg_id FROM {segment_table} WHERE msg_id = ANY(%s)",  # noqa: S608
                [rest],
            )
            found.update(row[0] for row in cursor.fetchall())
    if changed:
        first_stat: dict[int, str] = {}
        usage: dict[tuple[int, dt.date], Counter] = defaultdict(Counter)
        day = local_day(now)
        for _msg_id, message_id, state, stat, subscription_id in changed:
            if state == S.FAILED:
                first_stat.setdefault(message_id, stat)
            if subscription_id is not None:
                kind = "delivered" if state == S.DELIVERED else "failed"
                usage[(subscription_id, day)][kind] += 1
        _errors_set({m: f"状态报告 {stat}" for m, stat in first_stat.items()}, only_empty=True)
        settle_messages({row[1] for row in changed})
        _usage_add(usage)
        _reports_log_pg(changed, by_msg_id)
    return [r for r in reports if str(r.msg_id) not in found]


def _reports_log_pg(changed: list[tuple], by_msg_id: dict[str, ReportIn]) -> None:
    """Log the reports just matched on PostgreSQL (`_report_log`); the segments' trace
    ids and numbers are read only for the reports whose level is enabled, so with
    DEBUG off a batch of deliveries costs no query."""
    wanted = [
        msg_id
        for msg_id, _message_id, state, _stat, _subscription_id in changed
        if logger.isEnabledFor(logging.DEBUG if state == S.DELIVERED else logging.INFO)
    ]
    if not wanted:
        return
    segments = (
        Segment.objects.filter(msg_id__in=wanted)
        .annotate(trace_id=F("message__send_request__trace_id"), msisdn=F("message__msisdn"))
        .only("id", "message_id", "seq", "msg_id")
    )
    for segment in segments:
        _report_log(segment, by_msg_id[segment.msg_id])


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
