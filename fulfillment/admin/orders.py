"""Orders in the admin: a manager prepares a draft (one item), submits it, follows each
provisioning step, and uses the buttons of the transitions allowed now."""

from django import forms
from django.contrib import admin
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from core import clock
from core.admin_tools import (
    AdminTransition,
    ReadOnlyInline,
    StateChangeInline,
    TransitionAdminMixin,
    WorkbenchLink,
    register_workbench_link,
)
from customers.models import Contact
from customers.regions import Province
from customers.selectors import enterprises_visible_to
from product_lifecycle.models import CmppVersion
from product_lifecycle.selectors import launched_offerings

from .. import selectors, services
from ..models import CancellationRequest, InterfaceType, Order, OrderItem, Subscription

ITEM_FIELDS = (
    "action",
    "offering",
    "subscription",
    "cmpp_version",
    "interface_type",
    "access_ip",
    "contact",
    "contact_name",
    "contact_phone",
    "code_province",
    "requested_code",
)


class OrderDraftForm(forms.ModelForm):
    """A draft order with one item: the order's fields plus the item's."""

    user = None  # set per request by OrderAdmin.get_form

    action = forms.ChoiceField(
        label=_("操作"),
        choices=[c for c in OrderItem.Action.choices if c[0] != OrderItem.Action.NO_CHANGE],
    )
    offering = forms.ModelChoiceField(
        label=_("产品"),
        queryset=launched_offerings(),
        required=False,
        help_text=_("新装必选；变更时选择新产品（不换产品可不选）"),
    )
    subscription = forms.ModelChoiceField(
        label=_("业务实例"),
        queryset=Subscription.objects.none(),
        required=False,
        help_text=_("变更、暂停、恢复、拆机时选择"),
    )
    cmpp_version = forms.ChoiceField(
        label=_("CMPP 版本"), choices=[("", "—"), *CmppVersion.choices], required=False
    )
    interface_type = forms.ChoiceField(
        label=_("接口类型"), choices=[("", "—"), *InterfaceType.choices], required=False
    )
    access_ip = forms.CharField(label=_("接入地址（IP）"), max_length=64, required=False)
    contact = forms.ModelChoiceField(
        label=_("联系人"),
        queryset=Contact.objects.none(),
        required=False,
        help_text=_("从客户档案中选择，或在下面填写"),
    )
    contact_name = forms.CharField(label=_("联系人姓名"), max_length=60, required=False)
    contact_phone = forms.CharField(label=_("联系电话"), max_length=30, required=False)
    code_province = forms.ChoiceField(
        label=_("服务代码申请省份"), choices=Province.choices, required=False
    )
    requested_code = forms.CharField(
        label=_("指定服务代码"), max_length=16, required=False, help_text=_("空为由号码池分配")
    )

    class Meta:
        model = Order
        fields = ("enterprise", "requested_start_at", "description")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        visible = enterprises_visible_to(self.user)
        self.fields["enterprise"].queryset = visible
        self.fields["enterprise"].required = True
        self.fields["subscription"].queryset = Subscription.objects.filter(
            enterprise__in=visible, state__in=Subscription.LIVE_STATES
        ).select_related("service_code", "enterprise")
        self.fields["contact"].queryset = Contact.objects.filter(
            enterprise__in=visible
        ).select_related("enterprise")
        self.fields["code_province"].initial = _operator_province()
        self.fields["requested_start_at"].initial = timezone.localtime(clock.now()).replace(
            second=0, microsecond=0
        )
        item = self.instance.items.first() if self.instance.pk else None
        if item is not None:
            for name in ITEM_FIELDS:
                self.initial[name] = getattr(item, f"{name}_id", None) or getattr(item, name)

    def item_request(self) -> services.ItemRequest:
        data = self.cleaned_data
        return services.ItemRequest(
            action=data["action"],
            offering=data["offering"].pk if data.get("offering") else None,
            subscription=data["subscription"].pk if data.get("subscription") else None,
            cmpp_version=data.get("cmpp_version") or "",
            interface_type=data.get("interface_type") or "",
            access_ip=data.get("access_ip") or "",
            contact_id=data["contact"].pk if data.get("contact") else None,
            contact_name=data.get("contact_name") or "",
            contact_phone=data.get("contact_phone") or "",
            code_province=data.get("code_province") or "",
            requested_code=data.get("requested_code") or "",
        )


def _operator_province() -> str:
    from django.conf import settings

    return settings.FULFILLMENT_PROVINCE


def _perform(service):
    return lambda obj, user, reason: service(order_id=obj.pk, by=user, reason=reason)


class CancellationInline(ReadOnlyInline):
    model = CancellationRequest
    fields = ("requested_at", "requested_by", "reason", "state", "refusal_reason", "effective_at")
    readonly_fields = fields


@admin.register(Order)
class OrderAdmin(TransitionAdminMixin, admin.ModelAdmin):
    """Orders (订单) of the user's enterprises, with their provisioning steps."""

    transitions = (
        AdminTransition(
            "acknowledge",
            _("提交（资格审核）"),
            lambda obj, user, reason: services.order_submit(order_id=obj.pk, by=user),
        ),
        AdminTransition("abandon", _("放弃草稿"), _perform(services.order_abandon), style="danger"),
        AdminTransition(
            "pend", _("待客户补充信息"), _perform(services.order_pend), reason_required=True
        ),
        AdminTransition("hold", _("挂起"), _perform(services.order_hold), reason_required=True),
        AdminTransition("proceed", _("继续处理"), _perform(services.order_proceed)),
        AdminTransition(
            "fail",
            _("置为失败"),
            _perform(services.order_fail),
            reason_required=True,
            style="danger",
        ),
        AdminTransition(
            "request_cancellation",
            _("撤单"),
            lambda obj, user, reason: services.order_cancel_request(
                order_id=obj.pk, by=user, reason=reason
            ),
            reason_required=True,
            style="danger",
        ),
    )
    override_transition = AdminTransition(
        "override_notice",
        _("特批变更提前期（第11条）"),
        lambda obj, user, reason: services.order_override_notice_period(
            order_id=obj.pk, by=user, reason=reason
        ),
        permission="fulfillment.override_notice_period",
        reason_required=True,
    )
    list_display = (
        "__str__",
        "enterprise_display",
        "actions_summary",
        "state",
        "channel",
        "order_date",
        "requested_start_at",
        "created_by",
    )
    list_filter = ("state", "channel", "items__action")
    search_fields = (
        "=id",
        "enterprise__name",
        "enterprise_ref",
        "external_id",
        "items__service_code__code",
        "items__access_ip",
    )
    list_select_related = ("enterprise", "created_by")
    date_hierarchy = "order_date"
    inlines = (CancellationInline, StateChangeInline)
    readonly_summary = (
        "state",
        "enterprise_display",
        "channel",
        "order_date",
        "requested_start_at",
        "requested_completion_at",
        "description",
        "created_by",
        "submitted_at",
        "started_at",
        "completed_at",
        "rejection_display",
        "notice_override_display",
        "items_table",
        "steps_table",
    )

    def get_queryset(self, request):
        return selectors.orders_visible_to(request.user).distinct()

    def has_delete_permission(self, request, obj=None):
        return False

    def _is_draft(self, obj) -> bool:
        return obj is None or (obj.state == Order.State.DRAFT and obj.items.count() <= 1)

    def get_form(self, request, obj=None, change=False, **kwargs):
        if self._is_draft(obj):
            kwargs["form"] = OrderDraftForm
            kwargs["fields"] = None
        form = super().get_form(request, obj, change, **kwargs)
        form.user = request.user
        return form

    def get_fieldsets(self, request, obj=None):
        if self._is_draft(obj):
            return (
                (None, {"fields": ("enterprise", "requested_start_at", "description")}),
                (
                    _("订单项"),
                    {"fields": ("action", "offering", "subscription", "cmpp_version")},
                ),
                (
                    _("书面开通通知（第3条）"),
                    {
                        "fields": (
                            "interface_type",
                            "access_ip",
                            "contact",
                            "contact_name",
                            "contact_phone",
                        )
                    },
                ),
                (_("服务代码"), {"fields": ("code_province", "requested_code")}),
            )
        return ((None, {"fields": self.readonly_summary}),)

    def get_readonly_fields(self, request, obj=None):
        if self._is_draft(obj):
            return ()
        return self.readonly_summary

    def get_inlines(self, request, obj):
        return () if self._is_draft(obj) else self.inlines

    def available_transitions(self, request, obj):
        buttons = super().available_transitions(request, obj)
        if (
            obj is not None
            and obj.state == Order.State.DRAFT
            and obj.notice_override_at is None
            and obj.items.filter(action=OrderItem.Action.MODIFY).exists()
            and self.has_change_permission(request, obj)
            and request.user.has_perm(self.override_transition.permission)
        ):
            buttons.append(self.override_transition)
        return buttons

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id)
        if obj is not None and not self._is_draft(obj):
            extra_context = {
                **(extra_context or {}),
                "show_save": False,
                "show_save_and_continue": False,
                "show_save_and_add_another": False,
            }
        return super().change_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        fields = {
            "requested_start_at": form.cleaned_data.get("requested_start_at"),
            "description": form.cleaned_data.get("description") or "",
        }
        if change and not self._is_draft(obj):
            return  # a submitted order changes only through its transition buttons
        if change:
            services.order_draft_update(
                order_id=obj.pk,
                by=request.user,
                enterprise=form.cleaned_data["enterprise"].pk,
                items=[form.item_request()],
                **fields,
            )
            return
        order = services.order_create(
            by=request.user,
            enterprise=form.cleaned_data["enterprise"].pk,
            items=[form.item_request()],
            submit=False,
            **fields,
        )
        obj.pk = order.pk

    def save_related(self, request, form, formsets, change):
        """The draft's item is saved by the service; there is nothing related to save."""

    # --- read-only displays ----------------------------------------------------------

    @admin.display(description=_("集团客户"))
    def enterprise_display(self, obj):
        if obj.enterprise is not None:
            return obj.enterprise.name
        return format_html('<span style="color:#c62828">{}</span>', obj.enterprise_ref or "—")

    @admin.display(description=_("订单项"))
    def actions_summary(self, obj):
        return "、".join(item.get_action_display() for item in obj.items.all())

    @admin.display(description=_("拒绝原因"))
    def rejection_display(self, obj):
        if not obj.rejection_reasons:
            return "—"
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "",
                "<li><strong>{}</strong>：{}</li>",
                ((r["rule"], r["message"]) for r in obj.rejection_reasons),
            ),
        )

    @admin.display(description=_("第11条特批"))
    def notice_override_display(self, obj):
        if obj.notice_override_at is None:
            return "—"
        return f"{obj.notice_override_by}：{obj.notice_override_reason}"

    @admin.display(description=_("订单项明细"))
    def items_table(self, obj):
        rows = []
        for item in obj.items.select_related(
            "offering", "subscription", "service_code", "port__server"
        ):
            rows.append(
                (
                    item.item_id,
                    item.get_action_display(),
                    item.get_state_display(),
                    item.offering.name if item.offering else (item.offering_ref or "—"),
                    item.cmpp_version or "—",
                    item.get_interface_type_display() or "—",
                    item.access_ip or "—",
                    item.contact_name or "—",
                    item.service_code.code if item.service_code else "—",
                    str(item.port) if item.port else "—",
                    self._account_cell(item),
                )
            )
        header = (
            _("项"),
            _("操作"),
            _("状态"),
            _("产品"),
            _("CMPP"),
            _("接口类型"),
            _("接入地址"),
            _("联系人"),
            _("服务代码"),
            _("MAS 端口"),
            _("CMPP 账号"),
        )
        return format_html(
            '<table class="order-items"><thead><tr>{}</tr></thead><tbody>{}</tbody></table>',
            format_html_join("", '<th style="white-space:nowrap">{}</th>', ((h,) for h in header)),
            format_html_join(
                "", "<tr>" + '<td style="white-space:nowrap">{}</td>' * len(header) + "</tr>", rows
            ),
        )

    def _account_cell(self, item):
        account = item.accounts.exclude(state="revoked").first()
        if account is None:
            return "—"
        if account.secret_revealed_at is None and account.state == "active":
            url = reverse("admin:fulfillment_cmppaccount_reveal", args=[account.pk])
            return format_html(
                'SP_Id {} · <a class="button reveal-secret" href="{}">{}</a>',
                account.sp_id,
                url,
                _("显示共享密钥（仅一次）"),
            )
        return format_html("SP_Id {}", account.sp_id)

    @admin.display(description=_("开通步骤"))
    def steps_table(self, obj):
        from ..models import ProvisioningStep

        steps = ProvisioningStep.objects.filter(item__order=obj).select_related("item")
        rows = [
            (
                step.item.item_id,
                step.position,
                step.get_kind_display(),
                step.get_state_display(),
                step.attempts,
                step.detail or "—",
                step.last_error or "—",
                timezone.localtime(step.finished_at).strftime("%Y-%m-%d %H:%M:%S")
                if step.finished_at
                else "—",
            )
            for step in steps.order_by("item_id", "position")
        ]
        if not rows:
            return _("尚未开始开通")
        header = (
            _("项"),
            _("顺序"),
            _("步骤"),
            _("结果"),
            _("尝试次数"),
            _("执行结果"),
            _("最近错误"),
            _("结束时间"),
        )
        return format_html(
            '<table class="provisioning-steps"><thead><tr>{}</tr></thead><tbody>{}</tbody></table>',
            format_html_join("", '<th style="white-space:nowrap">{}</th>', ((h,) for h in header)),
            format_html_join(
                "",
                "<tr>" + '<td style="white-space:nowrap">{}</td>' * 5 + "<td>{}</td>" * 3 + "</tr>",
                rows,
            ),
        )

    # --- the manager's fulfillment worklist --------------------------------------------

    def get_urls(self):
        return [
            path(
                "worklist/",
                self.admin_site.admin_view(self.worklist_view),
                name="fulfillment_worklist",
            ),
            *super().get_urls(),
        ]

    def worklist_view(self, request):
        """Orders needing attention, contracts expiring soon, secrets not yet handed over."""
        context = {
            **self.admin_site.each_context(request),
            "title": _("业务开通工作台"),
            "opts": self.model._meta,
            **selectors.manager_worklist(request.user),
        }
        return TemplateResponse(request, "admin/fulfillment/worklist.html", context)


register_workbench_link(
    WorkbenchLink(
        label=_("业务开通工作台"),
        url_name="admin:fulfillment_worklist",
        permission="fulfillment.view_order",
        description=_("待处理订单、即将到期的合同、待交付的共享密钥"),
    )
)
