"""App configuration for the shared kernel."""

from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    """Keeps each role's permissions in step with the models after every migrate."""

    name = "core"
    verbose_name = _("系统基础")
    role_permissions = {
        "department_head": [
            "core.view_statechange",
            "core.view_eventsubscription",
            "core.delete_eventsubscription",
            "core.view_outboxevent",
            "core.view_eventdelivery",
            "core.change_eventdelivery",
            "core.view_deliveryattempt",
        ],
        "customer_manager": ["core.view_statechange"],
        "noc_engineer": ["core.view_statechange"],
        "finance": ["core.view_statechange"],
    }

    def ready(self) -> None:
        from .roles import sync_role_permissions

        post_migrate.connect(sync_role_permissions, dispatch_uid="core.sync_role_permissions")
