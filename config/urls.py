"""Root URL configuration: admin, metrics, portal, TMF Open APIs, the enterprise SMS API, docs."""

from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from core.views import metrics_view

handler400 = "core.views.bad_request"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="portal:dashboard", permanent=False)),
    path("admin/", admin.site.urls),
    path("metrics", metrics_view, name="metrics"),
    path("portal/", include("portal.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("tmf-api/productCatalogManagement/v4/", include("product_lifecycle.api.urls")),
    path("tmf-api/customerManagement/v4/", include("customers.api.urls")),
    path("tmf-api/productOrderingManagement/v4/", include("fulfillment.api.urls")),
    path("tmf-api/troubleTicket/v4/", include("assurance.api.urls")),
    path("tmf-api/customerBillManagement/v4/", include("billing.api.urls")),
    path("api/", include("smsgw.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
]
