"""Read queries of assurance: who sees which tickets, the clock as people see it, the NOC
queue (most urgent first) and the monthly SLA report."""

import datetime as dt
import statistics
from dataclasses import dataclass

from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone

from core import clock
from core.models import User
from customers.selectors import enterprises_visible_to

from .models import FaultClass, MaintenanceWindow, SlaEvent, Ticket, TicketNote


# --------------------------------------------------------------------------- visibility
def tickets_visible_to(user: User) -> QuerySet[Ticket]:
    """Tickets a staff user may read: NOC and heads all; a customer manager those of the
    enterprises assigned to them (and link alarms, which belong to no enterprise)."""
    queryset = Ticket.objects.all()
    if not getattr(user, "is_authenticated", False) or not user.has_perm("assurance.view_ticket"):
        return queryset.none()
    if user.is_superuser or user.has_perm("assurance.view_noc_queue"):
        return queryset
    return queryset.filter(
        Q(enterprise__in=enterprises_visible_to(user)) | Q(enterprise__isnull=True)
    )


def tickets_of_enterprise(enterprise_id: int) -> QuerySet[Ticket]:
    """An enterprise's own tickets, newest first (portal and API for enterprise users)."""
    return (
        Ticket.objects.filter(enterprise_id=enterprise_id)
        .select_related("fault_class")
        .order_by("-reported_at", "-id")
    )


def public_notes(ticket: Ticket) -> QuerySet[TicketNote]:
    """The notes an enterprise may read."""
    return ticket.notes.filter(public=True).order_by("created_at", "id")


# ------------------------------------------------------------------------------ clock
@dataclass(frozen=True)
class ClockView:
    """A repair clock as people see it at one moment."""

    covered: bool
    target_hours: float | None
    deadline: dt.datetime | None
    time_left: float | None  # seconds; negative once breached; frozen while paused
    paused_total: float
    paused: bool
    stopped: bool
    used_fraction: float | None
    breached: bool
    excluded: bool

    @property
    def colour(self) -> str:
        """red (breached), orange (< 20 % left), yellow (< 50 % left), green, grey."""
        if not self.covered:
            return "grey"
        if self.breached or (self.time_left is not None and self.time_left <= 0):
            return "red"
        if self.paused or self.stopped:
            return "grey"
        fraction = self.used_fraction or 0
        if fraction >= 0.8:
            return "orange"
        if fraction >= 0.5:
            return "yellow"
        return "green"

    @property
    def time_left_text(self) -> str:
        if self.time_left is None:
            return "—"
        seconds = int(self.time_left)
        sign = "-" if seconds < 0 else ""
        seconds = abs(seconds)
        return f"{sign}{seconds // 3600}:{seconds % 3600 // 60:02d}"


def ticket_clock(ticket: Ticket, *, now: dt.datetime | None = None) -> ClockView:
    """The clock of a ticket from its stored fields (no extra query)."""
    now = now or clock.now()
    target = ticket.sla_target_seconds
    paused = ticket.sla_paused_since is not None
    stopped = ticket.sla_stopped_at is not None
    if target is None:
        return ClockView(
            covered=False,
            target_hours=None,
            deadline=None,
            time_left=None,
            paused_total=ticket.sla_paused_seconds,
            paused=paused,
            stopped=stopped,
            used_fraction=None,
            breached=False,
            excluded=bool(ticket.sla_excluded),
        )
    if paused or stopped:
        left = ticket.sla_remaining_seconds
    elif ticket.sla_deadline is not None:
        left = (ticket.sla_deadline - now).total_seconds()
    else:
        left = None
    used = None if left is None else (target - left) / target
    return ClockView(
        covered=True,
        target_hours=round(target / 3600, 2),
        deadline=ticket.sla_deadline,
        time_left=left,
        paused_total=ticket.sla_paused_seconds
        + (ticket.fault_class.clock().measure(ticket.sla_paused_since, now) if paused else 0),
        paused=paused,
        stopped=stopped,
        used_fraction=used,
        breached=ticket.sla_breached or (left is not None and left <= 0),
        excluded=bool(ticket.sla_excluded),
    )


# -------------------------------------------------------------------------- NOC queue
@dataclass
class QueueFilters:
    """The NOC queue's filters (all optional)."""

    fault_class: str = ""
    severity: str = ""
    owner: str = ""  # a user id, "me" or "none"
    enterprise: str = ""  # an id
    resource: str = ""  # part of a service code, port or link
    state: str = ""

    def only_state(self) -> bool:
        """No filter but (at most) the state."""
        return not (
            self.fault_class or self.severity or self.owner or self.enterprise or self.resource
        )


def noc_queue(filters: QueueFilters, *, user: User | None = None) -> QuerySet[Ticket]:
    """Open tickets, most urgent first: running clocks by deadline, then paused ones by
    the time they had left, then tickets without a clock. One query (plus paging)."""
    queryset = Ticket.objects.filter(state__in=Ticket.OPEN_STATES)
    if filters.state in Ticket.OPEN_STATES:
        queryset = queryset.filter(state=filters.state)
    if filters.fault_class:
        queryset = queryset.filter(fault_class__code=filters.fault_class)
    if filters.severity:
        queryset = queryset.filter(severity=filters.severity)
    if filters.owner == "me" and user is not None:
        queryset = queryset.filter(owner=user)
    elif filters.owner == "none":
        queryset = queryset.filter(owner__isnull=True)
    elif filters.owner.isdigit():
        queryset = queryset.filter(owner_id=int(filters.owner))
    if filters.enterprise.isdigit():
        queryset = queryset.filter(enterprise_id=int(filters.enterprise))
    if filters.resource:
        queryset = queryset.filter(resource_text__contains=filters.resource.strip())
    return queryset.select_related("fault_class", "enterprise", "owner", "assignee").order_by(
        F("sla_deadline").asc(nulls_last=True),
        F("sla_remaining_seconds").asc(nulls_last=True),
        "reported_at",
        "id",
    )


def queue_state_counts() -> dict[str, int]:
    """How many open tickets are in each state (one grouped query)."""
    rows = (
        Ticket.objects.filter(state__in=Ticket.OPEN_STATES)
        .values("state")
        .annotate(n=Count("id"))
        .order_by()
    )
    counts = dict.fromkeys(Ticket.OPEN_STATES, 0)
    counts.update({row["state"]: row["n"] for row in rows})
    return counts


def queue_choices() -> dict:
    """Options of the queue's filters (fault classes)."""
    return {"fault_classes": list(FaultClass.objects.all())}


# ------------------------------------------------------------------------- SLA report
@dataclass
class ReportRow:
    """One enterprise's (or the overall) month."""

    label: str
    tickets: int = 0
    resolved: int = 0
    median_hours: float | None = None
    p90_hours: float | None = None
    breaches: int = 0
    excluded: int = 0


@dataclass
class SlaReport:
    year: int
    month: int
    overall: ReportRow
    rows: list[ReportRow]
    breaches: list[dict]
    exclusions: list[dict]
    emergencies: list[MaintenanceWindow]


def _percentile(values: list[float], fraction: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(fraction * len(ordered) + 0.5) - 1))
    return round(ordered[index], 2)


def _month_bounds(year: int, month: int) -> tuple[dt.datetime, dt.datetime]:
    tz = timezone.get_default_timezone()
    start = dt.datetime(year, month, 1, tzinfo=tz)
    end = dt.datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=tz)
    return start, end


def sla_report(year: int, month: int, *, enterprise_id: int | None = None) -> SlaReport:
    """Tickets reported in the month (local time), per enterprise and overall: counts,
    repair times of resolved tickets (median, p90, hours of clock time excluding pauses),
    breaches with their reasons and the tickets excluded from the statistics."""
    start, end = _month_bounds(year, month)
    tickets = (
        Ticket.objects.filter(reported_at__gte=start, reported_at__lt=end)
        .exclude(state__in=[Ticket.State.CANCELLED, Ticket.State.REJECTED])
        .select_related("enterprise", "fault_class")
        .order_by("reported_at")
    )
    if enterprise_id is not None:
        tickets = tickets.filter(enterprise_id=enterprise_id)
    groups: dict[str, list[Ticket]] = {}
    for ticket in tickets:
        label = ticket.enterprise.name if ticket.enterprise_id else "（链路告警）"
        groups.setdefault(label, []).append(ticket)
    breach_times = dict(
        SlaEvent.objects.filter(ticket__in=tickets, level=SlaEvent.Level.BREACH).values_list(
            "ticket_id", "due_at"
        )
    )

    def row(label: str, items: list[Ticket]) -> ReportRow:
        counted = [t for t in items if not t.sla_excluded]
        times = [
            (t.sla_target_seconds - t.sla_remaining_seconds) / 3600
            for t in counted
            if t.resolved_at and t.sla_target_seconds and t.sla_remaining_seconds is not None
        ]
        return ReportRow(
            label=label,
            tickets=len(items),
            resolved=sum(1 for t in items if t.resolved_at),
            median_hours=round(statistics.median(times), 2) if times else None,
            p90_hours=_percentile(times, 0.9),
            breaches=sum(1 for t in counted if t.sla_breached),
            excluded=len(items) - len(counted),
        )

    all_tickets = [t for items in groups.values() for t in items]
    breaches = [
        {
            "ticket": t,
            "enterprise": t.enterprise.name if t.enterprise_id else "",
            "fault_class": t.fault_class.name,
            "deadline": breach_times.get(t.pk),
            "reason": t.status_change_reason or t.resolution or t.description[:100],
        }
        for t in all_tickets
        if t.sla_breached and not t.sla_excluded
    ]
    exclusions = [
        {"ticket": t, "kind": t.get_sla_excluded_display(), "reason": t.sla_exclusion_reason}
        for t in all_tickets
        if t.sla_excluded
    ]
    emergencies = list(
        MaintenanceWindow.objects.filter(
            emergency=True, announced_at__gte=start, announced_at__lt=end
        ).order_by("announced_at")
    )
    return SlaReport(
        year=year,
        month=month,
        overall=row("合计", all_tickets),
        rows=[row(label, items) for label, items in sorted(groups.items())],
        breaches=breaches,
        exclusions=exclusions,
        emergencies=emergencies,
    )


def open_tickets_with_clocks(enterprise_id: int, *, limit: int = 5) -> list[tuple]:
    """An enterprise's unfinished tickets (resolved ones awaiting its answer included),
    most urgent first, each with its clock (for the portal dashboard)."""
    now = clock.now()
    tickets = (
        tickets_of_enterprise(enterprise_id)
        .filter(state__in=[*Ticket.OPEN_STATES, Ticket.State.RESOLVED])
        .order_by(F("sla_deadline").asc(nulls_last=True), "reported_at")[:limit]
    )
    return [(t, ticket_clock(t, now=now)) for t in tickets]
