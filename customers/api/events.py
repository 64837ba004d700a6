"""TMF629 events: the customer representation put in the outbox by customers.services.

A subscriber receives a customer's events only if it could read that customer through
the API: an enterprise subscriber its own enterprise, staff what
`enterprises_visible_to` shows them (a manager: the customers assigned to them).
"""

from core.tmf import events

from ..models import Enterprise
from ..selectors import enterprises_visible_to
from .spec import API_NAME


def customer_document(enterprise: Enterprise) -> dict:
    """The Customer representation of an enterprise, outside any request."""
    from .serializers import CustomerSerializer

    return CustomerSerializer(Enterprise.objects.get(pk=enterprise.pk)).data


def customer_audience(enterprise: Enterprise):
    """Whether a subscription may receive events about `enterprise`."""

    def may_see(subscription) -> bool:
        if subscription.enterprise_id is not None:
            return subscription.enterprise_id == enterprise.pk
        if subscription.owner is None:
            return True
        return enterprises_visible_to(subscription.owner).filter(pk=enterprise.pk).exists()

    return may_see


def publish_customer_event(enterprise: Enterprise, event_type: str) -> None:
    """Publish a Customer{Create,AttributeValueChange,StateChange,Delete}Event."""
    events.publish(
        api=API_NAME,
        event_type=event_type,
        resource=lambda: customer_document(enterprise),
        audience=customer_audience(enterprise),
    )
