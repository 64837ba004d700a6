"""The SLA engine: a ticket's repair clock, computed from its records.

Rules (issue 7, 第14条第2款):
- the clock starts at `reported_at` and counts on the fault class's clock (24x7, or a
  business calendar);
- it pauses only in the states the fault class names (`pause_states`, by default
  pending); every pause is an `SlaPause` row; the paused total is recomputed from them;
- it stops when the ticket is resolved, cancelled or rejected, and runs again when the
  enterprise rejects a resolution (the fault was not repaired, so that time counts);
- reclassifying recomputes everything from `reported_at` with the new target, keeping
  the recorded pauses;
- milestones (`SlaEvent`): 50 % and 80 % warnings, breach at 100 % (escalated to the
  shift lead) and 150 % (escalated to the department head); each raised once, in order,
  with the instant it was due, however late the periodic check runs.

`sla_recompute` sets every `sla_*` field; `sla_raise_due` raises what is due; both work
on a locked ticket inside the caller's transaction.
"""

import datetime as dt
from dataclasses import dataclass

from django.db import transaction

from core import clock

from ..models import SlaEvent, SlaPause, Ticket

LEVELS = (
    SlaEvent.Level.WARN_50,
    SlaEvent.Level.WARN_80,
    SlaEvent.Level.BREACH,
    SlaEvent.Level.ESCALATE_HEAD,
)


@dataclass(frozen=True)
class _Segment:
    start: dt.datetime
    end: dt.datetime | None  # None: still running


def _running_segments(ticket: Ticket, pauses: list[SlaPause]) -> list[_Segment]:
    """The stretches of time in which the clock ran, oldest first."""
    segments = []
    cursor = ticket.reported_at
    for pause in pauses:
        if pause.started_at > cursor:
            segments.append(_Segment(cursor, pause.started_at))
        if pause.ended_at is None:
            return segments
        cursor = max(cursor, pause.ended_at)
    segments.append(_Segment(cursor, ticket.sla_stopped_at))
    return segments


def used_seconds(ticket: Ticket, at: dt.datetime, pauses: list[SlaPause] | None = None) -> float:
    """Clock time the ticket has used up to `at`."""
    counter = ticket.fault_class.clock()
    pauses = list(ticket.pauses.all()) if pauses is None else pauses
    total = 0.0
    for segment in _running_segments(ticket, pauses):
        end = at if segment.end is None else min(segment.end, at)
        if end > segment.start:
            total += counter.measure(segment.start, end)
    return total


def instant_at(ticket: Ticket, seconds: float, pauses: list[SlaPause]) -> dt.datetime | None:
    """When the clock reaches `seconds` of used time (None while paused/stopped before)."""
    counter = ticket.fault_class.clock()
    remaining = seconds
    for segment in _running_segments(ticket, pauses):
        if segment.end is None:
            return counter.add(segment.start, remaining)
        length = counter.measure(segment.start, segment.end)
        if remaining <= length:
            return counter.add(segment.start, remaining)
        remaining -= length
    return None


def sla_recompute(ticket: Ticket, *, now: dt.datetime | None = None) -> None:
    """Set the ticket's `sla_*` fields from its fault class and pause records (no save)."""
    now = now or clock.now()
    saved = ticket.pk is not None
    pauses = (
        list(SlaPause.objects.filter(ticket=ticket).order_by("started_at", "id")) if saved else []
    )
    counter = ticket.fault_class.clock()
    ticket.sla_target_seconds = ticket.fault_class.target_seconds
    ticket.sla_paused_seconds = sum(
        counter.measure(p.started_at, p.ended_at) for p in pauses if p.ended_at is not None
    )
    open_pause = next((p for p in pauses if p.ended_at is None), None)
    ticket.sla_paused_since = open_pause.started_at if open_pause else None
    target = ticket.sla_target_seconds
    if target is None:
        ticket.sla_deadline = ticket.sla_next_check_at = ticket.sla_remaining_seconds = None
        ticket.sla_breached = False
        return
    raised = (
        set(SlaEvent.objects.filter(ticket=ticket).values_list("level", flat=True))
        if saved
        else set()
    )
    ticket.sla_breached = SlaEvent.Level.BREACH in raised
    if open_pause is not None or ticket.sla_stopped_at is not None:
        # Stands still: no deadline to race against; the time left is frozen.
        at = open_pause.started_at if open_pause else ticket.sla_stopped_at
        ticket.sla_remaining_seconds = target - used_seconds(ticket, at, pauses)
        ticket.sla_deadline = None if open_pause else instant_at(ticket, target, pauses)
        ticket.sla_next_check_at = None
        return
    ticket.sla_remaining_seconds = None
    ticket.sla_deadline = instant_at(ticket, target, pauses)
    pending = [level for level in LEVELS if level not in raised]
    ticket.sla_next_check_at = (
        instant_at(ticket, target * pending[0] / 100, pauses) if pending else None
    )


def sla_raise_due(ticket: Ticket, *, now: dt.datetime | None = None) -> list[SlaEvent]:
    """Raise, in order, every milestone the running clock has reached by `now`.

    Called by the periodic check and by every transition before the state changes, so a
    ticket resolved after its deadline still records the breach. Saves the ticket's clock
    fields and escalation level; notifications go out after the commit.
    """
    now = now or clock.now()
    target = ticket.sla_target_seconds
    if target is None or ticket.sla_paused_since is not None:
        return []
    pauses = list(SlaPause.objects.filter(ticket=ticket).order_by("started_at", "id"))
    used = used_seconds(ticket, now, pauses)
    raised = set(SlaEvent.objects.filter(ticket=ticket).values_list("level", flat=True))
    new_events = []
    for level in LEVELS:
        if level in raised:
            continue
        if used < target * level / 100:
            break
        due_at = instant_at(ticket, target * level / 100, pauses) or now
        new_events.append(
            SlaEvent.objects.create(ticket=ticket, level=level, due_at=due_at, raised_at=now)
        )
        if level == SlaEvent.Level.BREACH:
            ticket.escalation_level = max(ticket.escalation_level, Ticket.Escalation.SHIFT_LEAD)
        elif level == SlaEvent.Level.ESCALATE_HEAD:
            ticket.escalation_level = Ticket.Escalation.HEAD
    sla_recompute(ticket, now=now)
    ticket.save()
    if new_events:
        from .notify import sla_event_notify_later

        for event in new_events:
            sla_event_notify_later(event.pk)
    return new_events


def sla_check_due(*, now: dt.datetime | None = None, batch: int = 500) -> int:
    """The periodic check: raise the milestones of every ticket whose next one is due.

    Each ticket is handled in its own transaction (locked), so one failure does not hold
    the others back. Returns the number of milestones raised.
    """
    now = now or clock.now()
    raised = 0
    ids = list(
        Ticket.objects.filter(sla_next_check_at__lte=now)
        .order_by("sla_next_check_at")
        .values_list("pk", flat=True)[:batch]
    )
    for ticket_id in ids:
        with transaction.atomic():
            ticket = (
                Ticket.objects.select_for_update(of=("self",))
                .select_related("fault_class__calendar")
                .get(pk=ticket_id)
            )
            raised += len(sla_raise_due(ticket, now=now))
    return raised
