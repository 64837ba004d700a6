"""Who may use the portal, and the enterprise every portal page is scoped to.

Every portal view is for one enterprise user (EnterpriseMembership): the enterprise comes
from the login, never from the URL, and every queryset is filtered by it, so another
enterprise's object is simply not found (404). Administrators manage users, keys and
recipients; operators send and read.
"""

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import reverse_lazy
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from core.roles import Role, user_has_role
from customers.selectors import enterprise_of_user


class PortalMixin(LoginRequiredMixin):
    """The logged-in user's enterprise as `self.enterprise`; staff are turned away."""

    login_url = reverse_lazy("portal:login")
    admin_only = False

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        self.enterprise = enterprise_of_user(request.user)
        if self.enterprise is None:
            if request.user.is_staff:
                return redirect("admin:index")
            raise PermissionDenied(_("该账号不是企业用户。"))
        if self.admin_only and not self.is_enterprise_admin:
            raise PermissionDenied(_("只有企业管理员可以执行此操作。"))
        return super().dispatch(request, *args, **kwargs)

    @cached_property
    def is_enterprise_admin(self) -> bool:
        return user_has_role(self.request.user, Role.ENTERPRISE_ADMIN)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["enterprise"] = self.enterprise
        context["is_enterprise_admin"] = self.is_enterprise_admin
        return context


class PortalAdminMixin(PortalMixin):
    """Pages and actions for the enterprise administrator only."""

    admin_only = True
