"""The enterprise administrator manages the enterprise's portal users."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views.generic import FormView, View

from core.models import User
from customers import services
from portal.access import PortalAdminMixin
from portal.forms import EnterpriseUserForm


class UserListView(PortalAdminMixin, FormView):
    template_name = "portal/users/list.html"
    form_class = EnterpriseUserForm

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["users"] = (
            User.objects.filter(membership__enterprise=self.enterprise)
            .prefetch_related("groups")
            .order_by("username")
        )
        return context

    def form_valid(self, form):
        data = form.cleaned_data
        try:
            services.enterprise_user_create(
                enterprise_id=self.enterprise.pk, by=self.request.user, **data
            )
        except ValidationError as exc:
            form.add_error(None, exc)
            return self.form_invalid(form)
        messages.success(self.request, _("已创建用户 %(username)s") % data)
        return redirect("portal:users")


class UserDeactivateView(PortalAdminMixin, View):
    """Switch off another user of the enterprise (never oneself)."""

    def post(self, request, pk):
        user = get_object_or_404(User, pk=pk, membership__enterprise=self.enterprise)
        if user.pk == request.user.pk:
            messages.error(request, _("不能停用自己的账号"))
        else:
            services.enterprise_user_set_active(user_id=user.pk, active=False, by=request.user)
            messages.success(request, _("已停用用户 %(username)s") % {"username": user.username})
        return redirect("portal:users")
