"""The enterprise's invoices: status, PDF, payments, late fees, and a dispute (on hold)."""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import DetailView, FormView, ListView
from django_fsm import TransitionNotAllowed

from billing import selectors as billing_selectors
from billing import services as billing_services
from billing.models import Invoice
from portal.access import PortalAdminMixin, PortalMixin


class DisputeForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("争议原因"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy("争议期间暂停催缴和滞纳金计算，待财务核实后处理。"),
    )


class _InvoiceOfEnterprise:
    """The invoice with the URL's id among this enterprise's invoices, else 404."""

    def get_invoice(self) -> Invoice:
        invoice = (
            billing_selectors.invoices_of_enterprise(self.enterprise.pk)
            .filter(pk=self.kwargs["pk"])
            .first()
        )
        if invoice is None:
            raise Http404
        return invoice


class InvoiceListView(PortalMixin, ListView):
    """Invoices with their status, what is still due and the PDF."""

    template_name = "portal/invoices/list.html"
    context_object_name = "invoices"
    paginate_by = 20

    def get_queryset(self):
        return billing_selectors.invoices_of_enterprise(self.enterprise.pk).order_by(
            "-issued_on", "-number"
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["statement"] = billing_selectors.enterprise_statement(self.enterprise.pk)
        return context


class InvoiceDetailView(_InvoiceOfEnterprise, PortalMixin, DetailView):
    """One invoice: lines, payments, late fees, dunning notices and the dispute form."""

    template_name = "portal/invoices/detail.html"
    context_object_name = "invoice"

    def get_object(self, queryset=None):
        return self.get_invoice()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        invoice = self.object
        context.update(
            lines=invoice.lines.order_by("period_start", "subscription_id", "kind"),
            payments=billing_selectors.payments_of_invoice(invoice).filter(reversed=False),
            late_fee_unbilled=billing_services.late_fee_unbilled(invoice),
            late_fee_billed=invoice.late_fee_charges.select_related("invoice"),
            credit_notes=invoice.credit_notes.all(),
            dunning=billing_selectors.dunning_of(invoice),
            can_dispute=invoice.state in Invoice.CHASED_STATES,
            dispute_form=DisputeForm(),
        )
        return context


class InvoicePdfView(_InvoiceOfEnterprise, PortalMixin, View):
    """The stored PDF of one of the enterprise's invoices."""

    def get(self, request, *args, **kwargs):
        invoice = self.get_invoice()
        if not invoice.pdf_sha256:
            invoice = billing_services.invoice_pdf_store(invoice_id=invoice.pk)
        response = HttpResponse(bytes(invoice.pdf), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{invoice.number}.pdf"'
        return response


class InvoiceDisputeView(_InvoiceOfEnterprise, PortalAdminMixin, FormView):
    """Dispute an invoice with a reason: it goes on hold until finance settles it."""

    form_class = DisputeForm
    template_name = "portal/invoices/dispute.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["invoice"] = self.get_invoice()
        return context

    def form_valid(self, form):
        invoice = self.get_invoice()
        try:
            billing_services.invoice_hold(
                invoice_id=invoice.pk, by=self.request.user, reason=form.cleaned_data["reason"]
            )
        except (ValidationError, TransitionNotAllowed):
            messages.error(self.request, _("该账单当前不能提出争议。"))
        else:
            messages.success(self.request, _("已提交争议，账单已挂起，财务核实后会与您联系。"))
        return redirect("portal:invoice_detail", pk=invoice.pk)
