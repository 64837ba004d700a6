"""TMF620 productCatalogManagement v4 (under /tmf-api/productCatalogManagement/v4/)."""

from core.tmf.hub import hub_viewset
from core.tmf.urls import tmf_urlpatterns

from .spec import API_NAME, TMF620
from .views import (
    CatalogViewSet,
    CategoryViewSet,
    ProductOfferingPriceViewSet,
    ProductOfferingViewSet,
    ProductSpecificationViewSet,
)

app_name = "tmf620"

urlpatterns = tmf_urlpatterns(
    resources={
        "catalog": CatalogViewSet,
        "category": CategoryViewSet,
        "productSpecification": ProductSpecificationViewSet,
        "productOffering": ProductOfferingViewSet,
        "productOfferingPrice": ProductOfferingPriceViewSet,
    },
    hub=hub_viewset(
        api=API_NAME, spec=TMF620, read_permission="product_lifecycle.view_productoffering"
    ),
)
