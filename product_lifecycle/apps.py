"""App configuration for the product catalog."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProductLifecycleConfig(AppConfig):
    """Product managers (department heads) edit the catalog; everyone on staff reads it."""

    name = "product_lifecycle"
    verbose_name = _("产品目录")
