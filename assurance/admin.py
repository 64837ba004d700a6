"""Admin of assurance: tickets with their transitions and clock, the NOC queue and the SLA
report pages, fault classes and calendars, maintenance windows and the notification log.

Every change goes through a service: transitions by the buttons (core.admin_tools),
reclassification, handover and exclusion from the ticket form's few editable fields,
notes through the note form.
"""

import datetime as dt

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django_fsm import TransitionNotAllowed

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

from . import reports, selectors, services
from .models import (
    BusinessCalendar,
    CalendarDay,
    EscalationContact,
    FaultClass,
    MaintenanceWindow,
    Notification,
    SlaEvent,
    SlaPause,
    Ticket,
    TicketAttachment,
    TicketNote,
    TicketTypeMapping,
)

QUEUE_PAGE_SIZE = 50


def _reason(reason: str, default: str) -> str:
    return reason or str(default)


TICKET_TRANSITIONS = (
    AdminTransition(
        "start",
        _("受理（认领）"),
        lambda t, user, reason: services.ticket_claim(ticket_id=t.pk, by=user),
        permission="assurance.claim_ticket",
    ),
    AdminTransition(
        "pend",
        _("等待企业反馈（暂停计时）"),
        lambda t, user, reason: services.ticket_pend(ticket_id=t.pk, by=user, reason=reason),
        reason_required=True,
    ),
    AdminTransition(
        "hold",
        _("挂起"),
        lambda t, user, reason: services.ticket_hold(ticket_id=t.pk, by=user, reason=reason),
        reason_required=True,
    ),
    AdminTransition(
        "resume",
        _("继续处理"),
        lambda t, user, reason: services.ticket_resume(ticket_id=t.pk, by=user, reason=reason),
    ),
    AdminTransition(
        "resolve",
        _("已解决"),
        lambda t, user, reason: services.ticket_resolve(ticket_id=t.pk, by=user, resolution=reason),
        reason_required=True,
    ),
    AdminTransition(
        "close",
        _("关闭（企业已确认）"),
        lambda t, user, reason: services.ticket_accept_resolution(
            ticket_id=t.pk, by=user, comment=reason
        ),
    ),
    AdminTransition(
        "reopen",
        _("重新处理（企业不认可）"),
        lambda t, user, reason: services.ticket_reject_resolution(
            ticket_id=t.pk, by=user, reason=reason
        ),
        reason_required=True,
    ),
    AdminTransition(
        "cancel",
        _("撤销"),
        lambda t, user, reason: services.ticket_cancel(
            ticket_id=t.pk, by=user, reason=_reason(reason, _("撤销"))
        ),
        style="danger",
    ),
    AdminTransition(
        "reject",
        _("驳回"),
        lambda t, user, reason: services.ticket_reject(ticket_id=t.pk, by=user, reason=reason),
        reason_required=True,
        style="danger",
    ),
)


class TicketNoteInline(ReadOnlyInline):
    model = TicketNote
    fields = ("created_at", "author_name", "public", "text")
    readonly_fields = fields


class TicketAttachmentInline(ReadOnlyInline):
    model = TicketAttachment
    fields = ("created_at", "name", "file", "url", "public")
    readonly_fields = fields


class SlaPauseInline(ReadOnlyInline):
    model = SlaPause
    fields = ("state", "started_at", "started_by", "ended_at", "ended_by")
    readonly_fields = fields


class SlaEventInline(ReadOnlyInline):
    model = SlaEvent
    fields = ("level", "due_at", "raised_at")
    readonly_fields = fields


class TicketForm(forms.ModelForm):
    """Opening a ticket in the admin (staff receive a report by phone: they own it)."""

    class Meta:
        model = Ticket
        fields = (
            "name",
            "description",
            "ticket_type",
            "severity",
            "priority",
            "enterprise",
            "affected_subscriptions",
            "affected_ports",
            "ismg_link",
            "reporter_name",
            "reporter_contact",
            "fault_class",
            "assignee",
            "sla_excluded",
            "sla_exclusion_reason",
        )


@admin.register(Ticket)
class TicketAdmin(TransitionAdminMixin, admin.ModelAdmin):
    form = TicketForm
    transitions = TICKET_TRANSITIONS
    list_display = (
        "id",
        "title",
        "enterprise",
        "state",
        "fault_class",
        "severity",
        "owner",
        "deadline_display",
        "sla_breached",
        "sla_excluded",
    )
    list_filter = ("state", "fault_class", "channel", "sla_breached", "sla_excluded")
    search_fields = ("=id", "name", "description", "enterprise__name", "resource_text")
    date_hierarchy = "reported_at"
    autocomplete_fields = ("enterprise",)
    raw_id_fields = ("affected_subscriptions", "affected_ports", "assignee")
    inlines = (
        TicketNoteInline,
        TicketAttachmentInline,
        SlaPauseInline,
        SlaEventInline,
        StateChangeInline,
    )
    ADD_ONLY = (
        "name",
        "description",
        "ticket_type",
        "severity",
        "priority",
        "enterprise",
        "affected_subscriptions",
        "affected_ports",
        "ismg_link",
        "reporter_name",
        "reporter_contact",
    )
    CLOCK = (
        "state",
        "channel",
        "reported_at",
        "owner",
        "owner_since",
        "escalation_level",
        "clock_display",
        "sla_paused_seconds",
        "resolved_at",
        "resolution",
        "closed_at",
    )

    @admin.display(description=_("标题"))
    def title(self, obj):
        return obj.name or obj.description[:30]

    @admin.display(description=_("修复期限"), ordering="sla_deadline")
    def deadline_display(self, obj):
        return timezone.localtime(obj.sla_deadline) if obj.sla_deadline else "—"

    @admin.display(description=_("修复时钟"))
    def clock_display(self, obj):
        view = selectors.ticket_clock(obj)
        if not view.covered:
            return _("不在保障范围")
        state = _("暂停中") if view.paused else (_("已停止") if view.stopped else _("计时中"))
        return format_html(
            '<span class="sla sla-{}">{} / {} h · {} {}</span>',
            view.colour,
            view.time_left_text,
            view.target_hours,
            state,
            _("（已超时）") if view.breached else "",
        )

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        readonly = [*self.ADD_ONLY, *self.CLOCK]
        if not request.user.has_perm("assurance.exclude_ticket"):
            readonly += ["sla_excluded", "sla_exclusion_reason"]
        return readonly

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return super().get_fieldsets(request, obj)
        exclusion = ("sla_excluded", "sla_exclusion_reason")
        return (
            (_("故障"), {"fields": self.ADD_ONLY}),
            (_("处理与修复时钟"), {"fields": (*self.CLOCK, "fault_class", "assignee")}),
            (_("考核"), {"fields": exclusion}),
        )

    def get_queryset(self, request):
        return selectors.tickets_visible_to(request.user).select_related(
            "fault_class", "enterprise", "owner"
        )

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        try:
            if not change:
                created = services.ticket_create(
                    by=request.user,
                    description=data["description"],
                    ticket_type=data["ticket_type"],
                    severity=data["severity"],
                    channel=Ticket.Channel.STAFF,
                    enterprise_id=data["enterprise"].pk if data.get("enterprise") else None,
                    name=data.get("name") or "",
                    priority=data.get("priority") or "",
                    subscription_ids=[s.pk for s in data.get("affected_subscriptions") or []],
                    port_ids=[p.pk for p in data.get("affected_ports") or []],
                    ismg_link=data.get("ismg_link") or "",
                    fault_class_code=data["fault_class"].code if data.get("fault_class") else None,
                    reporter_name=data.get("reporter_name") or "",
                    reporter_contact=data.get("reporter_contact") or "",
                    take_ownership=True,
                )
                obj.pk = created.pk
                return
            current = Ticket.objects.get(pk=obj.pk)
            if "fault_class" in form.changed_data:
                services.ticket_reclassify(
                    ticket_id=obj.pk, fault_class_code=data["fault_class"].code, by=request.user
                )
            if "assignee" in form.changed_data and data.get("assignee"):
                services.ticket_assign(ticket_id=obj.pk, by=request.user, to=data["assignee"])
            if {"sla_excluded", "sla_exclusion_reason"} & set(form.changed_data):
                if not request.user.has_perm("assurance.exclude_ticket"):
                    raise PermissionDenied
                services.ticket_exclude(
                    ticket_id=current.pk,
                    by=request.user,
                    kind=data.get("sla_excluded") or "",
                    reason=data.get("sla_exclusion_reason") or "",
                )
        except (ValidationError, TransitionNotAllowed) as exc:
            text = "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
            messages.error(request, text)

    def save_related(self, request, form, formsets, change):
        """Relations are written by the services."""

    # ---------------------------------------------------------------- NOC pages
    def get_urls(self):
        return [
            path("queue/", self.admin_site.admin_view(self.queue_view), name="assurance_queue"),
            path(
                "queue/<int:ticket_id>/claim/",
                self.admin_site.admin_view(self.claim_view),
                name="assurance_queue_claim",
            ),
            path(
                "<int:ticket_id>/note/",
                self.admin_site.admin_view(self.note_view),
                name="assurance_ticket_note",
            ),
            path("report/", self.admin_site.admin_view(self.report_view), name="assurance_report"),
            *super().get_urls(),
        ]

    def queue_view(self, request):
        """Open tickets, most urgent first, colour-coded, with filters and counts."""
        if not request.user.has_perm("assurance.view_noc_queue"):
            raise PermissionDenied
        get = request.GET
        filters = selectors.QueueFilters(
            fault_class=get.get("fault_class", ""),
            severity=get.get("severity", ""),
            owner=get.get("owner", ""),
            enterprise=get.get("enterprise", ""),
            resource=get.get("resource", ""),
            state=get.get("state", ""),
        )
        queryset = selectors.noc_queue(filters, user=request.user)
        counts = selectors.queue_state_counts()
        paginator = Paginator(queryset, QUEUE_PAGE_SIZE)
        if filters.only_state():
            # The per-state counts already say how many rows there are: no second COUNT.
            paginator.__dict__["count"] = (
                counts.get(filters.state, 0) if filters.state else sum(counts.values())
            )
        page = paginator.get_page(get.get("page"))
        now = clock.now()
        rows = [(t, selectors.ticket_clock(t, now=now)) for t in page.object_list]
        query = get.copy()
        query.pop("page", None)
        context = {
            **self.admin_site.each_context(request),
            "title": _("网络维护工单队列"),
            "opts": self.model._meta,
            "rows": rows,
            "page": page,
            "filters": filters,
            "state_counts": [(Ticket.State(s).label, s, n) for s, n in counts.items()],
            "states": [(s, Ticket.State(s).label) for s in Ticket.OPEN_STATES],
            "query": query.urlencode(),
            "now": now,
            "may_claim": request.user.has_perm("assurance.claim_ticket"),
            **selectors.queue_choices(),
        }
        return TemplateResponse(request, "admin/assurance/queue.html", context)

    def claim_view(self, request, ticket_id: int):
        """POST: take the ticket (first claim: owner for good) and open it."""
        if request.method != "POST" or not request.user.has_perm("assurance.claim_ticket"):
            raise PermissionDenied
        if not selectors.tickets_visible_to(request.user).filter(pk=ticket_id).exists():
            raise PermissionDenied
        try:
            services.ticket_claim(ticket_id=ticket_id, by=request.user)
        except (ValidationError, TransitionNotAllowed) as exc:
            messages.error(request, "; ".join(getattr(exc, "messages", [str(exc)])))
            return HttpResponseRedirect(reverse("admin:assurance_queue"))
        messages.success(request, _("已受理工单 #%(id)s") % {"id": ticket_id})
        return HttpResponseRedirect(reverse("admin:assurance_ticket_change", args=[ticket_id]))

    def note_view(self, request, ticket_id: int):
        """POST: add a note (internal unless marked for the enterprise)."""
        if request.method != "POST" or not request.user.has_perm("assurance.add_ticketnote"):
            raise PermissionDenied
        if not selectors.tickets_visible_to(request.user).filter(pk=ticket_id).exists():
            raise PermissionDenied
        try:
            services.ticket_note_add(
                ticket_id=ticket_id,
                by=request.user,
                text=request.POST.get("text", ""),
                public=request.POST.get("public") == "on",
            )
        except ValidationError as exc:
            messages.error(request, "; ".join(exc.messages))
        return HttpResponseRedirect(reverse("admin:assurance_ticket_change", args=[ticket_id]))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = dict(extra_context or {})
        extra_context["note_url"] = reverse("admin:assurance_ticket_note", args=[object_id])
        return super().change_view(request, object_id, form_url, extra_context)

    change_form_template = "admin/assurance/ticket_change_form.html"

    def report_view(self, request):
        """The monthly SLA report, per enterprise and overall, with XLSX and PDF export."""
        if not request.user.has_perm("assurance.view_sla_report"):
            raise PermissionDenied
        today = clock.today()
        try:
            year = int(request.GET.get("year", today.year))
            month = int(request.GET.get("month", today.month))
            dt.date(year, month, 1)
        except ValueError:
            year, month = today.year, today.month
        report = selectors.sla_report(year, month)
        export = request.GET.get("export")
        if export in ("xlsx", "pdf"):
            content, content_type = (
                (reports.report_xlsx(report), reports.XLSX)
                if export == "xlsx"
                else (reports.report_pdf(report), "application/pdf")
            )
            response = HttpResponse(content, content_type=content_type)
            response["Content-Disposition"] = (
                f'attachment; filename="sla-{year}-{month:02d}.{export}"'
            )
            return response
        context = {
            **self.admin_site.each_context(request),
            "title": _("修复时限月报"),
            "opts": self.model._meta,
            "report": report,
            "months": range(1, 13),
        }
        return TemplateResponse(request, "admin/assurance/report.html", context)


register_workbench_link(
    WorkbenchLink(
        label=_("网络维护工单队列"),
        url_name="admin:assurance_queue",
        permission="assurance.view_noc_queue",
        description=_("未结工单按剩余时限排序，认领与处理"),
    )
)
register_workbench_link(
    WorkbenchLink(
        label=_("修复时限月报"),
        url_name="admin:assurance_report",
        permission="assurance.view_sla_report",
        description=_("按企业统计工单、修复时长、超时及原因；导出 XLSX/PDF"),
    )
)


@admin.register(TicketNote)
class TicketNoteAdmin(admin.ModelAdmin):
    list_display = ("ticket", "created_at", "author_name", "public", "short_text")
    list_filter = ("public",)
    raw_id_fields = ("ticket",)
    fields = ("ticket", "text", "public")

    @admin.display(description=_("内容"))
    def short_text(self, obj):
        return obj.text[:60]

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        note = services.ticket_note_add(
            ticket_id=obj.ticket_id, by=request.user, text=obj.text, public=obj.public
        )
        obj.pk = note.pk


class CalendarDayInline(admin.TabularInline):
    model = CalendarDay
    extra = 1


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(admin.ModelAdmin):
    list_display = ("name", "work_start", "work_end", "weekdays")
    inlines = (CalendarDayInline,)


@admin.register(FaultClass)
class FaultClassAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "repair_hours", "pause_states", "calendar", "is_default")
    list_editable = ()


@admin.register(TicketTypeMapping)
class TicketTypeMappingAdmin(admin.ModelAdmin):
    list_display = ("ticket_type", "fault_class")


@admin.register(EscalationContact)
class EscalationContactAdmin(admin.ModelAdmin):
    list_display = ("level", "name", "active")
    list_filter = ("level", "active")


class NotificationInline(ReadOnlyInline):
    model = Notification
    fields = (
        "sent_at",
        "topic",
        "enterprise",
        "channel",
        "recipient",
        "status",
        "batch_id",
        "detail",
    )
    readonly_fields = fields


@admin.register(MaintenanceWindow)
class MaintenanceWindowAdmin(TransitionAdminMixin, admin.ModelAdmin):
    transitions = (
        AdminTransition(
            "announce",
            _("发布通知（短信+邮件）"),
            lambda w, user, reason: services.maintenance_announce(window_id=w.pk, by=user),
        ),
        AdminTransition(
            "complete",
            _("业务已恢复（发送恢复通知）"),
            lambda w, user, reason: services.maintenance_complete(
                window_id=w.pk, by=user, note=reason
            ),
        ),
        AdminTransition(
            "cancel",
            _("取消"),
            lambda w, user, reason: services.maintenance_cancel(
                window_id=w.pk, by=user, reason=reason
            ),
            style="danger",
        ),
    )
    list_display = ("title", "kind", "starts_at", "ends_at", "state", "emergency", "announced_at")
    list_filter = ("state", "kind", "emergency")
    filter_horizontal = ("affected_servers", "affected_ports", "affected_service_codes")
    readonly_fields = ("state", "announced_at", "restored_at", "affected_enterprises_display")
    exclude = ("affected_enterprises", "created_by")
    inlines = (NotificationInline, StateChangeInline)

    @admin.display(description=_("受影响企业"))
    def affected_enterprises_display(self, obj):
        names = [e.name for e in obj.affected_enterprises.all()]
        return "、".join(names) or "—"

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if obj is not None and obj.state != MaintenanceWindow.State.DRAFT:
            readonly += [
                "title",
                "kind",
                "description",
                "starts_at",
                "ends_at",
                "emergency",
                "emergency_reason",
                "ismg_links",
                "affected_servers",
                "affected_ports",
                "affected_service_codes",
            ]
        if not request.user.has_perm("assurance.announce_emergency"):
            readonly += ["emergency", "emergency_reason"]
        return readonly

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "sent_at",
        "topic",
        "channel",
        "enterprise",
        "recipient",
        "status",
        "batch_id",
        "detail",
    )
    list_filter = ("channel", "status", "topic")
    actions = ("refresh_delivery",)

    @admin.action(description=_("刷新短信送达情况"))
    def refresh_delivery(self, request, queryset):
        changed = services.notification_delivery_refresh()
        messages.success(request, _("已更新 %(n)s 条") % {"n": changed})


@admin.register(SlaEvent)
class SlaEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("ticket", "level", "due_at", "raised_at")
    list_filter = ("level",)
