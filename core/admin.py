"""Admin for users, roles and the state-change trail."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from .admin_tools import ReadOnlyAdminMixin
from .auth import ThrottledAdminAuthenticationForm
from .models import StateChange, User

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
