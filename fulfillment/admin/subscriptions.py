"""Subscriptions, CMPP accounts (with the one-time secret) and contracts in the admin."""

from functools import partial

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from core import clock
from core.admin_tools import (
    AdminTransition,
    ReadOnlyAdminMixin,
    ReadOnlyInline,
    StateChangeInline,
    TransitionAdminMixin,
)
from customers.selectors import enterprises_visible_to

from .. import selectors, services
from ..models import CmppAccount, Contract, Subscription, SupplementaryAgreement
from ..pdf import contract_summary_pdf
from ..services.contracts import non_renewal_deadline


class EnterpriseScopedMixin:
    """Rows of the enterprises the user may see (customers.selectors)."""

    def get_queryset(self, request):
        visible = enterprises_visible_to(request.user)
        return super().get_queryset(request).filter(enterprise__in=visible)


@admin.register(Subscription)
class SubscriptionAdmin(EnterpriseScopedMixin, TransitionAdminMixin, admin.ModelAdmin):
    """Subscriptions (业务实例): what each enterprise has, at the price it was sold."""

    transitions = (
        AdminTransition(
            "suspend",
            _("暂停（停机）"),
            lambda obj, user, reason: services.subscription_suspend(
                subscription_id=obj.pk, by=user, reason=reason
            ),
            reason_required=True,
        ),
        AdminTransition(
            "resume",
            _("恢复（复机）"),
            lambda obj, user, reason: services.subscription_resume(
                subscription_id=obj.pk, by=user, reason=reason
            ),
        ),
    )
    list_display = (
        "service_code",
        "enterprise",
        "offering",
        "state",
        "cmpp_version",
        "licensed_rate",
        "access_ip",
        "port",
        "activated_at",
    )
    list_filter = ("state", "offering", "cmpp_version", "port__server")
    search_fields = ("service_code__code", "enterprise__name", "access_ip", "account__sp_id")
    list_select_related = ("service_code", "enterprise", "offering", "port__server")
    date_hierarchy = "activated_at"
    inlines = (StateChangeInline,)
    readonly_fields = (
        "enterprise",
        "offering",
        "order_link",
        "state",
        "service_code",
        "extension_range",
        "port",
        "account_link",
        "contract_link",
        "cmpp_version",
        "licensed_rate",
        "max_links",
        "interface_type",
        "access_ip",
        "contact_name",
        "contact_phone",
        "port_fee",
        "package_fee",
        "included_messages",
        "overage_price",
        "bundle_price",
        "tariff_at",
        "activated_at",
        "suspended_at",
        "suspension_reason",
        "terminated_at",
        "termination_reason",
    )
    fieldsets = (
        (None, {"fields": ("enterprise", "offering", "order_link", "state", "contract_link")}),
        (
            _("资源"),
            {"fields": ("service_code", "extension_range", "port", "account_link")},
        ),
        (
            _("约定的选项"),
            {
                "fields": (
                    "cmpp_version",
                    "licensed_rate",
                    "max_links",
                    "interface_type",
                    "access_ip",
                    "contact_name",
                    "contact_phone",
                )
            },
        ),
        (
            _("销售时的资费"),
            {
                "fields": (
                    "port_fee",
                    "package_fee",
                    "included_messages",
                    "overage_price",
                    "bundle_price",
                    "tariff_at",
                )
            },
        ),
        (
            _("状态"),
            {
                "fields": (
                    "activated_at",
                    "suspended_at",
                    "suspension_reason",
                    "terminated_at",
                    "termination_reason",
                )
            },
        ),
    )

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "show_save": False,
            "show_save_and_continue": False,
        }
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.display(description=_("扩展码"))
    def extension_range(self, obj):
        return obj.service_code.extension_range

    @admin.display(description=_("开通订单"))
    def order_link(self, obj):
        url = reverse("admin:fulfillment_order_change", args=[obj.order_id])
        return format_html('<a href="{}">{}</a>', url, obj.order)

    @admin.display(description=_("CMPP 账号"))
    def account_link(self, obj):
        account = getattr(obj, "account", None)
        if account is None:
            return "—"
        url = reverse("admin:fulfillment_cmppaccount_change", args=[account.pk])
        return format_html('<a href="{}">{}</a>', url, account)

    @admin.display(description=_("合同"))
    def contract_link(self, obj):
        contract = getattr(obj, "contract", None)
        if contract is None:
            return "—"
        url = reverse("admin:fulfillment_contract_change", args=[contract.pk])
        return format_html('<a href="{}">{}</a>', url, contract.number)


@admin.register(CmppAccount)
class CmppAccountAdmin(EnterpriseScopedMixin, admin.ModelAdmin):
    """CMPP accounts: the link parameters the sender uses. The shared secret is never
    listed; a manager may display it once (e.g. to hand it to the enterprise)."""

    list_display = (
        "sp_id",
        "enterprise",
        "service_code",
        "state",
        "cmpp_version",
        "licensed_rate",
        "max_links",
        "ismg_address",
        "access_ip",
        "secret_revealed_at",
    )
    list_filter = ("state", "cmpp_version", "ismg_host")
    search_fields = ("sp_id", "service_code", "enterprise__name", "access_ip")
    list_select_related = ("enterprise",)
    exclude = ("secret_encrypted",)
    readonly_fields = (
        "sp_id",
        "enterprise",
        "subscription",
        "order_item",
        "state",
        "service_code",
        "extension_digits",
        "licensed_rate",
        "max_links",
        "window_size",
        "cmpp_version",
        "ismg_host",
        "ismg_port",
        "access_ip",
        "secret_revealed_at",
        "secret_revealed_by",
        "secret_actions",
    )
    inlines = (StateChangeInline,)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description=_("ISMG"))
    def ismg_address(self, obj):
        return f"{obj.ismg_host}:{obj.ismg_port}"

    @admin.display(description=_("共享密钥"))
    def secret_actions(self, obj):
        if obj.state == CmppAccount.State.REVOKED:
            return _("账号已注销")
        if obj.secret_revealed_at is None:
            return format_html(
                '<a class="button reveal-secret" href="{}">{}</a>',
                reverse("admin:fulfillment_cmppaccount_reveal", args=[obj.pk]),
                _("显示共享密钥（仅一次）"),
            )
        return format_html(
            '{} · <a class="button" href="{}">{}</a>',
            _("已显示过"),
            reverse("admin:fulfillment_cmppaccount_reset", args=[obj.pk]),
            _("重置密钥"),
        )

    def get_urls(self):
        return [
            path(
                "<int:account_id>/reveal/",
                self.admin_site.admin_view(self.reveal_view),
                name="fulfillment_cmppaccount_reveal",
            ),
            path(
                "<int:account_id>/reset/",
                self.admin_site.admin_view(self.reset_view),
                name="fulfillment_cmppaccount_reset",
            ),
            *super().get_urls(),
        ]

    def _account(self, request, account_id) -> CmppAccount:
        if not request.user.has_perm("fulfillment.reveal_secret"):
            raise PermissionDenied
        return get_object_or_404(self.get_queryset(request), pk=account_id)

    def reveal_view(self, request, account_id):
        """GET asks for confirmation; POST shows the secret once, in this response only."""
        account = self._account(request, account_id)
        context = {
            **self.admin_site.each_context(request),
            "title": _("CMPP 共享密钥"),
            "opts": self.model._meta,
            "account": account,
            "secret": None,
        }
        if request.method == "POST":
            try:
                context["secret"] = services.cmpp_account_reveal_secret(
                    account_id=account.pk, by=request.user
                )
            except ValidationError as exc:
                messages.error(request, "; ".join(exc.messages))
                return HttpResponseRedirect(
                    reverse("admin:fulfillment_cmppaccount_change", args=[account.pk])
                )
        response = TemplateResponse(request, "admin/fulfillment/reveal_secret.html", context)
        response["Cache-Control"] = "no-store"
        return response

    def reset_view(self, request, account_id):
        """POST with a reason replaces the secret; it can then be shown once again."""
        account = self._account(request, account_id)
        if request.method == "POST":
            try:
                services.cmpp_account_reset_secret(
                    account_id=account.pk, by=request.user, reason=request.POST.get("reason", "")
                )
            except ValidationError as exc:
                messages.error(request, "; ".join(exc.messages))
            else:
                messages.success(request, _("已重置共享密钥，可再显示一次"))
                return HttpResponseRedirect(
                    reverse("admin:fulfillment_cmppaccount_change", args=[account.pk])
                )
        context = {
            **self.admin_site.each_context(request),
            "title": _("重置共享密钥"),
            "opts": self.model._meta,
            "account": account,
        }
        return TemplateResponse(request, "admin/fulfillment/reset_secret.html", context)


class SupplementInline(ReadOnlyInline):
    model = SupplementaryAgreement
    fields = ("number", "signed_on", "effective_on", "summary", "order", "notice_override_by")
    readonly_fields = fields


def _terminate(reason, obj, user, detail):
    return services.contract_terminate_early(
        contract_id=obj.pk, by=user, reason=reason, detail=detail
    )


def _non_renewal(party, obj, user, note):
    return services.contract_record_non_renewal(contract_id=obj.pk, by=user, party=party, note=note)


class ExpiringFilter(admin.SimpleListFilter):
    title = _("到期")
    parameter_name = "expiring"

    def lookups(self, request, model_admin):
        return (("45", _("45 天内到期")), ("notice", _("已通知不续约")))

    def queryset(self, request, queryset):
        import datetime as dt

        if self.value() == "45":
            return queryset.filter(
                state=Contract.State.ACTIVE,
                expires_on__lte=clock.today() + dt.timedelta(days=45),
            )
        if self.value() == "notice":
            return queryset.filter(non_renewal_noticed_on__isnull=False)
        return queryset


@admin.register(Contract)
class ContractAdmin(EnterpriseScopedMixin, TransitionAdminMixin, admin.ModelAdmin):
    """Contracts (协议): term and renewal (第17条), non-renewal notices, early termination
    (第18条), supplementary agreements (第22条) and the printable summary."""

    list_display = (
        "number",
        "enterprise",
        "state",
        "signed_on",
        "term_start",
        "expires_on",
        "renewals",
        "non_renewal_noticed_on",
        "pdf_link",
    )
    list_filter = ("state", ExpiringFilter, "termination_reason")
    search_fields = ("number", "enterprise__name", "subscription__service_code__code")
    list_select_related = ("enterprise",)
    date_hierarchy = "expires_on"
    inlines = (SupplementInline, StateChangeInline)
    readonly_fields = (
        "number",
        "enterprise",
        "subscription",
        "state",
        "signed_on",
        "starts_on",
        "term_start",
        "expires_on",
        "renewals",
        "non_renewal_noticed_on",
        "non_renewal_party",
        "non_renewal_note",
        "expiry_warned_for",
        "ended_on",
        "termination_reason",
        "termination_detail",
        "pdf_link",
    )

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "show_save": False,
            "show_save_and_continue": False,
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def available_transitions(self, request, obj):
        """Early termination on each 第18条 ground; recording or withdrawing a
        non-renewal notice (第17条) while it is still in time."""
        if (
            obj is None
            or obj.state != Contract.State.ACTIVE
            or not self.has_change_permission(request, obj)
        ):
            return []
        buttons = []
        if obj.non_renewal_noticed_on is None:
            if clock.today() <= non_renewal_deadline(obj.expires_on):
                for party in Contract.Party:
                    buttons.append(
                        AdminTransition(
                            f"non_renewal_{party.value}",
                            _("登记不续约通知：%(party)s") % {"party": party.label},
                            partial(_non_renewal, party.value),
                        )
                    )
        else:
            buttons.append(
                AdminTransition(
                    "withdraw_non_renewal",
                    _("撤回不续约通知"),
                    lambda obj, user, reason: services.contract_withdraw_non_renewal(
                        contract_id=obj.pk, by=user, reason=reason
                    ),
                    reason_required=True,
                )
            )
        for reason in Contract.TerminationReason:
            buttons.append(
                AdminTransition(
                    f"terminate_{reason.value}",
                    _("提前终止：%(reason)s") % {"reason": reason.label},
                    partial(_terminate, reason.value),
                    reason_required=True,
                    style="danger",
                )
            )
        return buttons

    @admin.display(description=_("合同摘要"))
    def pdf_link(self, obj):
        return format_html(
            '<a href="{}">PDF</a>', reverse("admin:fulfillment_contract_pdf", args=[obj.pk])
        )

    def get_urls(self):
        return [
            path(
                "<int:contract_id>/pdf/",
                self.admin_site.admin_view(self.pdf_view),
                name="fulfillment_contract_pdf",
            ),
            *super().get_urls(),
        ]

    def pdf_view(self, request, contract_id):
        """The contract summary PDF, for users who may see the contract."""
        if not request.user.has_perm("fulfillment.download_contract_pdf"):
            raise PermissionDenied
        contract = self.get_queryset(request).filter(pk=contract_id).first()
        if contract is None:
            raise Http404
        response = HttpResponse(contract_summary_pdf(contract), content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="{contract.number}.pdf"'
        return response


@admin.register(SupplementaryAgreement)
class SupplementaryAgreementAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Supplementary agreements (补充协议) produced by modify orders."""

    list_display = ("number", "contract", "signed_on", "effective_on", "summary")
    search_fields = ("number", "contract__number", "contract__enterprise__name")
    list_select_related = ("contract",)

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .filter(contract__in=selectors.contracts_visible_to(request.user))
        )
