"""Publishing TMF events: the outbox written with the change, delivered by Celery.

Every app's service calls, inside its own transaction,

    from core.tmf import events
    events.publish(
        api="productOrderingManagement",              # the hub's API name
        event_type="ProductOrderStateChangeEvent",    # the specification's event name
        resource=lambda: ProductOrderSerializer(order).data,   # dict, or a callable
        audience=lambda subscription: ...,            # optional: may it see this resource?
    )

`publish` finds the subscriptions of that API whose query matches the event, writes one
OutboxEvent (the TMF envelope: `eventId`, `eventTime`, `eventType`,
`event: {<resource name>: {...}}`) and one EventDelivery per subscription, and schedules
`core.tasks.tmf_event_deliver_task` for each after the transaction commits. When nothing
matches nothing is written (and a callable `resource` is never serialised).

Subscription queries (`"query"` of `POST /hub`), like a URL query string:
- `eventType=ProductOfferingStateChangeEvent` (comma-separated values: any of them);
- `event.productOffering.lifecycleStatus=Launched`: a dotted path in the envelope;
- `lifecycleStatus=Launched` or `category.id=3`: a dotted path in the resource;
- terms joined by `&` must all match; an empty query matches every event of the API.
Values match exactly as the API writes them (see core.tmf.format.document_matches).
"""

import re
import uuid
from collections.abc import Callable
from urllib.parse import unquote_plus

from django.db import transaction

from core import clock
from core.models import EventDelivery, EventSubscription, OutboxEvent

from .format import document_matches, tmf_datetime

_EVENT_SUFFIX = re.compile(
    r"(Create|AttributeValueChange|StateChange|Delete|Batch|InformationRequired|"
    r"StatusChange|Change|Creation|Remove|Information)?Event$"
)
_ENVELOPE_KEYS = {"eventId", "eventTime", "eventType", "event", "domain", "title", "priority"}


class QueryError(ValueError):
    """A subscription query that cannot be read."""


def parse_query(query: str | None) -> list[tuple[str, list[str]]]:
    """The terms of a subscription query: [(path, accepted values)]."""
    text = (query or "").strip().lstrip("?").strip()
    if not text:
        return []
    terms = []
    for part in text.split("&"):
        part = part.strip()
        if not part:
            continue
        if "=" not in part:
            raise QueryError(f"query term “{part}” is not name=value")
        name, _sep, value = part.partition("=")
        name, value = unquote_plus(name.strip()), unquote_plus(value.strip())
        if not name or not re.fullmatch(r"[@A-Za-z0-9_.\-]+", name):
            raise QueryError(f"query term “{part}” has no attribute name")
        terms.append((name, [v.strip() for v in value.split(",")]))
    return terms


def query_matches(query: str | None, envelope: dict) -> bool:
    """Whether an event envelope satisfies a subscription query (see module docstring)."""
    try:
        terms = parse_query(query)
    except QueryError:
        return False
    resource = next(iter((envelope.get("event") or {}).values()), {})
    for name, values in terms:
        root = name.split(".", 1)[0]
        document = envelope if root in _ENVELOPE_KEYS else resource
        if not document_matches(document, name, values):
            return False
    return True


def resource_key(event_type: str) -> str:
    """The payload key of an event type: `ProductOfferingStateChangeEvent` → `productOffering`."""
    stem = _EVENT_SUFFIX.sub("", event_type) or event_type
    return stem[:1].lower() + stem[1:]


def envelope(event_type: str, resource: dict, *, key: str | None = None) -> dict:
    """A TMF event envelope around a resource representation."""
    event_id = str(uuid.uuid4())
    return {
        "eventId": event_id,
        "eventTime": tmf_datetime(clock.now()),
        "eventType": event_type,
        "event": {key or resource_key(event_type): resource},
    }


def publish(
    *,
    api: str,
    event_type: str,
    resource: dict | Callable[[], dict],
    audience: Callable[[EventSubscription], bool] | None = None,
    key: str | None = None,
) -> OutboxEvent | None:
    """Write an event to the outbox for every matching subscription; see module docstring.

    Call it inside the service's transaction, after the change is saved. Returns the
    outbox row, or None when no subscription wanted the event.
    """
    subscriptions = list(EventSubscription.objects.filter(api=api).select_related("owner"))
    if not subscriptions:
        return None
    document = resource() if callable(resource) else resource
    message = envelope(event_type, document, key=key)
    wanted = [
        sub
        for sub in subscriptions
        if query_matches(sub.query, message) and (audience is None or audience(sub))
    ]
    if not wanted:
        return None
    event = OutboxEvent.objects.create(
        api=api,
        event_id=uuid.UUID(message["eventId"]),
        event_type=event_type,
        event_time=clock.now(),
        payload=message,
    )
    deliveries = EventDelivery.objects.bulk_create(
        EventDelivery(event=event, subscription=sub, callback=sub.callback, created_at=clock.now())
        for sub in wanted
    )
    ids = [delivery.pk for delivery in deliveries]

    def schedule():
        from core.tasks import tmf_event_deliver_task

        for delivery_id in ids:
            tmf_event_deliver_task.delay(delivery_id)

    transaction.on_commit(schedule)
    return event
