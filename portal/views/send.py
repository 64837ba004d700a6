"""Send SMS (第4–6条 applied by smsgw): to numbers or a group, bulk from a file, progress.

The portal only collects the input and shows the outcome: `smsgw.services.sms_enqueue`
decides what goes out (registered list, opt-outs, screening, signature, subscription
state) and says why anything is refused. The segment count shown before sending is the
same split the gateway uses (`smsgw.cmpp.text.split_text`); the page's JavaScript
counter mirrors it for typing.
"""

import uuid
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.generic import FormView, TemplateView, View

from customers.selectors import approved_signature
from portal.access import PortalMixin
from portal.forms import ALL_RECIPIENTS, BulkSendForm, SendBaseForm, SendForm
from portal.selectors import bulk_preview, recipient_groups, segment_preview
from smsgw import selectors as sms_selectors
from smsgw import services as sms_services
from smsgw.models import MessageState, SendRequest


class _SendMixin(PortalMixin):
    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["enterprise"] = self.enterprise
        return kwargs

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        signature = approved_signature(self.enterprise.pk)
        context["signature"] = signature.text if signature else ""
        form = context.get("form")
        text = form.data.get("text", "") if form is not None and form.is_bound else ""
        context["preview"] = segment_preview(text, context["signature"]) if text else None
        context["recent_requests"] = sms_selectors.send_requests_of_enterprise(
            self.enterprise.pk
        ).select_related("subscription__service_code")[:10]
        return context

    def refused(self, form, exc: ValidationError):
        """Show a refusal from smsgw on the form, with the per-number reasons if any."""
        form.add_error(None, exc)
        return self.render_to_response(
            self.get_context_data(form=form, refused_rows=getattr(exc, "refused", []))
        )


class SendView(_SendMixin, FormView):
    """One message to typed-in numbers or to a recipient group."""

    template_name = "portal/send/send.html"
    form_class = SendForm

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["groups"] = recipient_groups(self.enterprise)
        return kwargs

    def post(self, request, *args, **kwargs):
        form = self.get_form()
        if "preview" in request.POST:
            form.is_valid()
            return self.render_to_response(self.get_context_data(form=form))
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        data = form.cleaned_data
        common = {
            "subscription_id": data["subscription"].pk,
            "text": data["text"],
            "by": self.request.user,
            "scheduled_at": data.get("scheduled_at"),
        }
        try:
            if data["numbers"]:
                send_request = sms_services.sms_enqueue(recipients=data["numbers"], **common)
            else:
                group = None if data["group"] == ALL_RECIPIENTS else data["group"]
                send_request = sms_services.sms_enqueue_campaign(group_label=group, **common)
        except ValidationError as exc:
            return self.refused(form, exc)
        _announce(self.request, send_request)
        return redirect("portal:send_progress", pk=send_request.pk)


def _upload_dir() -> Path:
    path = Path(settings.MEDIA_ROOT) / "portal-sends"
    path.mkdir(parents=True, exist_ok=True)
    return path


class BulkSendView(_SendMixin, FormView):
    """Upload → preview of refused rows (nothing sent) → confirm (the accepted rows go).

    The file waits under MEDIA_ROOT/portal-sends named by the enterprise and a random
    token until it is confirmed; the text and time travel with the confirm form, so what
    is confirmed is exactly what was previewed.
    """

    template_name = "portal/send/bulk.html"
    form_class = BulkSendForm

    def _path(self, token: str) -> Path:
        try:
            uuid.UUID(token)
        except ValueError as exc:
            raise Http404 from exc
        for suffix in (".csv", ".xlsx"):
            path = _upload_dir() / f"{self.enterprise.pk}-{token}{suffix}"
            if path.exists():
                return path
        raise Http404

    def post(self, request, *args, **kwargs):
        token = request.POST.get("confirm")
        if not token:
            return super().post(request, *args, **kwargs)
        path = self._path(token)
        form = SendBaseForm(data=request.POST, enterprise=self.enterprise)
        if not form.is_valid():
            return self.form_invalid(form)
        preview = bulk_preview(self.enterprise, path)
        data = form.cleaned_data
        try:
            send_request = sms_services.sms_enqueue_campaign(
                subscription_id=data["subscription"].pk,
                text=data["text"],
                by=request.user,
                recipients=preview.accepted,
                scheduled_at=data.get("scheduled_at"),
                idempotency_key=f"portal-bulk-{token}",
            )
        except ValidationError as exc:
            return self.refused(form, exc)
        path.unlink(missing_ok=True)
        _announce(request, send_request)
        return redirect("portal:send_progress", pk=send_request.pk)

    def form_valid(self, form):
        upload = form.cleaned_data["file"]
        token = str(uuid.uuid4())
        suffix = ".xlsx" if upload.name.lower().endswith(".xlsx") else ".csv"
        path = _upload_dir() / f"{self.enterprise.pk}-{token}{suffix}"
        with path.open("wb") as target:
            for chunk in upload.chunks():
                target.write(chunk)
        try:
            preview = bulk_preview(self.enterprise, path)
        except ValidationError as exc:
            path.unlink(missing_ok=True)
            form.add_error("file", exc)
            return self.form_invalid(form)
        if not preview.accepted:
            path.unlink(missing_ok=True)
            token = None
        return self.render_to_response(
            self.get_context_data(form=form, bulk=preview, token=token, confirm=form.cleaned_data)
        )


def _announce(request, send_request: SendRequest) -> None:
    if send_request.refused_count:
        messages.warning(
            request,
            _("已受理 %(accepted)d 个号码，拒绝 %(refused)d 个（原因见下表）")
            % {"accepted": send_request.accepted_count, "refused": send_request.refused_count},
        )
    else:
        messages.success(
            request, _("已受理 %(accepted)d 个号码") % {"accepted": send_request.accepted_count}
        )


def _progress(enterprise_id: int, pk: int) -> dict:
    try:
        return sms_selectors.send_request_progress(send_request_id=pk, enterprise_id=enterprise_id)
    except SendRequest.DoesNotExist as exc:
        raise Http404 from exc


class SendProgressView(PortalMixin, TemplateView):
    """A send request's progress: a bar that works without JavaScript (refresh link)."""

    template_name = "portal/send/progress.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        progress = _progress(self.enterprise.pk, self.kwargs["pk"])
        context["progress"] = progress
        context["send_request"] = SendRequest.objects.get(pk=progress["id"])
        context["final"] = sum(progress["states"][s] for s in ("delivered", "failed", "expired"))
        context["state_rows"] = [
            (state, MessageState(state).label, n) for state, n in progress["states"].items()
        ]
        context["progress_url"] = reverse("portal:send_progress_json", args=[progress["id"]])
        return context


class SendProgressJsonView(PortalMixin, View):
    """The progress figures as JSON, polled by portal.js."""

    def get(self, request, pk):
        progress = _progress(self.enterprise.pk, pk)
        states = progress["states"]
        return JsonResponse(
            {
                "id": progress["id"],
                "accepted": progress["accepted"],
                "refused": progress["refused"],
                "states": states,
                "final": states["delivered"] + states["failed"] + states["expired"],
                "done": progress["done"],
            }
        )
