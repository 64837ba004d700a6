"""Fulfillment models (eTOM OPS Fulfillment): inventory, orders, subscriptions, contracts.

- `inventory`: the service code pool (1069 codes) and the MAS servers with their ports.
- `orders`: TMF622-shaped product orders, their items and recorded provisioning steps.
- `subscriptions`: product instances and the CMPP accounts the sender logs in with.
- `contracts`: one agreement per subscription, its renewals and supplementary agreements.
"""

from .common import InterfaceType, Sequence, TariffSnapshot
from .contracts import Contract, SupplementaryAgreement
from .inventory import MasPort, MasServer, ServiceCode, ServiceCodeBlock
from .orders import CancellationRequest, Order, OrderItem, ProvisioningStep
from .subscriptions import CmppAccount, Subscription

__all__ = [
    "CancellationRequest",
    "CmppAccount",
    "Contract",
    "InterfaceType",
    "MasPort",
    "MasServer",
    "Order",
    "OrderItem",
    "ProvisioningStep",
    "Sequence",
    "ServiceCode",
    "ServiceCodeBlock",
    "Subscription",
    "SupplementaryAgreement",
    "TariffSnapshot",
]
