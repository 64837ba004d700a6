"""Admin / NOC views of the SMS pipeline.

Traffic (requests, messages, replies, usage) is read-only and scoped to the enterprises
the user may see (a customer manager sees only assigned ones). Numbers and texts are
masked unless the user holds `smsgw.view_full_number` (NOC, department heads). NOC pages:
link status per account (`LinkState`), message search by number or Msg_Id with each
segment's history, the forbidden-term list (editable), webhook deliveries (resend).
"""

from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from core import crypto
from core.admin_tools import (
    ReadOnlyAdminMixin,
    ReadOnlyInline,
    WorkbenchLink,
    register_workbench_link,
)
from core.phone import mask_mobile

from . import selectors, webhooks
from .models import (
    DailyUsage,
    Extension,
    ForbiddenTerm,
    LinkState,
    Message,
    MoMessage,
    NoticeBatch,
    OperatorAccount,
    ScreeningRefusal,
    Segment,
    SendRequest,
    WebhookDelivery,
    WebhookEndpoint,
)


def _full(request) -> bool:
    return request.user.has_perm("smsgw.view_full_number")


def _mask_text(text: str) -> str:
    return text if len(text) <= 6 else f"{text[:4]}…（{len(text)}字）"


class EnterpriseScopedMixin:
    """Rows of the enterprises visible to the user (customers.selectors)."""

    enterprise_path = "enterprise"

    def get_queryset(self, request):
        from customers.selectors import enterprises_visible_to

        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(
            **{f"{self.enterprise_path}__in": enterprises_visible_to(request.user)}
        )


@admin.register(ForbiddenTerm)
class ForbiddenTermAdmin(admin.ModelAdmin):
    list_display = ["term", "category", "is_active", "note", "updated_at"]
    list_filter = ["category", "is_active"]
    search_fields = ["term", "note"]
    list_editable = ["is_active"]


@admin.register(ScreeningRefusal)
class ScreeningRefusalAdmin(ReadOnlyAdminMixin, EnterpriseScopedMixin, admin.ModelAdmin):
    list_display = [
        "created_at",
        "enterprise",
        "term_text",
        "category",
        "channel",
        "recipient_count",
    ]
    list_filter = ["category", "channel"]
    search_fields = ["enterprise__name", "term_text"]
    list_select_related = ["enterprise"]


class OperatorAccountForm(forms.ModelForm):
    new_secret = forms.CharField(
        label=_("共享密钥"),
        required=False,
        widget=forms.PasswordInput,
        help_text=_("新建时必填；修改时留空表示不变。保存后不再显示。"),
    )

    class Meta:
        model = OperatorAccount
        fields = [
            "name",
            "sp_id",
            "service_code",
            "signature",
            "cmpp_version",
            "licensed_rate",
            "max_links",
            "window_size",
            "ismg_host",
            "ismg_port",
            "is_active",
        ]

    def clean(self):
        data = super().clean()
        if not self.instance.pk and not data.get("new_secret"):
            self.add_error("new_secret", _("请设置共享密钥"))
        return data

    def save(self, commit=True):
        if self.cleaned_data.get("new_secret"):
            self.instance.secret_encrypted = crypto.encrypt(self.cleaned_data["new_secret"])
        return super().save(commit)


@admin.register(OperatorAccount)
class OperatorAccountAdmin(admin.ModelAdmin):
    form = OperatorAccountForm
    list_display = [
        "name",
        "sp_id",
        "service_code",
        "signature",
        "ismg_host",
        "ismg_port",
        "is_active",
    ]


@admin.register(Extension)
class ExtensionAdmin(EnterpriseScopedMixin, admin.ModelAdmin):
    enterprise_path = "subscription__enterprise"
    list_display = ["subscription", "extension", "department"]
    search_fields = ["department", "extension", "subscription__service_code__code"]
    raw_id_fields = ["subscription"]


@admin.register(SendRequest)
class SendRequestAdmin(ReadOnlyAdminMixin, EnterpriseScopedMixin, admin.ModelAdmin):
    list_display = [
        "id",
        "created_at",
        "enterprise",
        "kind",
        "channel",
        "requested_count",
        "accepted_count",
        "refused_count",
        "segments_per_message",
        "scheduled_at",
    ]
    list_filter = ["kind", "channel"]
    search_fields = ["enterprise__name", "=id", "=trace_id"]
    list_select_related = ["enterprise"]
    exclude = ["body", "content", "refused"]
    readonly_fields = ["progress", "text_shown", "trace_id"]

    @admin.display(description=_("短信内容"))
    def text_shown(self, obj):
        return obj.content if _full(self.request) else _mask_text(obj.content)

    @admin.display(description=_("进度"))
    def progress(self, obj):
        states = selectors.send_request_progress(send_request_id=obj.pk)["states"]
        return "，".join(f"{k} {v}" for k, v in states.items() if v)

    def get_queryset(self, request):
        self.request = request
        return super().get_queryset(request)


class SegmentInline(ReadOnlyInline):
    """A message's segments with their history (submitting → submitted → report)."""

    model = Segment
    fields = [
        "seq",
        "state",
        "msg_id",
        "submit_result",
        "submitting_at",
        "submitted_at",
        "report_stat",
        "report_at",
        "sender",
    ]
    readonly_fields = fields

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Message)
class MessageAdmin(ReadOnlyAdminMixin, EnterpriseScopedMixin, admin.ModelAdmin):
    """Message search by number (full or part) or by a segment's Msg_Id."""

    list_display = [
        "id",
        "created_at",
        "enterprise",
        "number",
        "state",
        "segments_total",
        "submitted_at",
        "done_at",
        "error",
    ]
    list_filter = ["state", "send_request__channel"]
    search_fields = ["msisdn"]
    search_help_text = _("按手机号码（可部分）或 Msg_Id 查询")
    list_select_related = ["enterprise"]
    inlines = [SegmentInline]
    fields = [
        "send_request",
        "enterprise",
        "subscription",
        "number",
        "text_shown",
        "state",
        "segments_total",
        "created_at",
        "due_at",
        "attempts",
        "lease_owner",
        "lease_until",
        "submitted_at",
        "done_at",
        "error",
    ]
    readonly_fields = fields
    show_full_result_count = False

    def get_queryset(self, request):
        self.request = request
        return super().get_queryset(request)

    def get_search_results(self, request, queryset, search_term):
        return selectors.message_search(search_term, queryset=queryset), False

    @admin.display(description=_("手机号码"), ordering="msisdn")
    def number(self, obj):
        return obj.msisdn if _full(self.request) else mask_mobile(obj.msisdn)

    @admin.display(description=_("短信内容"))
    def text_shown(self, obj):
        content = obj.send_request.content
        return content if _full(self.request) else _mask_text(content)


@admin.register(MoMessage)
class MoMessageAdmin(ReadOnlyAdminMixin, EnterpriseScopedMixin, admin.ModelAdmin):
    list_display = ["received_at", "enterprise", "number", "dest_id", "department", "text_shown"]
    search_fields = ["msisdn", "dest_id"]
    list_filter = ["department"]
    list_select_related = ["enterprise"]
    exclude = ["msisdn", "text"]
    readonly_fields = ["number", "text_shown"]

    def get_queryset(self, request):
        self.request = request
        return super().get_queryset(request)

    @admin.display(description=_("手机号码"))
    def number(self, obj):
        return obj.msisdn if _full(self.request) else mask_mobile(obj.msisdn)

    @admin.display(description=_("内容"))
    def text_shown(self, obj):
        return obj.text if _full(self.request) else _mask_text(obj.text)


@admin.register(NoticeBatch)
class NoticeBatchAdmin(ReadOnlyAdminMixin, EnterpriseScopedMixin, admin.ModelAdmin):
    list_display = ["created_at", "enterprise", "topic", "status"]
    list_select_related = ["enterprise"]

    @admin.display(description=_("送达情况"))
    def status(self, obj):
        s = selectors.notice_batch_status(obj.pk)
        return f"{s['delivered']}/{s['total']} 送达，{s['failed']} 失败，{s['queued']} 排队"


@admin.register(DailyUsage)
class DailyUsageAdmin(ReadOnlyAdminMixin, EnterpriseScopedMixin, admin.ModelAdmin):
    enterprise_path = "subscription__enterprise"
    list_display = [
        "day",
        "subscription",
        "submitted_segments",
        "delivered_segments",
        "failed_segments",
    ]
    list_filter = ["day"]
    date_hierarchy = "day"
    search_fields = ["subscription__service_code__code", "subscription__enterprise__name"]
    list_select_related = ["subscription__service_code", "subscription__enterprise"]


@admin.register(LinkState)
class LinkStateAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The NOC's link page: one row per sender, account and link."""

    list_display = [
        "sp_id",
        "link_no",
        "sender",
        "peer",
        "connected",
        "state",
        "window_use",
        "last_active_test_at",
        "licensed_rate",
        "current_rate",
        "submitted",
        "reports",
        "updated_at",
    ]
    list_filter = ["connected", "state"]
    search_fields = ["sp_id", "sender"]

    @admin.display(description=_("窗口占用"))
    def window_use(self, obj):
        return f"{obj.window_in_use}/{obj.window}"


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(EnterpriseScopedMixin, admin.ModelAdmin):
    list_display = ["enterprise", "url", "send_reports", "send_replies", "is_active"]
    fields = ["enterprise", "url", "send_reports", "send_replies", "is_active"]
    readonly_fields = ["enterprise", "url"]

    def has_add_permission(self, request):
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(EnterpriseScopedMixin, admin.ModelAdmin):
    enterprise_path = "endpoint__enterprise"
    list_display = [
        "id",
        "created_at",
        "endpoint",
        "event",
        "state",
        "attempts",
        "last_status",
        "last_error",
    ]
    list_filter = ["state", "event"]
    readonly_fields = [f.name for f in WebhookDelivery._meta.fields]
    actions = ["resend"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("重新推送"), permissions=["change"])
    def resend(self, request, queryset):
        for delivery in queryset:
            webhooks.webhook_resend(delivery_id=delivery.pk)
        messages.success(request, _("已重新推送 %(n)d 条") % {"n": queryset.count()})


register_workbench_link(
    WorkbenchLink(
        label=_("短信链路状态"),
        url_name="admin:smsgw_linkstate_changelist",
        permission="smsgw.view_linkstate",
        description=_("各 CMPP 账号的连接、窗口、链路检测与速率"),
    )
)
register_workbench_link(
    WorkbenchLink(
        label=_("短信查询"),
        url_name="admin:smsgw_message_changelist",
        permission="smsgw.view_message",
        description=_("按手机号码或 Msg_Id 查询短信及分段记录"),
    )
)
