"""TMF621 troubleTicket: the `troubleTicket` resource over assurance.Ticket."""

from django.core.exceptions import ValidationError

from core.tmf.access import request_enterprise_id
from core.tmf.errors import TmfConflictError
from core.tmf.filters import DateTimeFilter, ExactFilter, IdFilter
from core.tmf.views import TmfViewSet

from .. import services
from ..models import Ticket
from ..selectors import tickets_of_enterprise, tickets_visible_to
from .serializers import TroubleTicketSerializer


class TroubleTicketViewSet(TmfViewSet):
    """Trouble tickets. Staff see what their role shows them (NOC and heads: all; a
    customer manager: their enterprises'); an enterprise caller (token or portal
    session) sees, opens and follows only its own enterprise's tickets, with public notes
    only, and may accept or reject a resolution or cancel. The fault class and the repair
    clock are the extension attributes `faultClass` and `repairClock` (see
    docs/assurance.md). DELETE removes only a ticket nobody has taken yet (entered by
    mistake); otherwise 409 (cancel it with status `cancelled`)."""

    serializer_class = TroubleTicketSerializer
    queryset = Ticket.objects.all()
    filter_fields = {
        "id": IdFilter("pk"),
        "name": ExactFilter("name"),
        "status": ExactFilter("state", description="Exact match on status"),
        "severity": ExactFilter("severity"),
        "ticketType": ExactFilter("ticket_type"),
        "priority": ExactFilter("priority"),
        "externalId": ExactFilter("external_id"),
        "creationDate": DateTimeFilter("reported_at"),
        "lastUpdate": DateTimeFilter("updated_at"),
        "faultClass.code": ExactFilter("fault_class__code", description="Fault class code"),
        "relatedParty.id": None,
        "relatedEntity.id": None,
    }
    enterprise_methods = ("GET", "HEAD", "OPTIONS", "POST", "PATCH")
    ordering = ("-reported_at", "-pk")

    def get_queryset(self):
        enterprise_id = request_enterprise_id(self.request)
        if enterprise_id is not None:
            queryset = tickets_of_enterprise(enterprise_id)
        else:
            queryset = tickets_visible_to(self.request.user)
        return queryset.select_related(
            "fault_class", "enterprise", "owner", "assignee"
        ).prefetch_related(
            "affected_subscriptions__service_code",
            "affected_ports__server",
            "notes",
            "attachments",
        )

    def get_serializer_context(self):
        context = super().get_serializer_context()
        context["enterprise_id"] = request_enterprise_id(self.request)
        return context

    def perform_destroy(self, obj) -> None:
        if obj.state != Ticket.State.ACKNOWLEDGED or obj.owner_id is not None:
            raise TmfConflictError(
                "only a ticket nobody has taken yet can be deleted; cancel it instead",
                allowed=[obj.state, Ticket.State.CANCELLED],
            )
        try:
            services.ticket_delete(ticket_id=obj.pk, by=self.request.user)
        except ValidationError as exc:
            raise TmfConflictError("; ".join(exc.messages)) from exc
