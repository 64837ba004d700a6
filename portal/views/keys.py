"""API keys and the webhook callback: the enterprise administrator's page.

A key is a `customers.ApiToken` tied to the enterprise, acting as one of its users in an
enterprise role. The webhook is smsgw's `WebhookEndpoint` (one per enterprise): where
delivery reports and replies are POSTed, signed with a secret. Both secrets are shown
once, in the response to the POST that created them (never stored in clear, never put
in a message cookie or a redirect), with caching forbidden.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views.generic import FormView, View

from customers import services
from customers.models import ApiToken
from portal.access import PortalAdminMixin
from portal.forms import ApiKeyForm, WebhookForm
from portal.selectors import webhook_deliveries_of, webhook_delivery_of, webhook_of
from smsgw import webhooks
from smsgw.models import WebhookDelivery


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
        endpoint = webhook_of(self.enterprise)
        context["webhook"] = endpoint
        context.setdefault("webhook_form", _webhook_form(endpoint))
        context["deliveries"] = webhook_deliveries_of(self.enterprise)
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
_SERVICE_FIELDS = {
    "user": "user",
    "role": "role",
    "name": "name",
    "expires_at": "expires_on",
    "url": "url",
}


def _add_service_errors(form, exc: ValidationError) -> None:
    """Put a service's refusal next to the field it concerns (or on top of the form)."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for field, errors in exc.error_dict.items():
        for error in errors:
            target = _SERVICE_FIELDS.get(field)
            form.add_error(target if target in form.fields else None, error)


def _webhook_form(endpoint, data=None) -> WebhookForm:
    if endpoint is None:
        return WebhookForm(data)
    initial = {
        "url": endpoint.url,
        "send_reports": endpoint.send_reports,
        "send_replies": endpoint.send_replies,
        "is_active": endpoint.is_active,
    }
    return WebhookForm(data, initial=initial)


class WebhookView(ApiKeyListView):
    """Set the callback URL (and its switches); a new or rotated signing secret is shown once."""

    def get(self, request, *args, **kwargs):
        return redirect("portal:api_keys")

    def post(self, request, *args, **kwargs):
        form = WebhookForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                endpoint, secret = webhooks.webhook_configure(
                    enterprise_id=self.enterprise.pk,
                    url=data["url"],
                    send_reports=data["send_reports"],
                    send_replies=data["send_replies"],
                    is_active=data["is_active"],
                    rotate_secret=data["rotate_secret"],
                    by=request.user,
                )
            except ValidationError as exc:
                _add_service_errors(form, exc)
            else:
                messages.success(request, _("回调地址已保存"))
                if secret is None:
                    return redirect("portal:api_keys")
                fresh = self.get_form_class()(enterprise=self.enterprise)
                response = self.render_to_response(
                    self.get_context_data(
                        form=fresh, webhook_secret=secret, webhook_form=_webhook_form(endpoint)
                    )
                )
                add_never_cache_headers(response)
                return response
        fresh = self.get_form_class()(enterprise=self.enterprise)
        return self.render_to_response(self.get_context_data(form=fresh, webhook_form=form))


class WebhookResendView(PortalAdminMixin, View):
    """Queue a failed delivery of the enterprise's webhook again."""

    def post(self, request, pk):
        try:
            delivery = webhook_delivery_of(self.enterprise, pk)
        except WebhookDelivery.DoesNotExist as exc:
            raise Http404 from exc
        if delivery.state != WebhookDelivery.State.FAILED:
            messages.error(request, _("只有推送失败的记录可以重新推送"))
        else:
            webhooks.webhook_resend(delivery_id=delivery.pk)
            messages.success(request, _("已重新排队推送 #%(id)s") % {"id": delivery.pk})
        return redirect("portal:api_keys")


class ApiKeyRevokeView(PortalAdminMixin, View):
    """Revoke one of the enterprise's keys: it stops working at once."""

    def post(self, request, pk):
        token = get_object_or_404(ApiToken, pk=pk, enterprise=self.enterprise)
        services.api_token_revoke(token_id=token.pk, by=request.user)
        messages.success(request, _("已吊销令牌 %(name)s") % {"name": token.name})
        return redirect("portal:api_keys")
