"""Login throttling shared by the admin, the portal and any password login.

Failures are counted per username and per client address in the cache. Once a username
has LOGIN_FAILURE_LIMIT failures within LOGIN_FAILURE_WINDOW_SECONDS, or an address has
LOGIN_FAILURE_ADDRESS_LIMIT (higher: an office shares one address), logins for it are
refused until the window has passed, even with the right password. A successful login
clears the username's count, not the address's, so guessing across usernames still stops.
"""

import hashlib

from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _


def _client_address(request) -> str:
    if request is None:
        return ""
    return request.META.get("REMOTE_ADDR", "")


def _keys(username: str, address: str) -> list[str]:
    keys = []
    if username:
        digest = hashlib.sha256(username.strip().lower().encode()).hexdigest()[:32]
        keys.append(f"login-fail:user:{digest}")
    if address:
        keys.append(f"login-fail:addr:{address}")
    return keys


def login_is_locked(username: str, request) -> bool:
    """Whether this username or this client has used up its failed attempts."""
    counts = cache.get_many(_keys(username, _client_address(request)))
    return any(
        count
        >= (
            settings.LOGIN_FAILURE_LIMIT
            if ":user:" in key
            else settings.LOGIN_FAILURE_ADDRESS_LIMIT
        )
        for key, count in counts.items()
    )


def login_failure_record(username: str, request) -> None:
    """Count one failed attempt for the username and the client address."""
    window = settings.LOGIN_FAILURE_WINDOW_SECONDS
    for key in _keys(username, _client_address(request)):
        if cache.add(key, 1, timeout=window):
            continue
        try:
            cache.incr(key)
        except ValueError:
            cache.set(key, 1, timeout=window)


def login_failures_clear(username: str) -> None:
    """Forget the username's failures after a successful login."""
    cache.delete_many(_keys(username, ""))


class ThrottledModelBackend(ModelBackend):
    """The model backend, refusing logins that are locked by too many failures."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.get(self._username_field(), "")
        if login_is_locked(username or "", request):
            raise PermissionDenied("login locked after repeated failures")
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None:
            login_failure_record(username or "", request)
        else:
            login_failures_clear(username or "")
        return user

    @staticmethod
    def _username_field() -> str:
        from django.contrib.auth import get_user_model

        return get_user_model().USERNAME_FIELD


LOCKED_MESSAGE = _("登录失败次数过多，账户已临时锁定，请 %(minutes)s 分钟后再试。")


class ThrottledLoginMixin:
    """Tells the person plainly that the login is locked instead of 'wrong password'."""

    def clean(self):
        username = self.cleaned_data.get("username") or ""
        if login_is_locked(username, self.request):
            raise forms.ValidationError(
                LOCKED_MESSAGE,
                code="locked",
                params={"minutes": settings.LOGIN_FAILURE_WINDOW_SECONDS // 60},
            )
        return super().clean()


class ThrottledAuthenticationForm(ThrottledLoginMixin, AuthenticationForm):
    """Login form for the portal."""


class ThrottledAdminAuthenticationForm(ThrottledLoginMixin, AdminAuthenticationForm):
    """Login form for the admin site."""
