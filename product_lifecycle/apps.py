"""App configuration for the product catalog."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProductLifecycleConfig(AppConfig):
    """Product managers (department heads) edit the catalog; everyone on staff reads it."""

    name = "product_lifecycle"
    verbose_name = _("产品目录")
    demo_seed = "product_lifecycle.demo.seed"
    role_permissions = {
        "department_head": [
            f"product_lifecycle.{action}_{model}"
            for model in (
                "catalog",
                "category",
                "productspecification",
                "productoffering",
                "productofferingprice",
                "bundledoffering",
            )
            for action in ("view", "add", "change")
        ],
        "customer_manager": [
            "product_lifecycle.view_productoffering",
            "product_lifecycle.view_productofferingprice",
            "product_lifecycle.view_productspecification",
        ],
        "finance": [
            "product_lifecycle.view_productoffering",
            "product_lifecycle.view_productofferingprice",
        ],
    }
