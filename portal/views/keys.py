"""API keys (and, with smsgw, the webhook callback): the enterprise administrator's page.

A key is a `customers.ApiToken` tied to the enterprise, acting as one of its users in an
enterprise role. Its secret is shown once, in the response to the POST that created it
(never stored, never put in a message cookie or a redirect), with caching forbidden.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views.generic import FormView, View

from customers import services
from customers.models import ApiToken
from portal.access import PortalAdminMixin
from portal.forms import ApiKeyForm


class ApiKeyListView(PortalAdminMixin, FormView):
    """The enterprise's keys (usable and revoked) and the form to create one."""

    template_name = "portal/keys/list.html"
    form_class = ApiKeyForm

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["enterprise"] = self.enterprise
        return kwargs

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["tokens"] = ApiToken.objects.filter(enterprise=self.enterprise).select_related(
            "user", "created_by", "revoked_by"
        )
        return context

    def form_valid(self, form):
        data = form.cleaned_data
        try:
            token, secret = services.api_token_issue(
                user=data["user"],
                role=data["role"],
                name=data["name"],
                enterprise_id=self.enterprise.pk,
                expires_at=form.expires_at(),
                by=self.request.user,
            )
        except ValidationError as exc:
            _add_service_errors(form, exc)
            return self.form_invalid(form)
        fresh_form = self.get_form_class()(enterprise=self.enterprise)
        response = self.render_to_response(
            self.get_context_data(form=fresh_form, new_token=token, secret=secret)
        )
        add_never_cache_headers(response)
        return response


# The service names its rules by model field; the form's own names for them.
_SERVICE_FIELDS = {"user": "user", "role": "role", "name": "name", "expires_at": "expires_on"}


def _add_service_errors(form, exc: ValidationError) -> None:
    """Put a service's refusal next to the field it concerns (or on top of the form)."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for field, errors in exc.error_dict.items():
        for error in errors:
            form.add_error(_SERVICE_FIELDS.get(field), error)


class ApiKeyRevokeView(PortalAdminMixin, View):
    """Revoke one of the enterprise's keys: it stops working at once."""

    def post(self, request, pk):
        token = get_object_or_404(ApiToken, pk=pk, enterprise=self.enterprise)
        services.api_token_revoke(token_id=token.pk, by=request.user)
        messages.success(request, _("已吊销令牌 %(name)s") % {"name": token.name})
        return redirect("portal:api_keys")
