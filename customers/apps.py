"""App configuration for the enterprise file."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

_MANAGER_PERMS = [
    f"customers.{action}_{model}"
    for model in ("enterprise", "contact", "registeredrecipient", "signature")
    for action in ("view", "add", "change")
] + [
    "customers.view_churnwarning",
    "customers.change_churnwarning",
    "customers.review_signature",
    "customers.delete_contact",
    "customers.view_enterprisemembership",
    "customers.add_enterprisemembership",
    "customers.change_enterprisemembership",
]


class CustomersConfig(AppConfig):
    """Customer managers keep the file; NOC and finance read it."""

    name = "customers"
    verbose_name = _("集团客户")
    demo_seed = "customers.demo.seed"
    role_permissions = {
        "customer_manager": _MANAGER_PERMS,
        "department_head": [
            "customers.view_all_enterprises",
            "customers.view_apitoken",
            "customers.add_apitoken",
            "customers.change_apitoken",
        ],
        "noc_engineer": ["customers.view_enterprise", "customers.view_contact"],
        "finance": ["customers.view_enterprise", "customers.view_contact"],
    }
