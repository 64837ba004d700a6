"""Prometheus providers for assurance (core.metrics): repair clocks near breach and breached.

Discovered by core (CoreConfig.ready imports every app's `observability` module); each
provider is one grouped COUNT over the open tickets, run when Prometheus scrapes
/metrics. Labelled by fault class code, with a zero for every class that has a repair
clock, so an alert needs no `or vector(0)`. Tickets excluded from the assessment
(planned maintenance, force majeure) are not counted: nobody is paged for them.
"""

from django.db.models import Count, Exists, OuterRef, Q

from core import clock
from core.metrics import Sample, register_collector


def _open_tickets():
    from assurance.models import Ticket

    return Ticket.objects.filter(state__in=Ticket.OPEN_STATES, sla_excluded="")


def _breached_q() -> Q:
    """Past the deadline: the breach the periodic check raised (`sla_breached`), or a
    deadline already gone by that the check (every minute) has not reached yet."""
    return Q(sla_breached=True) | Q(sla_deadline__lt=clock.now())


def _by_class(queryset) -> list[Sample]:
    from assurance.models import FaultClass

    counts = dict.fromkeys(
        FaultClass.objects.filter(repair_hours__isnull=False).values_list("code", flat=True), 0
    )
    for row in queryset.order_by().values("fault_class__code").annotate(n=Count("id")):
        counts[row["fault_class__code"]] = row["n"]
    return [({"fault_class": code}, n) for code, n in sorted(counts.items())]


def tickets_breached() -> list[Sample]:
    """Open tickets past their repair deadline, per fault class."""
    return _by_class(_open_tickets().filter(_breached_q()))


def tickets_near_breach() -> list[Sample]:
    """Open tickets past the 80 % warning (raised by the SLA check) and not breached yet,
    per fault class; a paused clock that stopped there still counts (the time is short)."""
    from assurance.models import SlaEvent

    warned = SlaEvent.objects.filter(ticket=OuterRef("pk"), level=SlaEvent.Level.WARN_80)
    return _by_class(_open_tickets().filter(Exists(warned)).exclude(_breached_q()))


register_collector("mas_assurance_tickets_breached", tickets_breached)
register_collector("mas_assurance_tickets_near_breach", tickets_near_breach)
