"""App configuration for smsgw."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SmsgwConfig(AppConfig):
    """The SMS pipeline over CMPP (the protocol stack itself is smsgw.cmpp)."""

    name = "smsgw"
    verbose_name = _("短信网关")
