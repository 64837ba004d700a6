"""App configuration for billing."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BillingConfig(AppConfig):
    """Invoices, payments, late fees and dunning."""

    name = "billing"
    verbose_name = _("计费账务")
