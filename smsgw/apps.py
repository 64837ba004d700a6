"""App configuration for smsgw."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

_TRAFFIC = ("sendrequest", "message", "segment", "momessage", "noticebatch", "dailyusage")
_POLICY = ("forbiddenterm", "screeningrefusal", "extension")
_OPERATIONS = ("linkstate", "operatoraccount", "webhookendpoint", "webhookdelivery")


def _perms(action: str, models: tuple[str, ...]) -> list[str]:
    return [f"smsgw.{action}_{model}" for model in models]


class SmsgwConfig(AppConfig):
    """The SMS pipeline over CMPP (the protocol stack itself is smsgw.cmpp).

    Enterprise users send and read their own traffic (admins also configure the
    webhook); customer managers read their enterprises' traffic with masked numbers;
    NOC engineers see links and every message in full (view_full_number), keep the
    forbidden-term list and resend webhooks; department heads also manage the operator
    account; finance reads usage.
    """

    name = "smsgw"
    verbose_name = _("短信网关")
    demo_seed = "smsgw.demo.seed"
    role_permissions = {
        "enterprise_admin": [
            "smsgw.add_sendrequest",
            *_perms("view", _TRAFFIC),
            "smsgw.view_webhookendpoint",
            "smsgw.change_webhookendpoint",
        ],
        "enterprise_operator": [
            "smsgw.add_sendrequest",
            *_perms("view", ("sendrequest", "message", "segment", "momessage", "dailyusage")),
        ],
        "customer_manager": [
            *_perms("view", _TRAFFIC + _POLICY + ("webhookendpoint", "webhookdelivery")),
        ],
        "noc_engineer": [
            *_perms("view", _TRAFFIC + _POLICY + _OPERATIONS),
            "smsgw.view_full_number",
            "smsgw.add_forbiddenterm",
            "smsgw.change_forbiddenterm",
            "smsgw.add_extension",
            "smsgw.change_extension",
            "smsgw.change_webhookdelivery",
        ],
        "department_head": [
            *_perms("view", _TRAFFIC + _POLICY + _OPERATIONS),
            "smsgw.view_full_number",
            "smsgw.add_forbiddenterm",
            "smsgw.change_forbiddenterm",
            "smsgw.delete_forbiddenterm",
            "smsgw.add_operatoraccount",
            "smsgw.change_operatoraccount",
            "smsgw.change_webhookdelivery",
        ],
        "finance": [*_perms("view", ("dailyusage", "sendrequest"))],
    }
