"""App configuration for portal."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    """The enterprise self-service portal."""

    name = "portal"
    verbose_name = _("企业自助门户")
