"""The inventory in the admin: code blocks (with the all-or-nothing import), the code
pool and the MAS servers and ports, with filters and utilisation counts."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django_fsm import TransitionNotAllowed
from import_export.admin import ExportMixin, ImportExportModelAdmin

from core.admin_tools import StateChangeInline

from .. import selectors, services
from ..models import MasPort, MasServer, ServiceCode, ServiceCodeBlock
from ..resources import MasPortResource, ServiceCodeBlockResource, ServiceCodeResource


class ServiceCodeBlockForm(forms.ModelForm):
    class Meta:
        model = ServiceCodeBlock
        fields = ("first_code", "last_code", "extension_digits", "province", "note")

    def clean(self):
        data = super().clean()
        if self.instance.pk is None and not self.errors:
            problems = services.inventory.block_problems(
                first_code=data.get("first_code", ""),
                last_code=data.get("last_code", ""),
                extension_digits=data.get("extension_digits"),
                province=data.get("province", ""),
            )
            if problems:
                raise ValidationError(problems)
        return data


@admin.register(ServiceCodeBlock)
class ServiceCodeBlockAdmin(ImportExportModelAdmin):
    """Blocks of 1069 codes (号段); importing a file of blocks is all or nothing."""

    form = ServiceCodeBlockForm
    resource_classes = [ServiceCodeBlockResource]
    list_display = (
        "__str__",
        "province",
        "extension_digits",
        "size_display",
        "available",
        "assigned",
        "note",
        "created_at",
    )
    list_filter = ("province", "extension_digits")
    search_fields = ("first_code", "last_code", "note")

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                n_available=Count("codes", filter=Q(codes__state=ServiceCode.State.AVAILABLE)),
                n_assigned=Count("codes", filter=Q(codes__state=ServiceCode.State.ASSIGNED)),
            )
        )

    def get_readonly_fields(self, request, obj=None):
        if obj is not None:
            return ("first_code", "last_code", "extension_digits", "province")
        return ()

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("代码数"))
    def size_display(self, obj):
        return obj.size

    @admin.display(description=_("空闲"), ordering="n_available")
    def available(self, obj):
        return obj.n_available

    @admin.display(description=_("已分配"), ordering="n_assigned")
    def assigned(self, obj):
        return obj.n_assigned

    def save_model(self, request, obj, form, change):
        if change:
            obj.save(update_fields=["note", "updated_at"])
            return
        block = services.service_code_block_add(
            first_code=obj.first_code,
            last_code=obj.last_code,
            extension_digits=obj.extension_digits,
            province=obj.province,
            note=obj.note,
            by=request.user,
        )
        obj.pk = block.pk


class HolderFilter(admin.SimpleListFilter):
    title = _("冷冻期")
    parameter_name = "quarantine_due"

    def lookups(self, request, model_admin):
        return (("due", _("已满，待回收")),)

    def queryset(self, request, queryset):
        from core import clock

        if self.value() == "due":
            return queryset.filter(
                state=ServiceCode.State.QUARANTINED, quarantined_until__lte=clock.now()
            )
        return queryset


@admin.register(ServiceCode)
class ServiceCodeAdmin(ExportMixin, admin.ModelAdmin):
    """The service code pool, with counts per state above the list."""

    resource_classes = [ServiceCodeResource]
    change_list_template = "admin/fulfillment/servicecode/change_list.html"
    list_display = (
        "code",
        "extension_digits",
        "province",
        "state",
        "holder",
        "reserved_until",
        "quarantined_until",
        "block",
    )
    list_filter = ("state", "province", "extension_digits", HolderFilter, "block")
    search_fields = ("code", "subscriptions__enterprise__name")
    list_select_related = ("block",)
    readonly_fields = (
        "code",
        "extension_digits",
        "province",
        "block",
        "state",
        "reserved_until",
        "assigned_at",
        "quarantined_until",
        "retired_at",
    )
    actions = ("retire_selected",)
    inlines = (StateChangeInline,)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("使用客户"))
    def holder(self, obj):
        if obj.state != ServiceCode.State.ASSIGNED:
            return "—"
        subscription = (
            obj.subscriptions.exclude(state="terminated").select_related("enterprise").first()
        )
        if subscription is None:
            return "—"
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:fulfillment_subscription_change", args=[subscription.pk]),
            subscription.enterprise.name,
        )

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        if hasattr(response, "context_data") and "cl" in response.context_data:
            queryset = response.context_data["cl"].queryset
            response.context_data["state_counts"] = _labelled(
                selectors.code_counts(queryset), ServiceCode.State
            )
        return response

    @admin.action(description=_("停用所选代码（空闲或冷冻期）"), permissions=["change"])
    def retire_selected(self, request, queryset):
        done = 0
        for code in queryset:
            try:
                services.service_code_retire(code_id=code.pk, by=request.user, reason="后台停用")
            except TransitionNotAllowed as exc:
                self.message_user(request, f"{code}: {exc}", messages.ERROR)
            else:
                done += 1
        self.message_user(request, _("已停用 %(n)d 个代码") % {"n": done})


class MasServerForm(forms.ModelForm):
    add_ports = forms.IntegerField(
        label=_("增加端口数"),
        min_value=0,
        initial=0,
        required=False,
        help_text=_("新建时为初始端口数；不超过端口容量"),
    )

    class Meta:
        model = MasServer
        fields = (
            "name",
            "location",
            "host",
            "ismg_host",
            "ismg_port",
            "capacity",
            "in_service",
            "note",
        )


@admin.register(MasServer)
class MasServerAdmin(admin.ModelAdmin):
    """MAS servers with their ISMG link and port utilisation."""

    form = MasServerForm
    list_display = (
        "name",
        "location",
        "ismg_display",
        "capacity",
        "ports_total",
        "ports_available",
        "ports_reserved",
        "ports_assigned",
        "utilisation",
        "in_service",
    )
    list_filter = ("location", "in_service")
    search_fields = ("name", "location", "host", "ismg_host")

    def get_queryset(self, request):
        return selectors.servers_with_utilisation()

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("ISMG 链路"))
    def ismg_display(self, obj):
        return obj.ismg_address

    @admin.display(description=_("端口"), ordering="n_ports")
    def ports_total(self, obj):
        return obj.n_ports

    @admin.display(description=_("空闲"), ordering="n_available")
    def ports_available(self, obj):
        return obj.n_available

    @admin.display(description=_("预留"), ordering="n_reserved")
    def ports_reserved(self, obj):
        return obj.n_reserved

    @admin.display(description=_("已分配"), ordering="n_assigned")
    def ports_assigned(self, obj):
        return obj.n_assigned

    @admin.display(description=_("利用率"))
    def utilisation(self, obj):
        usable = obj.n_ports - obj.n_retired
        if not usable:
            return "—"
        return f"{(obj.n_assigned + obj.n_reserved) * 100 // usable}%"

    def save_model(self, request, obj, form, change):
        count = form.cleaned_data.get("add_ports") or 0
        if not change:
            server = services.mas_server_create(
                name=obj.name,
                location=obj.location,
                capacity=obj.capacity,
                ports=count or 1,
                host=obj.host,
                ismg_host=obj.ismg_host,
                ismg_port=obj.ismg_port,
                note=obj.note,
                by=request.user,
            )
            obj.pk = server.pk
            return
        obj.full_clean()
        obj.save()
        if count:
            services.mas_server_add_ports(server_id=obj.pk, count=count, by=request.user)


@admin.register(MasPort)
class MasPortAdmin(ExportMixin, admin.ModelAdmin):
    """MAS ports, with counts per state and per server above the list."""

    resource_classes = [MasPortResource]
    change_list_template = "admin/fulfillment/masport/change_list.html"
    list_display = ("__str__", "server", "number", "state", "holder", "reserved_until")
    list_filter = ("state", "server", "server__location")
    search_fields = ("server__name", "subscriptions__enterprise__name")
    list_select_related = ("server",)
    readonly_fields = ("server", "number", "state", "reserved_until", "assigned_at", "retired_at")
    actions = ("retire_selected",)
    inlines = (StateChangeInline,)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("使用客户"))
    def holder(self, obj):
        if obj.state != MasPort.State.ASSIGNED:
            return "—"
        subscription = (
            obj.subscriptions.exclude(state="terminated").select_related("enterprise").first()
        )
        return subscription.enterprise.name if subscription else "—"

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        if hasattr(response, "context_data") and "cl" in response.context_data:
            queryset = response.context_data["cl"].queryset
            response.context_data["state_counts"] = _labelled(
                selectors.port_counts(queryset), MasPort.State
            )
            response.context_data["servers"] = selectors.servers_with_utilisation()
        return response

    @admin.action(description=_("停用所选端口（空闲）"), permissions=["change"])
    def retire_selected(self, request, queryset):
        done = 0
        for port in queryset:
            try:
                services.mas_port_retire(port_id=port.pk, by=request.user, reason="后台停用")
            except TransitionNotAllowed as exc:
                self.message_user(request, f"{port}: {exc}", messages.ERROR)
            else:
                done += 1
        self.message_user(request, _("已停用 %(n)d 个端口") % {"n": done})


def _labelled(counts: dict[str, int], states) -> list[tuple[str, int]]:
    rows = [(str(label), counts.get(value, 0)) for value, label in states.choices]
    rows.append((str(_("合计")), counts.get("total", 0)))
    return rows
