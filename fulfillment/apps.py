"""App configuration for fulfillment."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FulfillmentConfig(AppConfig):
    """Orders, resource inventory, subscriptions and contracts."""

    name = "fulfillment"
    verbose_name = _("业务开通")
