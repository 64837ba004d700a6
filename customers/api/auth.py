"""API authentication: `Authorization: Bearer <token>` with customers.ApiToken.

Configured first in REST_FRAMEWORK's DEFAULT_AUTHENTICATION_CLASSES (session
authentication follows, for the browser), so a call without credentials gets 401 with
`WWW-Authenticate: Bearer`. `request_enterprise_id` is the TMF_REQUEST_ENTERPRISE hook
that tells `core.tmf.access` which enterprise a caller acts for.
"""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from .. import services
from ..models import ApiToken
from ..selectors import enterprise_of_user


class ApiTokenAuthentication(authentication.BaseAuthentication):
    """Bearer tokens issued by `customers.services.api_token_issue` (stored hashed)."""

    keyword = b"bearer"

    def authenticate(self, request):
        parts = authentication.get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword:
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("Authorization header must be: Bearer <token>")
        try:
            secret = parts[1].decode("ascii")
        except UnicodeDecodeError as exc:
            raise exceptions.AuthenticationFailed("invalid token") from exc
        token = services.api_token_use(secret=secret)
        if token is None:
            raise exceptions.AuthenticationFailed("invalid, expired or revoked token")
        return token.user, token

    def authenticate_header(self, request):
        return 'Bearer realm="mas"'


def request_enterprise_id(request) -> int | None:
    """The enterprise a request acts for: the token's, or an enterprise user's own."""
    auth = getattr(request, "auth", None)
    if isinstance(auth, ApiToken):
        return auth.enterprise_id
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    enterprise = enterprise_of_user(user)
    return enterprise.pk if enterprise else None


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """The bearer token in the OpenAPI document."""

    target_class = "customers.api.auth.ApiTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": (
                "API token issued in the admin (接口令牌): `Authorization: Bearer mas_…`"
            ),
        }
