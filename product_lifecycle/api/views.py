"""TMF620 productCatalogManagement: catalog, category, productSpecification,
productOffering and productOfferingPrice.

Any staff caller whose role may view the catalog reads it; department heads (product
managers) and superusers write it. Enterprise callers are refused (403): the catalog API
is for the operator's systems. DELETE needs the change permission; what may go is the
services' rule (a launched offering, a price in effect, a category with subcategories, a
specification in use: 409).
"""

from django.core.exceptions import ValidationError

from core.tmf.errors import TmfConflictError
from core.tmf.filters import BooleanFilter, DateTimeFilter, ExactFilter, Filter, IdFilter
from core.tmf.views import TmfViewSet

from .. import services
from ..models import (
    Catalog,
    Category,
    ProductOffering,
    ProductOfferingPrice,
    ProductSpecification,
)
from .serializers import (
    LIFECYCLE,
    CatalogSerializer,
    CategorySerializer,
    ProductOfferingPriceSerializer,
    ProductOfferingSerializer,
    ProductSpecificationSerializer,
)


class NonEmptyExactFilter(ExactFilter):
    """Exact match; an empty value matches nothing (empty attributes are not returned)."""

    def q(self, value):
        from django.db.models import Q

        return Q(pk__in=[]) if value == "" else super().q(value)


def _common_filters() -> dict:
    return {
        "id": IdFilter("pk", description="Exact match on id"),
        "name": NonEmptyExactFilter("name", description="Exact match on name"),
        "version": NonEmptyExactFilter("version", description="Exact match on version"),
        "lifecycleStatus": NonEmptyExactFilter(
            "lifecycle_status", description="Exact match on lifecycleStatus"
        ),
        "lastUpdate": DateTimeFilter(
            "updated_at", description="Exact match on lastUpdate (e.g. 2026-11-25T02:00:00.000Z)"
        ),
    }


class _CatalogViewSet(TmfViewSet):
    """Shared behaviour: refusals of a delete are 409 with the service's reason."""

    delete_service = None
    delete_kwarg = ""

    def perform_destroy(self, obj) -> None:
        try:
            type(self).delete_service(**{self.delete_kwarg: obj.pk}, by=self.request.user)
        except ValidationError as exc:
            raise TmfConflictError("; ".join(exc.messages)) from exc


class CatalogViewSet(_CatalogViewSet):
    serializer_class = CatalogSerializer
    queryset = Catalog.objects.prefetch_related("categories")
    filter_fields = {**_common_filters(), "catalogType": NonEmptyExactFilter("catalog_type")}
    delete_service = services.catalog_delete
    delete_kwarg = "catalog_id"


class CategoryViewSet(_CatalogViewSet):
    serializer_class = CategorySerializer
    queryset = Category.objects.prefetch_related("offerings", "subcategories")
    filter_fields = {**_common_filters(), "parentId": None, "isRoot": None}
    delete_service = services.category_delete
    delete_kwarg = "category_id"


class ProductSpecificationViewSet(_CatalogViewSet):
    serializer_class = ProductSpecificationSerializer
    queryset = ProductSpecification.objects.all()
    filter_fields = {
        **_common_filters(),
        "brand": NonEmptyExactFilter("brand"),
        "productNumber": NonEmptyExactFilter("product_number"),
        "isBundle": BooleanFilter("is_bundle"),
    }
    delete_service = services.specification_delete
    delete_kwarg = "specification_id"


class OfferingLifecycleFilter(Filter):
    """lifecycleStatus as returned (the client's spelling while it holds, else the state)."""

    description = "Exact match on lifecycleStatus (In study, In design, In test, Launched, Retired)"

    def q(self, value):
        return LIFECYCLE.q(
            value,
            state_field="lifecycle_status",
            label_field="tmf_lifecycle_status",
            label_for_field="tmf_lifecycle_status_for",
        )


class ProductOfferingViewSet(_CatalogViewSet):
    serializer_class = ProductOfferingSerializer
    queryset = ProductOffering.objects.select_related("specification").prefetch_related(
        "categories", "prices", "bundle_items__component"
    )
    filter_fields = {
        **_common_filters(),
        "lifecycleStatus": OfferingLifecycleFilter("lifecycle_status"),
        "isBundle": BooleanFilter("is_bundle"),
        "isSellable": BooleanFilter("is_sellable"),
        "productSpecification.id": None,
        "category.id": None,
    }
    delete_service = services.offering_delete
    delete_kwarg = "offering_id"


class ProductOfferingPriceViewSet(_CatalogViewSet):
    serializer_class = ProductOfferingPriceSerializer
    queryset = ProductOfferingPrice.objects.all()
    filter_fields = {
        **_common_filters(),
        "priceType": NonEmptyExactFilter("price_type"),
        "recurringChargePeriodType": NonEmptyExactFilter("recurring_period"),
        "isBundle": None,
        "price.unit": None,
        "price.value": None,
    }
    delete_service = services.price_delete
    delete_kwarg = "price_id"
