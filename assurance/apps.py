"""App configuration for assurance."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

_TICKETS = ("ticket", "ticketnote", "ticketattachment")
_TRAIL = ("slapause", "slaevent", "notification")
_CONFIG = ("faultclass", "tickettypemapping", "businesscalendar", "calendarday")


def _perms(action: str, models: tuple[str, ...]) -> list[str]:
    return [f"assurance.{action}_{model}" for model in models]


class AssuranceConfig(AppConfig):
    """Trouble tickets, the repair clocks, the NOC queue and maintenance notices.

    NOC engineers work the tickets (claim, transitions, notes, reclassification),
    maintain maintenance windows and read the configuration; they hold nothing of
    billing. Department heads also exclude tickets from the statistics (force majeure),
    configure fault classes, calendars and escalation contacts, and may announce an
    emergency with less than 24 hours' notice. Customer managers read tickets and open
    them for their enterprises. Enterprise users have no model permissions: the portal
    and the TMF621 API scope them to their own enterprise's tickets and public notes.
    """

    name = "assurance"
    verbose_name = _("故障与保障")
    demo_seed = "assurance.demo.seed"
    role_permissions = {
        "noc_engineer": [
            *_perms("view", _TICKETS + _TRAIL + _CONFIG),
            *_perms("add", _TICKETS),
            "assurance.change_ticket",
            "assurance.claim_ticket",
            "assurance.view_noc_queue",
            "assurance.view_sla_report",
            "assurance.view_escalationcontact",
            "assurance.view_maintenancewindow",
            "assurance.add_maintenancewindow",
            "assurance.change_maintenancewindow",
        ],
        "department_head": [
            *_perms("view", _TICKETS + _TRAIL + _CONFIG),
            *_perms("add", _TICKETS),
            "assurance.change_ticket",
            "assurance.claim_ticket",
            "assurance.exclude_ticket",
            "assurance.view_noc_queue",
            "assurance.view_sla_report",
            *_perms("add", (*_CONFIG, "escalationcontact")),
            *_perms("change", (*_CONFIG, "escalationcontact")),
            "assurance.view_escalationcontact",
            "assurance.view_maintenancewindow",
            "assurance.add_maintenancewindow",
            "assurance.change_maintenancewindow",
            "assurance.announce_emergency",
        ],
        "customer_manager": [
            "assurance.view_ticket",
            "assurance.add_ticket",
            "assurance.view_ticketnote",
            "assurance.add_ticketnote",
            "assurance.view_maintenancewindow",
            "assurance.view_sla_report",
        ],
    }

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from .defaults import ensure_fault_classes

        post_migrate.connect(
            ensure_fault_classes, sender=self, dispatch_uid="assurance.ensure_fault_classes"
        )
