"""Admin for customer managers: the enterprise file, contacts, recipients, signatures and
the manager's worklist. Every list is limited to the enterprises the user may see."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from import_export.admin import ExportMixin, ImportExportModelAdmin
from simple_history.admin import SimpleHistoryAdmin

from core.admin_tools import (
    AdminTransition,
    ReadOnlyInline,
    StateChangeInline,
    TransitionAdminMixin,
    WorkbenchLink,
    register_workbench_link,
)
from core.phone import mask_mobile

from . import selectors, services
from .models import (
    ApiToken,
    ChurnWarning,
    Contact,
    Enterprise,
    EnterpriseMembership,
    RegisteredRecipient,
    Signature,
)
from .resources import ContactResource, EnterpriseResource, RegisteredRecipientResource


class EnterpriseScopedMixin:
    """Limits rows (and enterprise choices in forms) to the enterprises the user may see."""

    enterprise_lookup = "enterprise"

    def get_queryset(self, request):
        visible = selectors.enterprises_visible_to(request.user)
        return super().get_queryset(request).filter(**{f"{self.enterprise_lookup}__in": visible})

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "enterprise":
            kwargs["queryset"] = selectors.enterprises_visible_to(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class ContactInline(admin.TabularInline):
    model = Contact
    extra = 0
    fields = ("name", "role", "mobile", "email", "is_primary")


class SignatureInline(ReadOnlyInline):
    model = Signature
    fields = ("text", "state", "match_evidence", "reviewed_at")
    readonly_fields = fields
    show_change_link = True


class EnterpriseAdminForm(forms.ModelForm):
    """Keeps an active enterprise's file complete when it is edited."""

    class Meta:
        model = Enterprise
        fields = sorted(services.ENTERPRISE_EDITABLE_FIELDS)

    def _post_clean(self):
        super()._post_clean()
        if self.instance.pk and self.instance.status != Enterprise.Status.PROSPECT:
            try:
                services.enterprise_require_complete_file(self.instance)
            except ValidationError as exc:
                self._update_errors(exc)


def _enterprise_transition(service):
    return lambda obj, user, reason: service(enterprise_id=obj.pk, by=user, reason=reason)


@admin.register(Enterprise)
class EnterpriseAdmin(TransitionAdminMixin, ImportExportModelAdmin, SimpleHistoryAdmin):
    """The enterprise file (客户档案)."""

    form = EnterpriseAdminForm
    resource_classes = [EnterpriseResource]
    state_field = "status"
    transitions = (
        AdminTransition(
            "activate", _("入网（激活）"), _enterprise_transition(services.enterprise_activate)
        ),
        AdminTransition(
            "suspend",
            _("暂停"),
            _enterprise_transition(services.enterprise_suspend),
            reason_required=True,
        ),
        AdminTransition("resume", _("恢复"), _enterprise_transition(services.enterprise_resume)),
        AdminTransition(
            "close",
            _("销户"),
            _enterprise_transition(services.enterprise_close),
            reason_required=True,
            style="danger",
        ),
    )
    list_display = (
        "name",
        "credit_code",
        "city",
        "industry",
        "grade",
        "status",
        "account_manager",
        "good_credit",
    )
    list_filter = ("status", "grade", "industry", "province", "good_credit", "account_manager")
    search_fields = ("name", "credit_code", "brands", "contacts__name")
    list_select_related = ("account_manager",)
    readonly_fields = ("status", "activated_at", "closed_at", "created_at", "updated_at")
    autocomplete_fields = ("parent",)
    inlines = (ContactInline, SignatureInline, StateChangeInline)
    fieldsets = (
        (None, {"fields": ("name", "credit_code", "brands", "status", "grade", "industry")}),
        (_("地区"), {"fields": ("province", "city", "address")}),
        (_("客户经理与集团关系"), {"fields": ("account_manager", "parent", "good_credit")}),
        (
            _("付款"),
            {
                "fields": (
                    "billing_contact",
                    "payment_method",
                    "bank_name",
                    "bank_account_name",
                    "bank_account_number",
                )
            },
        ),
        (_("其他"), {"fields": ("notes", "activated_at", "closed_at", "created_at", "updated_at")}),
    )

    def get_queryset(self, request):
        return selectors.enterprises_visible_to(request.user).select_related("account_manager")

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if not request.user.has_perm("customers.view_all_enterprises"):
            fields.append("account_manager")
        return fields

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "parent":
            kwargs["queryset"] = selectors.enterprises_visible_to(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_list_filter(self, request):
        if request.user.has_perm("customers.view_all_enterprises"):
            return self.list_filter
        return tuple(f for f in self.list_filter if f != "account_manager")

    def save_model(self, request, obj, form, change):
        if not change and obj.account_manager_id is None:
            obj.account_manager = request.user
        services.enterprise_save(enterprise=obj, by=request.user)

    def get_urls(self):
        custom = [
            path(
                "worklist/",
                self.admin_site.admin_view(self.worklist_view),
                name="customers_worklist",
            )
        ]
        return custom + super().get_urls()

    def worklist_view(self, request):
        """The manager's own worklist: live churn warnings and signatures to review."""
        context = {
            **self.admin_site.each_context(request),
            "title": _("我的工作台"),
            "opts": self.model._meta,
            **selectors.manager_worklist(request.user),
        }
        return TemplateResponse(request, "admin/customers/worklist.html", context)


@admin.register(Contact)
class ContactAdmin(EnterpriseScopedMixin, ExportMixin, SimpleHistoryAdmin):
    """Contact persons (集团联系人)."""

    resource_classes = [ContactResource]
    list_display = ("name", "enterprise", "role", "masked_mobile", "email", "is_primary")
    list_filter = ("is_primary",)
    search_fields = ("name", "mobile", "enterprise__name")
    list_select_related = ("enterprise",)
    autocomplete_fields = ("enterprise",)

    @admin.display(description=_("手机号码"))
    def masked_mobile(self, obj):
        return mask_mobile(obj.mobile)

    def save_model(self, request, obj, form, change):
        data = {f: getattr(obj, f) for f in ("name", "role", "mobile", "email", "is_primary")}
        saved = services.contact_save(
            enterprise_id=obj.enterprise_id, contact_id=obj.pk, by=request.user, **data
        )
        obj.pk = saved.pk


class OptedOutFilter(admin.SimpleListFilter):
    title = _("退订")
    parameter_name = "opted_out"

    def lookups(self, request, model_admin):
        return (("yes", _("已退订")), ("no", _("未退订")))

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(opted_out_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(opted_out_at__isnull=True)
        return queryset


@admin.register(RegisteredRecipient)
class RegisteredRecipientAdmin(EnterpriseScopedMixin, ImportExportModelAdmin):
    """The registered recipient lists (注册客户名单, 第4条), with all-or-nothing import."""

    resource_classes = [RegisteredRecipientResource]
    list_display = (
        "masked_msisdn",
        "enterprise",
        "name",
        "group_label",
        "consent_source",
        "consented_at",
        "opted_out_at",
    )
    list_filter = (OptedOutFilter, "group_label")
    search_fields = ("=msisdn", "name", "enterprise__name")
    list_select_related = ("enterprise",)
    autocomplete_fields = ("enterprise",)
    readonly_fields = ("created_at", "opted_out_at")
    actions = ("opt_out_selected",)
    show_full_result_count = False

    @admin.display(description=_("手机号码"), ordering="msisdn")
    def masked_msisdn(self, obj):
        return mask_mobile(obj.msisdn)

    def get_import_resource_kwargs(self, request, **kwargs):
        kwargs = super().get_import_resource_kwargs(request, **kwargs)
        kwargs["enterprises"] = selectors.enterprises_visible_to(request.user)
        return kwargs

    def save_model(self, request, obj, form, change):
        if change:
            obj.save()
            return
        saved = services.recipient_add(
            enterprise_id=obj.enterprise_id,
            msisdn=obj.msisdn,
            name=obj.name,
            group_label=obj.group_label,
            consent_source=obj.consent_source,
            consented_at=obj.consented_at,
            by=request.user,
        )
        obj.pk = saved.pk

    @admin.action(description=_("将所选号码登记为退订"))
    def opt_out_selected(self, request, queryset):
        for recipient in queryset:
            services.recipient_opt_out(
                enterprise_id=recipient.enterprise_id, msisdn=recipient.msisdn, by=request.user
            )
        self.message_user(request, _("已登记退订 %(n)d 个号码") % {"n": queryset.count()})


@admin.register(Signature)
class SignatureAdmin(EnterpriseScopedMixin, TransitionAdminMixin, admin.ModelAdmin):
    """SMS signatures and their review (第6条第4款)."""

    transitions = (
        AdminTransition(
            "approve",
            _("通过"),
            lambda obj, user, reason: services.signature_approve(
                signature_id=obj.pk, by=user, evidence=reason
            ),
            permission="customers.review_signature",
        ),
        AdminTransition(
            "reject",
            _("驳回"),
            lambda obj, user, reason: services.signature_reject(
                signature_id=obj.pk, by=user, reason=reason
            ),
            permission="customers.review_signature",
            reason_required=True,
            style="danger",
        ),
    )
    list_display = ("text", "enterprise", "state", "match_flag", "created_at", "reviewed_by")
    list_filter = ("state", "matches_registered_name")
    search_fields = ("text", "enterprise__name")
    list_select_related = ("enterprise", "reviewed_by")
    autocomplete_fields = ("enterprise",)
    inlines = (StateChangeInline,)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ("state",)
        return (
            "enterprise",
            "text",
            "state",
            "matches_registered_name",
            "match_evidence",
            "review_evidence",
            "rejection_reason",
            "submitted_by",
            "reviewed_by",
            "reviewed_at",
        )

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("enterprise", "text")
        return self.get_readonly_fields(request, obj)

    @admin.display(description=_("名称核对"), boolean=False)
    def match_flag(self, obj):
        colour = "#2e7d32" if obj.matches_registered_name else "#c62828"
        text = _("相符") if obj.matches_registered_name else _("需证明")
        return format_html('<span style="color:{}">{}</span>', colour, text)

    def save_model(self, request, obj, form, change):
        if change:
            return
        saved = services.signature_submit(
            enterprise_id=obj.enterprise_id, text=obj.text, by=request.user
        )
        obj.pk = saved.pk


class LiveWarningFilter(admin.SimpleListFilter):
    title = _("处理状态")
    parameter_name = "live"

    def lookups(self, request, model_admin):
        return (("yes", _("未关闭")), ("all", _("全部")))

    def choices(self, changelist):
        for lookup, title in self.lookup_choices:
            yield {
                "selected": (self.value() or "yes") == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request, queryset):
        if (self.value() or "yes") == "yes":
            return queryset.exclude(state=ChurnWarning.State.CLOSED)
        return queryset


@admin.register(ChurnWarning)
class ChurnWarningAdmin(EnterpriseScopedMixin, TransitionAdminMixin, admin.ModelAdmin):
    """Churn warnings (预警) on the assigned manager's worklist."""

    transitions = (
        AdminTransition(
            "acknowledge",
            _("登记跟进措施"),
            lambda obj, user, reason: services.churn_warning_acknowledge(
                warning_id=obj.pk, by=user, action_taken=reason
            ),
            reason_required=True,
        ),
        AdminTransition(
            "close",
            _("关闭预警"),
            lambda obj, user, reason: services.churn_warning_close(
                warning_id=obj.pk, by=user, reason=reason
            ),
        ),
    )
    list_display = ("enterprise", "kind", "raised_on", "state", "manager", "action_taken")
    list_filter = (LiveWarningFilter, "kind", "state")
    search_fields = ("enterprise__name",)
    list_select_related = ("enterprise", "manager")
    readonly_fields = (
        "enterprise",
        "manager",
        "kind",
        "detail",
        "raised_on",
        "state",
        "action_taken",
        "acknowledged_at",
        "closed_at",
    )
    inlines = (StateChangeInline,)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(EnterpriseMembership)
class EnterpriseMembershipAdmin(EnterpriseScopedMixin, admin.ModelAdmin):
    """Which enterprise each portal user belongs to."""

    list_display = ("user", "enterprise")
    search_fields = ("user__username", "enterprise__name")
    autocomplete_fields = ("enterprise",)
    raw_id_fields = ("user",)


register_workbench_link(
    WorkbenchLink(
        label=_("我的客户工作台"),
        url_name="admin:customers_worklist",
        permission="customers.change_enterprise",
        description=_("离网预警与待审核签名"),
    )
)


class ApiTokenAddForm(forms.ModelForm):
    """Issuing a token: who it acts as, in which role, for which enterprise."""

    class Meta:
        model = ApiToken
        fields = ("name", "user", "role", "enterprise", "expires_at")

    def clean(self):
        cleaned = super().clean()
        user = cleaned.get("user")
        if user is not None:
            try:
                services.api_token_check(
                    user=user,
                    role=cleaned.get("role") or "",
                    name=cleaned.get("name") or "",
                    enterprise_id=cleaned["enterprise"].pk if cleaned.get("enterprise") else None,
                    expires_at=cleaned.get("expires_at"),
                )
            except ValidationError as exc:
                self.add_error(None, exc)
        return cleaned


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """API tokens (接口令牌): issued here, shown once, revocable; only a digest is stored."""

    list_display = (
        "name",
        "prefix",
        "user",
        "role",
        "enterprise",
        "created_at",
        "last_used_at",
        "expires_at",
        "revoked_at",
    )
    list_filter = ("role", ("revoked_at", admin.EmptyFieldListFilter))
    search_fields = ("name", "prefix", "user__username", "enterprise__name")
    list_select_related = ("user", "enterprise")
    raw_id_fields = ("user",)
    autocomplete_fields = ("enterprise",)
    actions = ("revoke_selected",)

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = ApiTokenAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ApiTokenAddForm.Meta.fields
        return (
            "name",
            "prefix",
            "user",
            "role",
            "enterprise",
            "created_by",
            "created_at",
            "expires_at",
            "last_used_at",
            "revoked_at",
            "revoked_by",
        )

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.get_fields(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if change:
            return
        token, secret = services.api_token_issue(
            user=obj.user,
            role=obj.role,
            name=obj.name,
            enterprise_id=obj.enterprise_id,
            expires_at=obj.expires_at,
            by=request.user,
        )
        obj.pk = token.pk
        messages.warning(
            request,
            _("令牌（只显示这一次，请立即妥善保存）：%(secret)s") % {"secret": secret},
        )

    @admin.action(description=_("吊销所选令牌"))
    def revoke_selected(self, request, queryset):
        for token in queryset:
            services.api_token_revoke(token_id=token.pk, by=request.user)
        self.message_user(request, _("已吊销 %(n)d 个令牌") % {"n": queryset.count()})
