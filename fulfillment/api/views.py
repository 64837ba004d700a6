"""TMF622 productOrderingManagement: `productOrder` and `cancelProductOrder`.

Staff callers need the order permissions of their role (customer managers and department
heads: view, add, change; others are refused with 403) and see the orders
`fulfillment.selectors.orders_visible_to` shows them. An enterprise caller (its token or
an enterprise user's session) reads, places and annotates its own enterprise's orders
and asks for their cancellation; anyone else's order is 404 to it. Drafts prepared in
the admin are not in the API until they are submitted.
"""

from django.db.models import Prefetch, Q, QuerySet

from core.tmf.access import request_enterprise_id
from core.tmf.filters import DateTimeFilter, ExactFilter, IdFilter
from core.tmf.views import TmfViewSet

from .. import services
from ..models import CancellationRequest, Order, OrderItem
from ..selectors import orders_visible_to
from .serializers import CancelProductOrderSerializer, ProductOrderSerializer


class NonEmptyExactFilter(ExactFilter):
    """Exact match; an empty value matches nothing (empty attributes are not returned)."""

    def q(self, value: str) -> Q:
        return Q(pk__in=[]) if value == "" else super().q(value)


def orders_for(request) -> QuerySet[Order]:
    """The submitted orders a TMF622 caller may see."""
    enterprise_id = request_enterprise_id(request)
    if enterprise_id is not None:
        orders = Order.objects.filter(enterprise_id=enterprise_id)
    else:
        orders = orders_visible_to(request.user)
    return orders.filter(submitted_at__isnull=False)


def with_items(orders: QuerySet[Order]) -> QuerySet[Order]:
    """What the representation reads, in a fixed number of queries."""
    items = OrderItem.objects.select_related("offering", "service_code").order_by("id")
    return orders.select_related("enterprise").prefetch_related(Prefetch("items", queryset=items))


class ProductOrderViewSet(TmfViewSet):
    """Product orders; DELETE removes a rejected or cancelled order only (else 409)."""

    serializer_class = ProductOrderSerializer
    queryset = Order.objects.all()
    permission_model = "fulfillment.order"
    ordering = ("-order_date", "-pk")
    filter_fields = {
        "id": IdFilter("pk", description="Exact match on id"),
        "state": ExactFilter("state", description="Exact match on state (acknowledged, …)"),
        "externalId": NonEmptyExactFilter("external_id", description="Exact match on externalId"),
        "description": NonEmptyExactFilter("description"),
        "priority": NonEmptyExactFilter("priority"),
        "category": NonEmptyExactFilter("category"),
        "orderDate": DateTimeFilter(
            "order_date", description="Exact match on orderDate (e.g. 2026-11-25T02:00:00.000Z)"
        ),
        "relatedParty.id": None,
        "productOrderItem.state": None,
        "productOrderItem.productOffering.id": None,
    }
    enterprise_methods = ("GET", "HEAD", "OPTIONS", "POST", "PATCH")

    def get_queryset(self):
        return with_items(orders_for(self.request))

    def perform_destroy(self, obj) -> None:
        services.order_delete(order_id=obj.pk, by=self.request.user)


class CancelProductOrderViewSet(TmfViewSet):
    """Cancellation requests: POST asks, GET follows (the specification has no PATCH or
    DELETE for them)."""

    serializer_class = CancelProductOrderSerializer
    queryset = CancellationRequest.objects.all()
    permission_model = "fulfillment.cancellationrequest"
    ordering = ("-requested_at", "-pk")
    detail_actions = {"get": "retrieve"}
    filter_fields = {
        "id": IdFilter("pk", description="Exact match on id"),
        "state": ExactFilter("state", description="Exact match on state (TaskStateType)"),
        "productOrder.id": None,
    }
    enterprise_methods = ("GET", "HEAD", "OPTIONS", "POST")

    def get_queryset(self):
        mine = Q(order__isnull=True, requested_by=self.request.user)
        return CancellationRequest.objects.filter(
            Q(order__in=orders_for(self.request)) | mine
        ).select_related("order")

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "orders": orders_for(self.request)}
