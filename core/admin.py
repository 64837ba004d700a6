"""Admin for users, roles, the state-change trail and the TMF event hub (subscriptions,
the outbox, deliveries and their attempts)."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from .admin_tools import (
    AdminTransition,
    ReadOnlyAdminMixin,
    ReadOnlyInline,
    StateChangeInline,
    TransitionAdminMixin,
)
from .auth import ThrottledAdminAuthenticationForm
from .models import (
    DeliveryAttempt,
    EventDelivery,
    EventSubscription,
    OutboxEvent,
    StateChange,
    User,
)

admin.site.login_form = ThrottledAdminAuthenticationForm


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """Staff and enterprise users; roles are the groups."""

    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        (_("联系方式"), {"fields": ("display_name", "mobile")}),
    )
    list_display = ("username", "display_name", "email", "is_staff", "is_active")
    search_fields = ("username", "display_name", "email")


@admin.register(StateChange)
class StateChangeAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Every state change in the system, for audits."""

    list_display = ("at", "content_type", "object_id", "field", "from_state", "to_state", "by")
    list_filter = ("content_type", "to_state")
    search_fields = ("reason",)
    date_hierarchy = "at"
    list_select_related = ("content_type", "by")


# ------------------------------------------------------------------ TMF event hub
@admin.register(EventSubscription)
class EventSubscriptionAdmin(admin.ModelAdmin):
    """Hub listeners registered over the TMF APIs (created by the API; removable here)."""

    list_display = ("api", "callback", "query", "owner", "enterprise_id", "created_at")
    list_filter = ("api",)
    search_fields = ("callback", "query", "owner__username")
    readonly_fields = ("api", "callback", "query", "owner", "enterprise_id", "created_at")
    list_select_related = ("owner",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class DeliveryInline(ReadOnlyInline):
    model = EventDelivery
    show_change_link = True
    fields = ("callback", "state", "attempt_count", "last_attempt_at", "delivered_at")
    readonly_fields = fields


@admin.register(OutboxEvent)
class OutboxEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The event outbox: every event written for hub subscribers, with its deliveries."""

    list_display = ("event_time", "api", "event_type", "event_id")
    list_filter = ("api", "event_type")
    search_fields = ("=event_id", "event_type")
    date_hierarchy = "event_time"
    fields = ("api", "event_type", "event_id", "event_time", "payload")
    readonly_fields = fields
    inlines = (DeliveryInline,)


class AttemptInline(ReadOnlyInline):
    model = DeliveryAttempt
    fields = ("number", "at", "succeeded", "status_code", "error")
    readonly_fields = fields


def _resend(obj, user, reason):
    from .services import event_delivery_resend

    return event_delivery_resend(delivery_id=obj.pk, by=user, reason=reason)


@admin.register(EventDelivery)
class EventDeliveryAdmin(TransitionAdminMixin, admin.ModelAdmin):
    """Deliveries of events to callbacks, each attempt with its HTTP status or error;
    a failed delivery can be sent again."""

    transitions = (AdminTransition("resend", _("重新投递"), _resend),)
    list_display = (
        "created_at",
        "event_type",
        "callback",
        "state",
        "attempt_count",
        "last_attempt_at",
        "delivered_at",
    )
    list_filter = ("state", "event__api", "event__event_type")
    search_fields = ("callback", "=event__event_id")
    list_select_related = ("event",)
    fields = (
        "event",
        "subscription",
        "callback",
        "state",
        "attempt_count",
        "last_attempt_at",
        "delivered_at",
        "created_at",
    )
    readonly_fields = fields
    inlines = (AttemptInline, StateChangeInline)
    actions = ("resend_selected",)

    @admin.display(description=_("事件类型"), ordering="event__event_type")
    def event_type(self, obj):
        return obj.event.event_type

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("重新投递所选的失败投递"))
    def resend_selected(self, request, queryset):
        from .services import event_delivery_resend

        failed = queryset.filter(state=EventDelivery.State.FAILED)
        count = 0
        for delivery in failed:
            event_delivery_resend(delivery_id=delivery.pk, by=request.user)
            count += 1
        self.message_user(request, _("已重新投递 %(n)d 条") % {"n": count})
