"""The enterprise SMS API: submit, status, replies and webhook configuration.

Callers are enterprise applications with an API token (customers.ApiToken issued to
the enterprise) or an enterprise user's session; staff get 403. Every lookup is
filtered by the caller's enterprise, so another enterprise's ids are 404. Submits are
rate-limited per enterprise (SMSGW_API_RATE).
"""

from django.core.exceptions import ValidationError
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, status
from rest_framework.response import Response
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

from core.tmf.access import has_tmf_permission, request_enterprise_id

from .. import selectors, services, webhooks
from ..models import SendRequest
from . import serializers as io


class EnterpriseSmsAccess(permissions.BasePermission):
    """An enterprise caller holding the view's permission for the method."""

    message = "only an enterprise's API token or user may call the SMS API"

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated and user.is_active):
            return False
        if request_enterprise_id(request) is None:
            return False
        perm = view.perms.get(request.method, view.perms.get("GET"))
        return has_tmf_permission(request, perm)


class EnterpriseRateThrottle(SimpleRateThrottle):
    """SMSGW_API_RATE (e.g. "60/min") per enterprise, for submits."""

    scope = "smsgw_submit"

    def get_rate(self):
        from django.conf import settings

        return settings.SMSGW_API_RATE

    def get_cache_key(self, request, view):
        enterprise_id = request_enterprise_id(request)
        if enterprise_id is None:
            return None
        return self.cache_format % {"scope": self.scope, "ident": enterprise_id}


def _error(code: str, message: str, http=status.HTTP_400_BAD_REQUEST, **extra) -> Response:
    return Response({"code": code, "message": message, **extra}, status=http)


class _Base(APIView):
    permission_classes = [EnterpriseSmsAccess]
    perms = {"GET": "smsgw.view_message"}

    def enterprise_id(self) -> int:
        return request_enterprise_id(self.request)


class SubmitView(_Base):
    """POST /api/v1/sms/requests: submit a message to one number or a batch; GET: recent ones."""

    perms = {"POST": "smsgw.add_sendrequest", "GET": "smsgw.view_message"}
    throttle_classes = [EnterpriseRateThrottle]

    def get_throttles(self):
        return super().get_throttles() if self.request.method == "POST" else []

    @extend_schema(
        operation_id="sms_requests_list",
        responses=OpenApiTypes.OBJECT,
        summary="Recent send requests of the caller's enterprise.",
    )
    def get(self, request):
        """Recent send requests of the caller's enterprise."""
        queryset = selectors.send_requests_of_enterprise(self.enterprise_id())[:50]
        return Response(
            [
                io.request_out(
                    selectors.send_request_progress(
                        send_request_id=r.pk, enterprise_id=self.enterprise_id()
                    )
                )
                for r in queryset
            ]
        )

    @extend_schema(
        operation_id="sms_requests_create",
        request=io.SubmitInput,
        responses=OpenApiTypes.OBJECT,
        summary="Submit a message to one number or a batch.",
    )
    def post(self, request):
        data = io.SubmitInput(data=request.data)
        if not data.is_valid():
            codes = data.errors
            code = "batch_too_large" if "at most" in str(codes.get("recipients", "")) else "invalid"
            return _error(code, "invalid request", errors=data.errors)
        values = data.validated_data
        subscription_id = self._subscription(values.get("subscriptionId"))
        if isinstance(subscription_id, Response):
            return subscription_id
        key = request.headers.get("Idempotency-Key") or values.get("idempotencyKey") or None
        replay = (
            key is not None
            and SendRequest.objects.filter(
                enterprise_id=self.enterprise_id(), idempotency_key=key
            ).exists()
        )
        try:
            send = services.sms_enqueue(
                subscription_id=subscription_id,
                recipients=values["numbers"],
                text=values["text"],
                by=request.user,
                scheduled_at=values.get("scheduledAt"),
                channel=SendRequest.Channel.API,
                idempotency_key=key,
                extension=values.get("extension") or "",
            )
        except services.SendRefused as exc:
            http = (
                status.HTTP_409_CONFLICT
                if exc.code == "idempotency_conflict"
                else status.HTTP_400_BAD_REQUEST
            )
            return _error(exc.code, exc.messages[0], http=http, refusedRecipients=exc.refused)
        body = io.request_out(
            selectors.send_request_progress(
                send_request_id=send.pk, enterprise_id=send.enterprise_id
            )
        )
        response = Response(body, status=status.HTTP_200_OK if replay else status.HTTP_202_ACCEPTED)
        if replay:
            response["Idempotent-Replayed"] = "true"
        return response

    def _subscription(self, given):
        from fulfillment.models import Subscription
        from fulfillment.selectors import subscriptions_of_enterprise

        active = subscriptions_of_enterprise(
            self.enterprise_id(), states=[Subscription.State.ACTIVE]
        ).values_list("id", flat=True)
        own = list(subscriptions_of_enterprise(self.enterprise_id()).values_list("id", flat=True))
        if given is not None:
            if given not in own:
                return _error("unknown_subscription", "no such subscription of this enterprise")
            return given
        active = list(active)
        if len(active) != 1:
            return _error(
                "subscription_required",
                f"give subscriptionId: the enterprise has {len(active)} active subscriptions",
            )
        return active[0]


class RequestView(_Base):
    """GET /api/v1/sms/requests/<id>: progress of a send request."""

    @extend_schema(
        operation_id="sms_request_retrieve",
        responses=OpenApiTypes.OBJECT,
        summary="A send request's progress.",
    )
    def get(self, request, pk: int):
        try:
            progress = selectors.send_request_progress(
                send_request_id=pk, enterprise_id=self.enterprise_id()
            )
        except SendRequest.DoesNotExist as exc:
            raise Http404 from exc
        return Response(io.request_out(progress))


def _page(request, default=100, maximum=1000):
    try:
        offset = max(int(request.query_params.get("offset", 0)), 0)
        limit = min(max(int(request.query_params.get("limit", default)), 1), maximum)
    except ValueError as exc:
        raise ValidationError("offset and limit must be integers") from exc
    return offset, limit


class MessageListView(_Base):
    """GET /api/v1/sms/messages?msisdn=&state=&requestId=&offset=&limit= with segments."""

    @extend_schema(
        operation_id="sms_messages_list",
        responses=OpenApiTypes.OBJECT,
        summary="Messages of the caller's enterprise.",
    )
    def get(self, request):
        try:
            offset, limit = _page(request)
        except ValidationError:
            return _error("invalid", "offset and limit must be integers")
        request_id = request.query_params.get("requestId")
        queryset = selectors.messages_of_enterprise(
            self.enterprise_id(),
            msisdn=request.query_params.get("msisdn"),
            state=request.query_params.get("state"),
            send_request_id=int(request_id) if (request_id or "").isdigit() else None,
        ).prefetch_related("segments")
        total = queryset.count()
        rows = [io.message_out(m) for m in queryset[offset : offset + limit]]
        response = Response(rows)
        response["X-Total-Count"] = str(total)
        return response


class MessageDetailView(_Base):
    """GET /api/v1/sms/messages/<id>: one message with its segments."""

    @extend_schema(
        operation_id="sms_message_retrieve",
        responses=OpenApiTypes.OBJECT,
        summary="A message with its segments and reports.",
    )
    def get(self, request, pk: int):
        from ..models import Message

        try:
            message = selectors.message_detail(message_id=pk, enterprise_id=self.enterprise_id())
        except Message.DoesNotExist as exc:
            raise Http404 from exc
        return Response(io.message_out(message))


class ReplyListView(_Base):
    """GET /api/v1/sms/replies?msisdn=&offset=&limit=: replies (MO) to the enterprise."""

    perms = {"GET": "smsgw.view_momessage"}

    @extend_schema(
        operation_id="sms_replies_list",
        responses=OpenApiTypes.OBJECT,
        summary="Replies (MO) routed to the caller's enterprise.",
    )
    def get(self, request):
        try:
            offset, limit = _page(request)
        except ValidationError:
            return _error("invalid", "offset and limit must be integers")
        queryset = selectors.replies_of_enterprise(
            self.enterprise_id(), msisdn=request.query_params.get("msisdn")
        )
        response = Response([io.reply_out(r) for r in queryset[offset : offset + limit]])
        response["X-Total-Count"] = str(queryset.count())
        return response


class WebhookView(_Base):
    """GET / PUT /api/v1/sms/webhook: where reports and replies are POSTed (signed).

    The signing secret is returned only when created or rotated (`rotateSecret`)."""

    perms = {"GET": "smsgw.view_webhookendpoint", "PUT": "smsgw.change_webhookendpoint"}

    @extend_schema(
        operation_id="sms_webhook_retrieve",
        responses=OpenApiTypes.OBJECT,
        summary="The webhook for reports and replies.",
    )
    def get(self, request):
        from ..models import WebhookEndpoint

        endpoint = WebhookEndpoint.objects.filter(enterprise_id=self.enterprise_id()).first()
        if endpoint is None:
            raise Http404
        return Response(self._out(endpoint))

    @extend_schema(
        operation_id="sms_webhook_update",
        request=io.WebhookInput,
        responses=OpenApiTypes.OBJECT,
        summary="Set the webhook for reports and replies.",
    )
    def put(self, request):
        data = io.WebhookInput(data=request.data)
        if not data.is_valid():
            return _error("invalid", "invalid request", errors=data.errors)
        values = data.validated_data
        try:
            endpoint, secret = webhooks.webhook_configure(
                enterprise_id=self.enterprise_id(),
                url=values["url"],
                send_reports=values["sendReports"],
                send_replies=values["sendReplies"],
                is_active=values["active"],
                rotate_secret=values["rotateSecret"],
                by=request.user,
            )
        except ValidationError as exc:
            return _error("invalid", "; ".join(exc.messages))
        body = self._out(endpoint)
        if secret:
            body["secret"] = secret
        return Response(body)

    @staticmethod
    def _out(endpoint) -> dict:
        return {
            "url": endpoint.url,
            "sendReports": endpoint.send_reports,
            "sendReplies": endpoint.send_replies,
            "active": endpoint.is_active,
            "signature": "X-MAS-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, '<t>.' + body)>",
        }
