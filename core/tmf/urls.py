"""URL patterns of a TMF API: resources, the hub, trailing slashes and a TMF 404.

    urlpatterns = tmf_urlpatterns(
        resources={"productOffering": ProductOfferingViewSet, ...},
        hub=hub_viewset(api="productCatalogManagement", spec=TMF620, read_permission=...),
    )

Every path answers with and without a trailing slash, for every method, without a
redirect (only the form without the slash is in the OpenAPI document). Any other path
under the API's base is a 404 in the TMF error body. URL names: `<resource>-list`,
`<resource>-detail` (kwarg `id`), `hub`, `hub-detail`; include the patterns with a
namespace (e.g. `tmf620`) to reverse them. A viewset whose resource has fewer operations
in its specification (e.g. TMF622 cancelProductOrder: no PATCH or DELETE) narrows them
with `collection_actions` / `detail_actions` (method → action); the others are 405.
"""

from django.urls import re_path
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from .errors import TmfNotFoundError, tmf_exception_handler
from .http import TmfJSONRenderer
from .openapi import document_hub, document_resource

COLLECTION_ACTIONS = {"get": "list", "post": "create"}
DETAIL_ACTIONS = {"get": "retrieve", "patch": "partial_update", "delete": "destroy"}


class TmfNotFoundView(APIView):
    """Any path of a TMF API that names no resource: 404 in the TMF error body."""

    permission_classes = [AllowAny]
    authentication_classes = []
    renderer_classes = [TmfJSONRenderer]
    schema = None

    def get_exception_handler(self):
        return tmf_exception_handler

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        raise TmfNotFoundError(f"no resource at {request.path}")

    def http_method_not_allowed(self, request, *args, **kwargs):
        raise TmfNotFoundError(f"no resource at {request.path}")


def _pair(regex: str, view_cls, actions: dict, name: str) -> list:
    """The documented pattern without the trailing slash and its undocumented twin."""
    return [
        re_path(rf"^{regex}$", view_cls.as_view(actions), name=name),
        re_path(rf"^{regex}/$", view_cls.as_view(actions, schema=None)),
    ]


def tmf_urlpatterns(*, resources: dict, hub=None) -> list:
    """URL patterns for the resources (name → TmfViewSet) and the hub viewset."""
    patterns = []
    for name, viewset in resources.items():
        document_resource(viewset, resource=name)
        collection = getattr(viewset, "collection_actions", None) or COLLECTION_ACTIONS
        detail = getattr(viewset, "detail_actions", None) or DETAIL_ACTIONS
        patterns += _pair(name, viewset, collection, f"{name}-list")
        patterns += _pair(rf"{name}/(?P<id>[^/]+)", viewset, detail, f"{name}-detail")
    if hub is not None:
        document_hub(hub)
        patterns += _pair("hub", hub, {"post": "create"}, "hub")
        patterns += _pair(r"hub/(?P<id>[^/]+)", hub, {"delete": "destroy"}, "hub-detail")
    patterns.append(re_path(r"^.*$", TmfNotFoundView.as_view()))
    return patterns
