"""The event hub of a TMF API: `POST {api}/hub` and `DELETE {api}/hub/{id}`.

Each API gets its hub from `hub_viewset(...)`; the routes come with
`core.tmf.urls.tmf_urlpatterns`. A caller may subscribe when it may read the API
(`read_permission` for staff; enterprise callers when `enterprise_allowed`), and may
remove only its own subscriptions (others are 404 to it). Subscriptions remember the
caller and its enterprise, so events are filtered by what the subscriber may see
(`audience` in core.tmf.events.publish).
"""

from rest_framework import permissions, status, viewsets
from rest_framework.parsers import JSONParser
from rest_framework.response import Response

from core import services
from core.models import EventSubscription

from .access import has_tmf_permission, request_enterprise_id
from .errors import TmfBadRequestError, TmfNotFoundError, tmf_exception_handler
from .format import contains_nul
from .http import MergePatchParser, TmfJSONRenderer
from .serializers import parse_pk
from .spec import TmfSpec


class HubAccess(permissions.BasePermission):
    """Whoever may read the API may subscribe to its events."""

    message = "the caller may not read this API, so it may not subscribe to its events"

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated and user.is_active):
            return False
        if request_enterprise_id(request) is not None:
            return view.enterprise_allowed
        return has_tmf_permission(request, view.read_permission)


class HubViewSet(viewsets.ViewSet):
    """Register and remove listeners of one API (configured by `hub_viewset`)."""

    api: str = ""
    spec: TmfSpec | None = None
    read_permission: str = ""
    enterprise_allowed = False
    renderer_classes = [TmfJSONRenderer]
    parser_classes = [JSONParser, MergePatchParser]
    permission_classes = [HubAccess]
    http_method_names = ["post", "delete", "options"]

    def get_exception_handler(self):
        return tmf_exception_handler

    def create(self, request, *args, **kwargs):
        body = request.data
        if not isinstance(body, dict):
            raise TmfBadRequestError("the request body must be a JSON object")
        if contains_nul(body):
            raise TmfBadRequestError("text must not contain NUL (U+0000) characters")
        problems = self.spec.problems("EventSubscriptionInput", body)
        if problems:
            raise TmfBadRequestError("; ".join(problems))
        subscription = services.event_subscription_create(
            api=self.api,
            callback=body["callback"],
            query=body.get("query") or "",
            owner=request.user,
            enterprise_id=request_enterprise_id(request),
        )
        return Response(represent(subscription), status=status.HTTP_201_CREATED)

    def destroy(self, request, *args, **kwargs):
        pk = parse_pk(kwargs.get("id"))
        subscriptions = EventSubscription.objects.filter(api=self.api, pk=pk)
        if not request.user.is_superuser:
            subscriptions = subscriptions.filter(owner=request.user)
        subscription = subscriptions.first() if pk is not None else None
        if subscription is None:
            raise TmfNotFoundError(f"no hub subscription with id “{kwargs.get('id')}”")
        services.event_subscription_delete(subscription_id=subscription.pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


def represent(subscription: EventSubscription) -> dict:
    """The EventSubscription document: id, callback, query."""
    return {
        "id": str(subscription.pk),
        "callback": subscription.callback,
        "query": subscription.query,
    }


def hub_viewset(
    *, api: str, spec: TmfSpec, read_permission: str, enterprise_allowed: bool = False
) -> type[HubViewSet]:
    """A hub viewset class for one API."""
    return type(
        f"{api[:1].upper()}{api[1:]}HubViewSet",
        (HubViewSet,),
        {
            "api": api,
            "spec": spec,
            "read_permission": read_permission,
            "enterprise_allowed": enterprise_allowed,
            "__doc__": f"Event subscriptions of {api}.",
        },
    )
