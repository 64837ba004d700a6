"""App configuration for assurance."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AssuranceConfig(AppConfig):
    """Trouble tickets and the repair clocks."""

    name = "assurance"
    verbose_name = _("故障与保障")
