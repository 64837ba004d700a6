"""The TMF error body for every error a TMF API returns.

`{"code", "reason", "message", "status", "referenceError", "@type": "Error"}` with the
HTTP status equal to `status`. Views raise DRF exceptions, Django's ValidationError
(domain refusals → 400), `django_fsm.TransitionNotAllowed` (→ 409) or the classes below;
`tmf_exception_handler` turns each into that body (a ValidationError raised with
`code="conflict"`, e.g. a price already in effect, is 409). Anything unexpected is logged with
its traceback and answered 500 with the same body, never an HTML page.
"""

import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.urls import NoReverseMatch, reverse
from django.utils.encoding import force_str
from django_fsm import TransitionNotAllowed
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

logger = logging.getLogger("core.tmf")

_CODES = {
    400: ("badRequest", "Bad Request"),
    401: ("unauthorized", "Unauthorized"),
    403: ("forbidden", "Forbidden"),
    404: ("notFound", "Not Found"),
    405: ("methodNotAllowed", "Method Not Allowed"),
    406: ("notAcceptable", "Not Acceptable"),
    409: ("conflict", "Conflict"),
    415: ("unsupportedMediaType", "Unsupported Media Type"),
    429: ("tooManyRequests", "Too Many Requests"),
    500: ("internalError", "Internal Server Error"),
}


class TmfError(exceptions.APIException):
    """An error with its TMF `code` and `reason`; `message` says which rule and why."""

    status_code = status.HTTP_400_BAD_REQUEST
    code = "badRequest"
    reason = "Bad Request"

    def __init__(self, message: str, *, code: str | None = None, reason: str | None = None):
        super().__init__(detail=message)
        self.message = message
        if code:
            self.code = code
        if reason:
            self.reason = reason


class TmfBadRequestError(TmfError):
    """400: the body breaks the specification or a domain rule."""


class TmfConflictError(TmfError):
    """409: the resource's state does not allow the change (e.g. a refused transition)."""

    status_code = status.HTTP_409_CONFLICT
    code = "conflict"
    reason = "Conflict"

    def __init__(self, message: str, *, allowed: list[str] | None = None, **kwargs):
        super().__init__(message, **kwargs)
        self.allowed = allowed


class TmfNotFoundError(TmfError):
    """404: no such resource for this caller (also when it exists but is not theirs)."""

    status_code = status.HTTP_404_NOT_FOUND
    code = "notFound"
    reason = "Not Found"


def error_body(
    request, status_code: int, message: str, *, code: str | None = None, reason=None
) -> dict:
    """The TMF Error document for a status and a message."""
    default_code, default_reason = _CODES.get(
        status_code, ("error", "Client Error" if status_code < 500 else "Server Error")
    )
    body = {
        "code": code or default_code,
        "reason": reason or default_reason,
        "message": message,
        "status": str(status_code),
        "@type": "Error",
    }
    reference = _reference(request)
    if reference:
        body["referenceError"] = reference
    return body


def _reference(request) -> str | None:
    """Where the error is documented: the API's OpenAPI page."""
    try:
        path = reverse("swagger-ui")
    except NoReverseMatch:
        return None
    if request is None:
        return None
    return request.build_absolute_uri(path)


def _flatten(detail, prefix: str = "") -> list[str]:
    if isinstance(detail, dict):
        lines = []
        for key, value in detail.items():
            name = "" if key in ("non_field_errors", "__all__") else str(key)
            lines.extend(_flatten(value, f"{prefix}.{name}" if prefix and name else name or prefix))
        return lines
    if isinstance(detail, list):
        lines = []
        for item in detail:
            lines.extend(_flatten(item, prefix))
        return lines
    text = force_str(detail)
    return [f"{prefix}: {text}" if prefix else text]


def tmf_exception_handler(exc, context):
    """DRF exception handler for TMF views: every error becomes the TMF error body."""
    request = context.get("request")
    headers = {}
    extra = {}
    if isinstance(exc, Http404):
        exc = TmfNotFoundError(force_str(exc) or "No such resource")
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(force_str(exc) or None)
    elif isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else exc.messages
        conflict = getattr(exc, "code", None) == "conflict"
        exc = (TmfConflictError if conflict else TmfBadRequestError)("; ".join(_flatten(detail)))
    elif isinstance(exc, TransitionNotAllowed):
        exc = TmfConflictError(f"state machine refused the change: {exc}")

    if isinstance(exc, TmfError):
        status_code = exc.status_code
        body = error_body(request, status_code, exc.message, code=exc.code, reason=exc.reason)
        if getattr(exc, "allowed", None) is not None:
            extra["allowedValues"] = exc.allowed
    elif isinstance(exc, exceptions.APIException):
        status_code = exc.status_code
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header
        if getattr(exc, "wait", None):
            headers["Retry-After"] = str(int(exc.wait))
        message = "; ".join(_flatten(exc.detail)) or force_str(exc.default_detail)
        body = error_body(request, status_code, message)
    else:
        logger.exception("Unhandled error in a TMF API view", exc_info=exc)
        status_code = 500
        body = error_body(request, 500, "Unexpected server error; it has been logged.")
    set_rollback()
    return Response({**body, **extra}, status=status_code, headers=headers)
