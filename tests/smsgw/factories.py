"""Factories for smsgw: a subscription ready to send, registered numbers, an operator account."""

import itertools

from core import crypto
from customers.models import RegisteredRecipient
from fulfillment.models import CmppAccount, Subscription
from smsgw.models import OperatorAccount
from tests.customers.factories import RegisteredRecipientFactory
from tests.fulfillment.factories import active_subscription

_numbers = itertools.count(1)
_sp = itertools.count(900001)


def next_mobile() -> str:
    return f"1370371{next(_numbers):04d}"


def sending_subscription(manager, *, recipients: int = 3, **kwargs) -> Subscription:
    """An active subscription (active CMPP account, approved signature) whose enterprise
    has `recipients` registered numbers (`registered_numbers(sub)` lists them)."""
    subscription = active_subscription(manager, **kwargs)
    assert subscription.account.state == CmppAccount.State.ACTIVE
    for _ in range(recipients):
        RegisteredRecipientFactory(enterprise=subscription.enterprise, msisdn=next_mobile())
    return subscription


def registered_numbers(subscription) -> list[str]:
    return list(
        RegisteredRecipient.objects.filter(enterprise_id=subscription.enterprise_id)
        .order_by("msisdn")
        .values_list("msisdn", flat=True)
    )


def operator_account(**kwargs) -> OperatorAccount:
    values = {
        "name": "郑州分公司客服",
        "sp_id": str(next(_sp)),
        "secret_encrypted": crypto.encrypt("operator-secret"),
        "service_code": "10658000",
        "signature": "【中国移动】",
        "ismg_host": "127.0.0.1",
        "ismg_port": 7890,
    }
    values.update(kwargs)
    return OperatorAccount.objects.create(**values)
