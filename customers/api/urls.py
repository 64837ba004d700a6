"""TMF629 customerManagement v4 (under /tmf-api/customerManagement/v4/)."""

from core.tmf.hub import hub_viewset
from core.tmf.urls import tmf_urlpatterns

from .spec import API_NAME, TMF629
from .views import CustomerViewSet

app_name = "tmf629"

urlpatterns = tmf_urlpatterns(
    resources={"customer": CustomerViewSet},
    hub=hub_viewset(
        api=API_NAME,
        spec=TMF629,
        read_permission="customers.view_enterprise",
        enterprise_allowed=True,
    ),
)
