"""TMF678 viewsets: bills and rated charges are read (bills' state PATCHed); on-demand
bill requests are created. Staff see what their role shows; an enterprise caller only
its own account's."""

from django.db.models import Q
from django.http import HttpResponse

from core.tmf.access import request_enterprise_id
from core.tmf.filters import ExactFilter
from core.tmf.views import TmfViewSet

from ..models import BillingRequest, Charge, Invoice
from ..selectors import invoices_of_enterprise, invoices_visible_to
from .serializers import AppliedRateSerializer, BillOnDemandSerializer, CustomerBillSerializer


class _Scoped(TmfViewSet):
    def get_serializer_context(self):
        context = super().get_serializer_context()
        context["enterprise_id"] = request_enterprise_id(self.request)
        return context


class CustomerBillViewSet(_Scoped):
    """Issued bills; PATCH `state` puts one on hold (dispute) or releases it."""

    serializer_class = CustomerBillSerializer
    queryset = Invoice.objects.all()
    ordering = ("-issued_on", "-pk")
    enterprise_methods = ("GET", "HEAD", "OPTIONS", "PATCH")
    filter_fields = {
        "billNo": ExactFilter("number", description="Exact match on the bill number"),
        "billingAccount.id": ExactFilter("account__number", description="The account number"),
    }

    def get_queryset(self):
        enterprise_id = request_enterprise_id(self.request)
        if enterprise_id is not None:
            queryset = invoices_of_enterprise(enterprise_id)
        else:
            queryset = invoices_visible_to(self.request.user)
        return (
            queryset.exclude(state__in=[Invoice.State.DRAFT, Invoice.State.VOID])
            .select_related("account__enterprise")
            .prefetch_related("lines")
        )

    http_method_names = ["get", "patch", "head", "options"]

    def document(self, request, *args, **kwargs):
        """The bill's stored PDF (`billDocument`)."""
        from .. import services

        invoice = self.get_object()
        if not invoice.pdf_sha256:
            invoice = services.invoice_pdf_store(invoice_id=invoice.pk)
        response = HttpResponse(bytes(invoice.pdf), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{invoice.number}.pdf"'
        response["X-Content-SHA256"] = invoice.pdf_sha256
        return response


class AppliedRateViewSet(_Scoped):
    """Rated charges (billed or not yet)."""

    serializer_class = AppliedRateSerializer
    queryset = Charge.objects.all()
    ordering = ("-rated_at", "-pk")
    enterprise_methods = ("GET", "HEAD", "OPTIONS")
    http_method_names = ["get", "head", "options"]
    filter_fields = {
        "billingAccount.id": ExactFilter("account__number", description="The account number"),
        "type": ExactFilter("kind", description="port_fee, package_fee, overage, late_fee…"),
    }

    def get_queryset(self):
        queryset = Charge.objects.select_related(
            "account__enterprise", "invoice", "subscription__service_code"
        )
        enterprise_id = request_enterprise_id(self.request)
        if enterprise_id is not None:
            return queryset.filter(
                Q(account__enterprise_id=enterprise_id)
                | Q(subscription__enterprise_id=enterprise_id)
            )
        if self.request.user.has_perm("billing.run_billing"):
            return queryset
        visible = invoices_visible_to(self.request.user).values("account_id")
        return queryset.filter(account_id__in=visible)


class BillOnDemandViewSet(_Scoped):
    """On-demand bill requests: accepted at once, processed asynchronously."""

    serializer_class = BillOnDemandSerializer
    queryset = BillingRequest.objects.all()
    enterprise_methods = ("GET", "HEAD", "OPTIONS", "POST")

    def get_queryset(self):
        queryset = BillingRequest.objects.select_related("invoice")
        enterprise_id = request_enterprise_id(self.request)
        if enterprise_id is not None:
            return queryset.filter(enterprise_id=enterprise_id)
        return queryset

    http_method_names = ["get", "post", "head", "options"]
