"""TMF621 troubleTicket v4 (under /tmf-api/troubleTicket/v4/)."""

from core.tmf.hub import hub_viewset
from core.tmf.urls import tmf_urlpatterns

from .spec import API_NAME, TMF621
from .views import TroubleTicketViewSet

app_name = "tmf621"

urlpatterns = tmf_urlpatterns(
    resources={"troubleTicket": TroubleTicketViewSet},
    hub=hub_viewset(
        api=API_NAME,
        spec=TMF621,
        read_permission="assurance.view_ticket",
        enterprise_allowed=True,
    ),
)
