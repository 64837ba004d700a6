"""Who may call a TMF API, and on whose behalf.

Two kinds of callers reach a TMF API:
- staff (a browser session, or an API token in a staff role): model permissions decide
  what they may do (GET → view, POST → add, PATCH → change, DELETE → the viewset's
  `delete_action`, "change" by default because the domain services decide which rows may
  go); rows are scoped by the app's selectors (a customer manager sees only assigned
  enterprises);
- an enterprise (a token issued to one enterprise, or an enterprise user's session): it
  may use only the methods a viewset lists in `enterprise_methods`, and sees only its
  own enterprise's rows.

`core` does not know where enterprises live (it must not import `customers`), so the
enterprise of a request is found through the setting `TMF_REQUEST_ENTERPRISE`, the
dotted path of a function `request -> enterprise id | None` (in this project
`customers.api.auth.request_enterprise_id`).

An API token may be narrower than its user: when `request.auth` has a `role` (a group
name), the permission must also be held by that role's group.
"""

import functools

from django.conf import settings
from django.contrib.auth.models import Group
from django.utils.module_loading import import_string
from rest_framework import permissions

_ACTIONS = {"GET": "view", "HEAD": "view", "OPTIONS": "view", "POST": "add", "PATCH": "change"}


def request_enterprise_id(request) -> int | None:
    """The enterprise the caller acts for, or None for staff (see module docstring)."""
    if not hasattr(request, "_tmf_enterprise_id"):
        resolver = _resolver()
        request._tmf_enterprise_id = resolver(request) if resolver else None
    return request._tmf_enterprise_id


@functools.cache
def _resolver():
    dotted = getattr(settings, "TMF_REQUEST_ENTERPRISE", "")
    return import_string(dotted) if dotted else None


def role_permissions(role: str) -> set[str]:
    """The permissions (`app_label.codename`) of a role group."""
    group = Group.objects.filter(name=role).first()
    if group is None:
        return set()
    return {
        f"{app}.{codename}"
        for app, codename in group.permissions.values_list("content_type__app_label", "codename")
    }


def has_tmf_permission(request, perm: str) -> bool:
    """The user holds `perm`, and so does the token's role when a token is used."""
    user = request.user
    if not user.has_perm(perm):
        return False
    role = getattr(request.auth, "role", None)
    if role:
        return perm in role_permissions(role)
    return True


class TmfAccess(permissions.BasePermission):
    """Authenticated callers, model permissions for staff, listed methods for enterprises.

    The view names its model through `permission_model` (`app_label.modelname`), or its
    queryset's model is used.
    """

    message = "the caller's role does not allow this operation"

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated and user.is_active):
            return False
        if request_enterprise_id(request) is not None:
            if request.method not in getattr(view, "enterprise_methods", ()):
                self.message = "enterprise callers may not use this operation"
                return False
            return True
        perm = view_permission(view, request.method)
        return perm is None or has_tmf_permission(request, perm)


def view_permission(view, method: str) -> str | None:
    """The permission a staff caller needs for `method` on this view."""
    model = getattr(view, "permission_model", None)
    if model is None:
        queryset = getattr(view, "queryset", None)
        if queryset is None:
            return None
        meta = queryset.model._meta
        model = f"{meta.app_label}.{meta.model_name}"
    app_label, model_name = model.split(".")
    action = _ACTIONS.get(method) or getattr(view, "delete_action", "change")
    return f"{app_label}.{action}_{model_name}"
