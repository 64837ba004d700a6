"""Admin building blocks shared by every app: transition buttons and state-change history.

A ModelAdmin that mixes in `TransitionAdminMixin` and lists `AdminTransition`s shows one
button per transition the object may take now (and the user may perform), with a reason
box; pressing one calls the app's service, so the admin never changes state itself.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib import admin, messages
from django.contrib.contenttypes.admin import GenericTabularInline
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.utils.translation import gettext_lazy as _
from django_fsm import TransitionNotAllowed

from .models import StateChange


@dataclass(frozen=True)
class AdminTransition:
    """One button: the model transition it stands for and the service that performs it.

    `perform(obj, user, reason)` calls the service. `permission` (app_label.codename),
    when given, is required in addition to the change permission.
    """

    name: str
    label: str
    perform: Callable
    permission: str | None = None
    reason_required: bool = False
    style: str = "default"


class TransitionAdminMixin:
    """Adds allowed-transition buttons to the change form of a state-machine model."""

    change_form_template = "admin/core/transition_change_form.html"
    state_field = "state"
    transitions: tuple[AdminTransition, ...] = ()

    def available_transitions(self, request, obj) -> list[AdminTransition]:
        """The transitions `obj` can take from its current state that `request.user` may do."""
        if obj is None or not self.has_change_permission(request, obj):
            return []
        getter = getattr(obj, f"get_available_{self.state_field}_transitions")
        possible = {t.name for t in getter()}
        return [
            t
            for t in self.transitions
            if t.name in possible and (t.permission is None or request.user.has_perm(t.permission))
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id) if object_id else None
        if request.method == "POST" and "_transition" in request.POST and obj is not None:
            return self._perform_transition(request, obj)
        extra_context = dict(extra_context or {})
        extra_context["transition_buttons"] = self.available_transitions(request, obj)
        return super().change_view(request, object_id, form_url, extra_context)

    def _perform_transition(self, request, obj):
        name = request.POST["_transition"]
        reason = request.POST.get("_transition_reason", "").strip()
        chosen = next((t for t in self.available_transitions(request, obj) if t.name == name), None)
        if chosen is None:
            raise PermissionDenied(_("当前状态下不允许该操作"))
        if chosen.reason_required and not reason:
            messages.error(request, _("“%(action)s”须填写原因") % {"action": chosen.label})
        else:
            try:
                chosen.perform(obj, request.user, reason)
            except (ValidationError, TransitionNotAllowed) as exc:
                text = "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
                messages.error(request, text)
            else:
                messages.success(request, _("已执行：%(action)s") % {"action": chosen.label})
        return HttpResponseRedirect(request.get_full_path())


class StateChangeInline(GenericTabularInline):
    """The object's recorded state changes, read-only, newest first."""

    model = StateChange
    extra = 0
    can_delete = False
    fields = ("at", "field", "from_state", "to_state", "by", "reason")
    readonly_fields = fields
    ordering = ("-at", "-id")
    verbose_name = _("状态变更")
    verbose_name_plural = _("状态变更记录")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ReadOnlyInline(admin.TabularInline):
    """A record's history rows (notes, attempts, segments, pauses, …) shown under it but
    never added or deleted from the admin: services write them. Subclasses name the model
    and its fields, and make the fields read-only."""

    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class ReadOnlyAdminMixin:
    """For records that are written only by services (audit trails, logs)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


admin.site.site_header = _("集团短信 MAS 运营支撑系统")
admin.site.site_title = _("MAS 运营支撑")
admin.site.index_title = _("工作台")


@dataclass(frozen=True)
class WorkbenchLink:
    """A page beyond the model lists (a worklist, a queue, a report) shown on the admin
    index to the users holding `permission` (any staff user when None)."""

    label: str
    url_name: str
    permission: str | None = None
    description: str = ""


WORKBENCH_LINKS: list[WorkbenchLink] = []


def register_workbench_link(link: WorkbenchLink) -> None:
    """Called from an app's admin module to put its page on the admin index."""
    if link not in WORKBENCH_LINKS:
        WORKBENCH_LINKS.append(link)
