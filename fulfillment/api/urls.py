"""TMF622 productOrderingManagement v4 (under /tmf-api/productOrderingManagement/v4/)."""

from core.tmf.hub import hub_viewset
from core.tmf.urls import tmf_urlpatterns

from .spec import API_NAME, TMF622
from .views import CancelProductOrderViewSet, ProductOrderViewSet

app_name = "tmf622"

urlpatterns = tmf_urlpatterns(
    resources={
        "productOrder": ProductOrderViewSet,
        "cancelProductOrder": CancelProductOrderViewSet,
    },
    hub=hub_viewset(
        api=API_NAME,
        spec=TMF622,
        read_permission="fulfillment.view_order",
        enterprise_allowed=True,
    ),
)
