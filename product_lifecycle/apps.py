"""App configuration for the product catalog."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

_MODELS = (
    "catalog",
    "category",
    "productspecification",
    "productoffering",
    "productofferingprice",
    "bundledoffering",
)
_READ = [f"product_lifecycle.view_{model}" for model in _MODELS]


class ProductLifecycleConfig(AppConfig):
    """Product managers (department heads) edit the catalog; everyone on staff reads it
    (in the admin and over TMF620)."""

    name = "product_lifecycle"
    verbose_name = _("产品目录")
    demo_seed = "product_lifecycle.demo.seed"
    role_permissions = {
        "department_head": [
            f"product_lifecycle.{action}_{model}"
            for model in _MODELS
            for action in ("view", "add", "change")
        ],
        "customer_manager": _READ,
        "noc_engineer": _READ,
        "finance": _READ,
    }
