"""SMS signatures (第6条第4款): the enterprise requests one and follows its review."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.generic import FormView

from customers import services
from customers.models import Signature
from portal.access import PortalMixin
from portal.forms import SignatureRequestForm


class SignatureView(PortalMixin, FormView):
    """The enterprise's signatures with their review state; administrators request new ones."""

    template_name = "portal/signatures/list.html"
    form_class = SignatureRequestForm

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["signatures"] = Signature.objects.filter(enterprise=self.enterprise).order_by(
            "-created_at"
        )
        return context

    def post(self, request, *args, **kwargs):
        if not self.is_enterprise_admin:
            messages.error(request, _("只有企业管理员可以申请签名"))
            return redirect("portal:signatures")
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        try:
            signature = services.signature_submit(
                enterprise_id=self.enterprise.pk,
                text=form.cleaned_data["text"],
                by=self.request.user,
            )
        except ValidationError as exc:
            form.add_error(
                "text" if hasattr(exc, "error_dict") and "text" in exc.error_dict else None, exc
            )
            return self.form_invalid(form)
        messages.success(
            self.request,
            _("签名 %(text)s 已提交，等待客户经理审核。系统核对：%(evidence)s")
            % {"text": signature.text, "evidence": signature.match_evidence},
        )
        return redirect("portal:signatures")
