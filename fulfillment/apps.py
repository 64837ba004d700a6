"""App configuration for fulfillment."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

_INVENTORY = ("servicecodeblock", "servicecode", "masserver", "masport")
_ORDERS_READ = ("order", "orderitem", "provisioningstep", "cancellationrequest")
_SERVICE_READ = ("subscription", "cmppaccount", "contract", "supplementaryagreement")


def _perms(action: str, models: tuple[str, ...]) -> list[str]:
    return [f"fulfillment.{action}_{model}" for model in models]


class FulfillmentConfig(AppConfig):
    """Orders, resource inventory, subscriptions and contracts.

    Customer managers create and follow orders for their own enterprises (rows are
    scoped with customers.selectors.enterprises_visible_to), see the inventory, reveal a
    new account's secret once and download contract PDFs; department heads also see
    every enterprise (customers.view_all_enterprises), override the one-month notice of
    第11条 and maintain the inventory; NOC engineers read the inventory and the
    subscriptions; finance reads subscriptions and contracts.
    """

    name = "fulfillment"
    verbose_name = _("业务开通")
    demo_seed = "fulfillment.demo.seed"
    role_permissions = {
        "customer_manager": [
            *_perms("view", _ORDERS_READ + _SERVICE_READ + _INVENTORY),
            "fulfillment.add_order",
            "fulfillment.change_order",
            "fulfillment.add_cancellationrequest",
            "fulfillment.change_subscription",
            "fulfillment.change_contract",
            "fulfillment.reveal_secret",
            "fulfillment.download_contract_pdf",
        ],
        "department_head": [
            "fulfillment.override_notice_period",
            *_perms("add", _INVENTORY),
            *_perms("change", _INVENTORY),
        ],
        "noc_engineer": [
            *_perms("view", _INVENTORY),
            "fulfillment.view_subscription",
            "fulfillment.view_cmppaccount",
        ],
        "finance": [
            "fulfillment.view_subscription",
            "fulfillment.view_contract",
            "fulfillment.view_supplementaryagreement",
            "fulfillment.download_contract_pdf",
        ],
    }
