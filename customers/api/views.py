"""TMF629 customerManagement: the `customer` resource over the enterprise file."""

from django.core.exceptions import ValidationError
from django.db.models import Q

from core.tmf.access import request_enterprise_id
from core.tmf.errors import TmfConflictError
from core.tmf.filters import ExactFilter, Filter
from core.tmf.views import TmfViewSet

from .. import services
from ..models import Enterprise
from ..selectors import enterprises_visible_to
from .serializers import STATUS, CustomerSerializer


class StatusFilter(Filter):
    """`status=` as returned: the client's spelling while it holds, else the state."""

    description = "Exact match on status as returned (prospect, active, suspended, closed…)"

    def q(self, value: str) -> Q:
        return STATUS.q(
            value, state_field="status", label_field="tmf_status", label_for_field="tmf_status_for"
        )


class CustomerViewSet(TmfViewSet):
    """Customers: staff see the enterprises their role shows them (a manager: assigned
    ones; department heads, NOC and finance: all); an enterprise caller only reads its
    own. DELETE removes a prospect only (an enterprise that became a customer is closed
    instead, with status `closed`): otherwise 409."""

    serializer_class = CustomerSerializer
    queryset = Enterprise.objects.all()
    filter_fields = {
        "name": ExactFilter("name", description="Exact match on the customer's name"),
        "status": StatusFilter("status"),
        "engagedParty.id": None,
        "characteristic.value": None,
        "relatedParty.id": None,
    }
    enterprise_methods = ("GET", "HEAD", "OPTIONS")

    def get_queryset(self):
        enterprise_id = request_enterprise_id(self.request)
        if enterprise_id is not None:
            queryset = Enterprise.objects.filter(pk=enterprise_id)
        else:
            queryset = enterprises_visible_to(self.request.user)
        return queryset.select_related("account_manager").prefetch_related("contacts")

    def perform_destroy(self, obj) -> None:
        try:
            services.enterprise_delete(enterprise_id=obj.pk, by=self.request.user)
        except ValidationError as exc:
            raise TmfConflictError("; ".join(exc.messages)) from exc
