"""TMF621 events: the trouble ticket representation put in the outbox by the services.

A subscriber receives a ticket's events only if it could read the ticket through the
API: an enterprise subscriber its own enterprise's tickets, staff with view_ticket all.
"""

from core.tmf import events as tmf_events

from ..models import Ticket
from .spec import API_NAME


def ticket_document(ticket: Ticket) -> dict:
    """The TroubleTicket representation, outside any request (enterprise view: public
    notes only, since enterprise subscribers may receive it)."""
    from .serializers import TroubleTicketSerializer

    fresh = Ticket.objects.select_related("fault_class", "enterprise").get(pk=ticket.pk)
    return TroubleTicketSerializer(fresh, context={"public_only": True}).data


def ticket_audience(ticket: Ticket):
    def may_see(subscription) -> bool:
        if subscription.enterprise_id is not None:
            return subscription.enterprise_id == ticket.enterprise_id
        if subscription.owner is None:
            return True
        return subscription.owner.has_perm("assurance.view_ticket")

    return may_see


def publish(ticket: Ticket, event_type: str) -> None:
    """Publish a TroubleTicket{Create,StatusChange,Resolved,AttributeValueChange}Event."""
    tmf_events.publish(
        api=API_NAME,
        event_type=event_type,
        resource=lambda: ticket_document(ticket),
        audience=ticket_audience(ticket),
        key="troubleTicket",
    )
