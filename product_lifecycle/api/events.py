"""TMF620 events: the catalog representations put in the outbox by product_lifecycle.services.

The catalog is staff information: every subscriber of this API (staff who may read it)
receives every event its query matches.
"""

from core.tmf import events

from ..models import (
    Catalog,
    Category,
    ProductOffering,
    ProductOfferingPrice,
    ProductSpecification,
)
from .spec import API_NAME


def _serializer_for(obj):
    from . import serializers

    return {
        Catalog: serializers.CatalogSerializer,
        Category: serializers.CategorySerializer,
        ProductSpecification: serializers.ProductSpecificationSerializer,
        ProductOffering: serializers.ProductOfferingSerializer,
        ProductOfferingPrice: serializers.ProductOfferingPriceSerializer,
    }[type(obj)]


def catalog_document(obj) -> dict:
    """The TMF620 representation of a catalog row, outside any request."""
    serializer = _serializer_for(obj)
    fresh = type(obj).objects.filter(pk=obj.pk).first() or obj
    return serializer(fresh).data


def publish_catalog_event(obj, event_type: str) -> None:
    """Publish e.g. ProductOfferingStateChangeEvent about `obj` (see core.tmf.events)."""
    events.publish(api=API_NAME, event_type=event_type, resource=lambda: catalog_document(obj))
