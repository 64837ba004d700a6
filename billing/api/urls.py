"""TMF678 customerBillManagement v4 (under /tmf-api/customerBillManagement/v4/)."""

from django.urls import re_path

from core.tmf.hub import hub_viewset
from core.tmf.urls import tmf_urlpatterns

from .spec import API_NAME, TMF678
from .views import AppliedRateViewSet, BillOnDemandViewSet, CustomerBillViewSet

app_name = "tmf678"

urlpatterns = [
    re_path(
        r"^customerBill/(?P<id>[^/]+)/document\.pdf$",
        CustomerBillViewSet.as_view({"get": "document"}, schema=None),
        name="customerBill-document",
    ),
]
urlpatterns += tmf_urlpatterns(
    resources={
        "customerBill": CustomerBillViewSet,
        "appliedCustomerBillingRate": AppliedRateViewSet,
        "customerBillOnDemand": BillOnDemandViewSet,
    },
    hub=hub_viewset(
        api=API_NAME,
        spec=TMF678,
        read_permission="billing.view_invoice",
        enterprise_allowed=True,
    ),
)
