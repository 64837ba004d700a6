"""Prometheus providers for fulfillment (core.metrics): orders, steps, codes, accounts.

Discovered by core (CoreConfig.ready imports every app's `observability` module); each
is one grouped COUNT on an indexed state column, run when Prometheus scrapes /metrics.
"""

from core.metrics import Sample, counts_by


def orders_by_state() -> list[Sample]:
    from fulfillment.models import Order

    return counts_by(Order.objects.all(), "state", Order.State.values)


def provisioning_steps_by_state() -> list[Sample]:
    from fulfillment.models import ProvisioningStep

    return counts_by(ProvisioningStep.objects.all(), "state", ProvisioningStep.State.values)


def service_codes_by_state() -> list[Sample]:
    from fulfillment.models import ServiceCode

    return counts_by(ServiceCode.objects.all(), "state", ServiceCode.State.values)


def cmpp_accounts_by_state() -> list[Sample]:
    from fulfillment.models import CmppAccount

    return counts_by(CmppAccount.objects.all(), "state", CmppAccount.State.values)


def register() -> None:
    """Feed the fulfillment metrics of core.metrics.CATALOGUE."""
    from core.metrics import register_collector

    register_collector("mas_fulfillment_orders", orders_by_state)
    register_collector("mas_fulfillment_provisioning_steps", provisioning_steps_by_state)
    register_collector("mas_fulfillment_service_codes", service_codes_by_state)
    register_collector("mas_fulfillment_cmpp_accounts", cmpp_accounts_by_state)


register()
