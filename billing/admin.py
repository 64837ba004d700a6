"""Billing in the admin: finance's workbench (billing runs with a live progress bar,
invoice search, AR ageing with a chart and XLSX export, the PDF zip, bank entrustment
files), invoices with their transitions, credit notes and waivers, payments."""

import datetime as dt
import io
from decimal import Decimal, InvalidOperation

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from import_export.formats.base_formats import CSV, XLSX

from core import clock
from core.admin_tools import (
    AdminTransition,
    ReadOnlyAdminMixin,
    ReadOnlyInline,
    StateChangeInline,
    TransitionAdminMixin,
    WorkbenchLink,
    register_workbench_link,
)

from . import resources, selectors, services
from .models import (
    Allocation,
    BillingAccount,
    BillingRun,
    Charge,
    CreditNote,
    DunningStep,
    Invoice,
    LateFeeWaiver,
    Payment,
)


class _ReadOnlyInline(ReadOnlyInline):
    """Issued invoices never change: their rows cannot be edited either."""

    def has_change_permission(self, request, obj=None):
        return False


class ChargeInline(_ReadOnlyInline):
    model = Charge
    fk_name = "invoice"
    fields = (
        "description",
        "period_start",
        "period_end",
        "quantity",
        "unit_price",
        "tax_amount",
        "amount",
    )
    readonly_fields = fields
    verbose_name_plural = _("账单明细")


class AllocationInline(_ReadOnlyInline):
    model = Allocation
    fields = ("payment", "on", "principal", "late_fee", "reversed")
    readonly_fields = fields
    verbose_name_plural = _("收款核销")


class CreditNoteInline(_ReadOnlyInline):
    model = CreditNote
    fields = ("number", "issued_on", "amount", "tax_amount", "reason", "by")
    readonly_fields = fields


class DunningInline(_ReadOnlyInline):
    model = DunningStep
    fields = ("sequence", "step", "due_on", "done_at", "outcome", "resumed_at")
    readonly_fields = fields


class WaiverInline(_ReadOnlyInline):
    model = LateFeeWaiver
    fields = ("at", "amount", "reason", "by")
    readonly_fields = fields


class AmountReasonForm(forms.Form):
    amount = forms.DecimalField(
        label=_("金额（元）"), max_digits=14, decimal_places=2, min_value=Decimal("0.01")
    )
    reason = forms.CharField(label=_("原因"), widget=forms.Textarea(attrs={"rows": 3}))


class RunForm(forms.Form):
    quarter_start = forms.DateField(
        label=_("季度起始日"),
        help_text=_("1、4、7、10 月的 1 日"),
        widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}),
    )


class ResultFileForm(forms.Form):
    file = forms.FileField(label=_("银行回盘文件（CSV 或 XLSX）"))


def _invoice_visible(request, invoice_id) -> Invoice:
    invoice = selectors.invoices_visible_to(request.user).filter(pk=invoice_id).first()
    if invoice is None:
        raise Http404
    return invoice


@admin.register(Invoice)
class InvoiceAdmin(TransitionAdminMixin, admin.ModelAdmin):
    """Invoices: read-only once issued (corrections by credit note), with their lines,
    payments, dunning and state history; finance holds, releases and voids them."""

    transitions = (
        AdminTransition(
            "hold",
            _("争议挂起"),
            lambda obj, user, reason: services.invoice_hold(
                invoice_id=obj.pk, by=user, reason=reason
            ),
            permission="billing.hold_invoice",
            reason_required=True,
        ),
        AdminTransition(
            "release",
            _("解除挂起（按原账单）"),
            lambda obj, user, reason: services.invoice_release(
                invoice_id=obj.pk, by=user, reason=reason
            ),
            permission="billing.hold_invoice",
        ),
        AdminTransition(
            "void",
            _("作废"),
            lambda obj, user, reason: services.invoice_void(
                invoice_id=obj.pk, by=user, reason=reason
            ),
            permission="billing.issue_invoice",
            reason_required=True,
            style="danger",
        ),
    )
    list_display = (
        "number",
        "enterprise",
        "kind",
        "period_start",
        "due_on",
        "total",
        "outstanding_display",
        "state",
        "pdf_link",
    )
    list_filter = ("state", "kind", "period_start")
    search_fields = ("number", "account__number", "account__enterprise__name")
    date_hierarchy = "issued_on"
    readonly_fields = (
        "number",
        "account",
        "kind",
        "state",
        "period_start",
        "period_end",
        "issued_on",
        "due_on",
        "total",
        "tax_total",
        "late_fee_total",
        "credited",
        "paid_principal",
        "paid_late_fee",
        "paid_on",
        "hold_reason",
        "late_fee_now",
        "pdf_sha256",
        "pdf_link",
        "actions_links",
    )
    fields = readonly_fields
    inlines = (
        ChargeInline,
        AllocationInline,
        CreditNoteInline,
        WaiverInline,
        DunningInline,
        StateChangeInline,
    )

    def get_queryset(self, request):
        return selectors.invoices_visible_to(request.user)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("集团客户"), ordering="account__enterprise__name")
    def enterprise(self, obj):
        return obj.account.enterprise

    @admin.display(description=_("未付金额"))
    def outstanding_display(self, obj):
        return obj.outstanding

    @admin.display(description=_("截至今日未计滞纳金"))
    def late_fee_now(self, obj):
        return services.late_fee_unbilled(obj)

    @admin.display(description=_("PDF"))
    def pdf_link(self, obj):
        if obj.state == Invoice.State.DRAFT:
            return "—"
        return format_html(
            '<a href="{}">{}</a>', reverse("admin:billing_invoice_pdf", args=[obj.pk]), _("下载")
        )

    @admin.display(description=_("财务操作"))
    def actions_links(self, obj):
        if obj.state in (Invoice.State.DRAFT, Invoice.State.VOID):
            return "—"
        return format_html(
            '<a class="button" href="{}">{}</a> <a class="button" href="{}">{}</a>',
            reverse("admin:billing_invoice_credit_note", args=[obj.pk]),
            _("开具冲红单"),
            reverse("admin:billing_invoice_waive", args=[obj.pk]),
            _("减免滞纳金"),
        )

    # ------------------------------------------------------------------ finance pages
    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("finance/", view(self.finance_view), name="billing_finance"),
            path("finance/runs/<int:run_id>/", view(self.run_view), name="billing_run"),
            path(
                "finance/runs/<int:run_id>/progress/",
                view(self.run_progress_view),
                name="billing_run_progress",
            ),
            path("finance/ageing/", view(self.ageing_view), name="billing_ageing"),
            path("finance/ageing.xlsx", view(self.ageing_xlsx_view), name="billing_ageing_xlsx"),
            path("finance/invoices.zip", view(self.zip_view), name="billing_invoices_zip"),
            path("finance/entrustment/", view(self.entrustment_view), name="billing_entrustment"),
            path("<int:invoice_id>/pdf/", view(self.pdf_view), name="billing_invoice_pdf"),
            path(
                "<int:invoice_id>/credit-note/",
                view(self.credit_note_view),
                name="billing_invoice_credit_note",
            ),
            path("<int:invoice_id>/waive/", view(self.waive_view), name="billing_invoice_waive"),
            *super().get_urls(),
        ]

    def _context(self, request, title, **extra):
        return {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.model._meta,
            **extra,
        }

    def _require(self, request, perm):
        if not request.user.has_perm(perm):
            raise PermissionDenied

    def finance_view(self, request):
        """Billing runs (start one, follow them) and the invoice search."""
        self._require(request, "billing.view_invoice")
        form = RunForm(initial={"quarter_start": services.quarter_for_run(clock.today())})
        if request.method == "POST":
            self._require(request, "billing.run_billing")
            form = RunForm(request.POST)
            if form.is_valid():
                try:
                    run = services.billing_run_create(
                        quarter_start=form.cleaned_data["quarter_start"], by=request.user
                    )
                except ValidationError as exc:
                    form.add_error("quarter_start", exc)
                else:
                    return HttpResponseRedirect(reverse("admin:billing_run", args=[run.pk]))
        params = request.GET
        invoices = selectors.invoice_search(
            self.get_queryset(request).exclude(state=Invoice.State.DRAFT),
            text=params.get("q", "").strip(),
            state=params.get("state", ""),
            period=params.get("period", "").strip(),
            overdue=params.get("overdue") == "1",
        )
        context = self._context(
            request,
            _("财务工作台"),
            form=form,
            runs=BillingRun.objects.all()[:10],
            invoices=invoices[:100],
            invoice_count=invoices.count(),
            states=Invoice.State.choices,
            params=params,
            can_run=request.user.has_perm("billing.run_billing"),
        )
        return TemplateResponse(request, "admin/billing/finance.html", context)

    def run_view(self, request, run_id):
        self._require(request, "billing.view_billingrun")
        run = get_object_or_404(BillingRun, pk=run_id)
        context = self._context(
            request,
            str(_("出账批次 %(run)s")) % {"run": run},
            run=run,
            progress=selectors.run_progress(run),
        )
        return TemplateResponse(request, "admin/billing/run.html", context)

    def run_progress_view(self, request, run_id):
        self._require(request, "billing.view_billingrun")
        return JsonResponse(selectors.run_progress(get_object_or_404(BillingRun, pk=run_id)))

    def ageing_view(self, request):
        self._require(request, "billing.view_invoice")
        report = selectors.ageing(self.get_queryset(request))
        return TemplateResponse(
            request,
            "admin/billing/ageing.html",
            self._context(request, _("应收账龄分析"), **report),
        )

    def ageing_xlsx_view(self, request):
        self._require(request, "billing.export_invoices")
        from openpyxl import Workbook

        report = selectors.ageing(self.get_queryset(request))
        book = Workbook()
        sheet = book.active
        sheet.title = str(_("应收账龄"))
        keys = ["current", "0-30", "31-60", "61-90", "90+"]
        sheet.append(
            [
                str(_("账务账户")),
                str(_("集团客户")),
                str(_("未到期")),
                "0-30",
                "31-60",
                "61-90",
                "90+",
                str(_("合计")),
            ]
        )
        for row in report["rows"]:
            sheet.append(
                [
                    row["account"].number,
                    row["enterprise"].name,
                    *[float(row[k]) for k in keys],
                    float(row["total"]),
                ]
            )
        sheet.append(
            [
                "",
                str(_("合计")),
                *[float(report["totals"][k]) for k in keys],
                float(report["grand_total"]),
            ]
        )
        buffer = io.BytesIO()
        book.save(buffer)
        response = HttpResponse(
            buffer.getvalue(),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        response["Content-Disposition"] = f'attachment; filename="ageing-{report["today"]}.xlsx"'
        return response

    def zip_view(self, request):
        """All PDFs of one quarter (YYYY-Qn) as one zip."""
        self._require(request, "billing.export_invoices")
        period = request.GET.get("period", "").strip()
        invoices = selectors.invoice_search(self.get_queryset(request), period=period)
        if not period or not invoices.exists():
            messages.error(request, _("请填写有账单的季度，例如 2027-Q1"))
            return HttpResponseRedirect(reverse("admin:billing_finance"))
        response = HttpResponse(selectors.invoices_zip(invoices), content_type="application/zip")
        response["Content-Disposition"] = f'attachment; filename="invoices-{period}.zip"'
        return response

    def pdf_view(self, request, invoice_id):
        invoice = _invoice_visible(request, invoice_id)
        if invoice.state == Invoice.State.DRAFT:
            raise Http404
        if not invoice.pdf_sha256:
            invoice = services.invoice_pdf_store(invoice_id=invoice.pk)
        response = HttpResponse(bytes(invoice.pdf), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{invoice.number}.pdf"'
        return response

    def _amount_reason_view(self, request, invoice_id, *, perm, title, perform):
        self._require(request, perm)
        invoice = _invoice_visible(request, invoice_id)
        form = AmountReasonForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                perform(invoice, form.cleaned_data["amount"], form.cleaned_data["reason"])
            except (ValidationError, PermissionDenied) as exc:
                form.add_error(None, "; ".join(getattr(exc, "messages", [str(exc)])))
            else:
                messages.success(request, _("已完成：%(t)s") % {"t": title})
                return HttpResponseRedirect(
                    reverse("admin:billing_invoice_change", args=[invoice.pk])
                )
        context = self._context(request, title, form=form, invoice=invoice)
        return TemplateResponse(request, "admin/billing/amount_reason.html", context)

    def credit_note_view(self, request, invoice_id):
        return self._amount_reason_view(
            request,
            invoice_id,
            perm="billing.issue_credit_note",
            title=_("开具冲红单"),
            perform=lambda invoice, amount, reason: services.credit_note_issue(
                invoice_id=invoice.pk, amount=amount, reason=reason, by=request.user
            ),
        )

    def waive_view(self, request, invoice_id):
        return self._amount_reason_view(
            request,
            invoice_id,
            perm="billing.waive_late_fee",
            title=_("减免滞纳金"),
            perform=lambda invoice, amount, reason: services.late_fee_waive(
                invoice_id=invoice.pk, amount=amount, reason=reason, by=request.user
            ),
        )

    def entrustment_view(self, request):
        """Export the collection file; import the bank's result file (all or nothing)."""
        self._require(request, "billing.add_payment")
        due_by = clock.today() + dt.timedelta(days=settings.BILLING_LEAD_DAYS)
        fmt = request.GET.get("format")
        if fmt in ("csv", "xlsx"):
            dataset = resources.CollectionResource().export(
                selectors.entrustment_due(due_by=due_by)
            )
            data = dataset.csv.encode("utf-8-sig") if fmt == "csv" else dataset.xlsx
            response = HttpResponse(
                data,
                content_type="text/csv"
                if fmt == "csv"
                else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            )
            response["Content-Disposition"] = (
                f'attachment; filename="collection-{clock.today()}.{fmt}"'
            )
            return response
        report = None
        form = ResultFileForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            name = upload.name.lower()
            try:
                if name.endswith(".xlsx"):
                    dataset = XLSX().create_dataset(upload.read())
                else:
                    dataset = CSV().create_dataset(upload.read().decode("utf-8-sig"))
            except (ValueError, UnicodeDecodeError, InvalidOperation) as exc:
                form.add_error("file", str(exc))
            else:
                report = resources.apply_result(dataset, by=request.user)
        context = self._context(
            request,
            _("银行托收"),
            form=form,
            report=report,
            due=selectors.entrustment_due(due_by=due_by),
            due_by=due_by,
        )
        return TemplateResponse(request, "admin/billing/entrustment.html", context)


@admin.register(BillingAccount)
class BillingAccountAdmin(admin.ModelAdmin):
    """Billing accounts; a branch may be billed to its parent."""

    list_display = ("number", "enterprise", "bill_to_parent", "credit")
    search_fields = ("number", "enterprise__name")
    fields = ("number", "enterprise", "bill_to_parent", "credit")
    readonly_fields = ("number", "enterprise", "credit")

    @admin.display(description=_("预存余额"))
    def credit(self, obj):
        return services.account_credit(obj)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        try:
            services.billing_account_set_bill_to_parent(
                enterprise_id=obj.enterprise_id, value=obj.bill_to_parent, by=request.user
            )
        except ValidationError as exc:
            messages.error(request, "; ".join(exc.messages))


class PaymentForm(forms.ModelForm):
    """Money received; the service allocates it (see billing.services.payment_record)."""

    class Meta:
        model = Payment
        fields = ("account", "method", "amount", "received_on", "reference")

    def clean(self):
        data = super().clean()
        if data.get("amount") is not None and data["amount"] <= 0:
            self.add_error("amount", _("收款金额须大于 0"))
        if data.get("received_on") and data["received_on"] > clock.today():
            self.add_error("received_on", _("到账日期不能晚于今天"))
        if data.get("method") == Payment.Method.CREDIT_NOTE:
            self.add_error("method", _("冲红转余额由冲红单自动产生"))
        return data


@admin.register(Payment)
class PaymentAdmin(TransitionAdminMixin, admin.ModelAdmin):
    """Payments: recorded through the service (allocated oldest first, the rest is
    credit); a bounced entrustment is reversed with a reason."""

    form = PaymentForm
    transitions = (
        AdminTransition(
            "reverse",
            _("冲正（退票）"),
            lambda obj, user, reason: services.payment_reverse(
                payment_id=obj.pk, reason=reason, by=user
            ),
            permission="billing.reverse_payment",
            reason_required=True,
            style="danger",
        ),
    )
    list_display = (
        "receipt_number",
        "account",
        "method",
        "amount",
        "received_on",
        "reference",
        "state",
    )
    list_filter = ("state", "method")
    search_fields = ("receipt_number", "reference", "account__number", "account__enterprise__name")
    autocomplete_fields = ("account",)
    inlines = (AllocationInline, StateChangeInline)

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else ()

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return (*PaymentForm.Meta.fields, "receipt_number", "state", "reversal_reason", "by")

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if change:
            return
        try:
            payment = services.payment_record(
                account_id=obj.account_id,
                amount=obj.amount,
                method=obj.method,
                received_on=obj.received_on,
                reference=obj.reference,
                by=request.user,
            )
        except ValidationError as exc:
            raise PermissionDenied("; ".join(exc.messages)) from exc
        obj.pk = payment.pk
        obj.receipt_number = payment.receipt_number

    def save_related(self, request, form, formsets, change):
        if change:
            super().save_related(request, form, formsets, change)


@admin.register(BillingRun)
class BillingRunAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "__str__",
        "state",
        "processed_accounts",
        "total_accounts",
        "invoices_created",
        "amount_total",
        "started_at",
        "finished_at",
        "progress_link",
    )

    @admin.display(description=_("进度"))
    def progress_link(self, obj):
        return format_html(
            '<a href="{}">{}%</a>',
            reverse("admin:billing_run", args=[obj.pk]),
            obj.progress_percent,
        )


@admin.register(DunningStep)
class DunningStepAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("invoice", "sequence", "step", "due_on", "done_at", "outcome")
    list_filter = ("step",)
    search_fields = ("invoice__number", "invoice__account__enterprise__name")


@admin.register(Charge)
class ChargeAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("description", "account", "kind", "period_start", "amount", "invoice")
    list_filter = ("kind",)
    search_fields = ("description", "account__number", "invoice__number")


register_workbench_link(
    WorkbenchLink(
        label=_("财务工作台"),
        url_name="admin:billing_finance",
        permission="billing.view_invoice",
        description=_("出账批次与进度、账单查询、PDF 导出"),
    )
)
register_workbench_link(
    WorkbenchLink(
        label=_("应收账龄分析"),
        url_name="admin:billing_ageing",
        permission="billing.view_invoice",
        description=_("0-30、31-60、61-90、90 天以上欠费，含图表与 XLSX 导出"),
    )
)
register_workbench_link(
    WorkbenchLink(
        label=_("银行托收"),
        url_name="admin:billing_entrustment",
        permission="billing.add_payment",
        description=_("导出托收文件，导入银行回盘"),
    )
)
