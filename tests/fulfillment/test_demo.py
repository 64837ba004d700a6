"""seed_demo: real subscriptions built through the services, idempotent, secrets unprinted."""

import pytest
from django.core.management import call_command

from core import crypto
from fulfillment.models import CmppAccount, Order, Subscription

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_demo_gives_most_enterprises_a_live_subscription(capsys):
    call_command("seed_demo")
    first = capsys.readouterr().out
    call_command("seed_demo")  # a second run adds nothing
    assert Subscription.objects.filter(state="active").count() == 10
    accounts = CmppAccount.objects.filter(state="active")
    assert accounts.count() == 10
    assert len(set(accounts.values_list("access_ip", flat=True))) == 10
    assert {len(crypto.decrypt(a.secret_encrypted)) for a in accounts} == {16}
    assert Order.objects.filter(state="pending").count() == 1
    rejected = Order.objects.get(state="rejected")
    assert {r["rule"] for r in rejected.rejection_reasons} == {"第5条第6款", "第6条第4款"}
    assert Order.objects.filter(state="acknowledged", items__action="modify").count() == 1
    for account in accounts:
        assert crypto.decrypt(account.secret_encrypted) not in first
    assert "在用业务 10 个" in first
