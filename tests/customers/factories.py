"""Factories for the enterprise file."""

import datetime as dt

import factory

from customers.credit_code import make_credit_code
from customers.models import Contact, Enterprise, RegisteredRecipient, Signature


class EnterpriseFactory(factory.django.DjangoModelFactory):
    """A prospect enterprise in Zhengzhou with a valid credit code."""

    class Meta:
        model = Enterprise

    name = factory.Sequence(lambda n: f"郑州测试{n}号科技有限公司")
    credit_code = factory.Sequence(lambda n: make_credit_code(region="410100", serial=50000000 + n))
    city = "郑州市"
    brands = factory.Sequence(lambda n: f"测试{n}号")


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    enterprise = factory.SubFactory(EnterpriseFactory)
    name = factory.Faker("name", locale="zh_CN")
    role = "信息部经理"
    mobile = factory.Sequence(lambda n: f"1380371{n:04d}")
    is_primary = False


class RegisteredRecipientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RegisteredRecipient

    enterprise = factory.SubFactory(EnterpriseFactory)
    msisdn = factory.Sequence(lambda n: f"1390037{n:04d}")
    consent_source = "纸质登记表"
    consented_at = factory.LazyFunction(lambda: dt.datetime(2026, 1, 1, tzinfo=dt.UTC))


class SignatureFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Signature

    enterprise = factory.SubFactory(EnterpriseFactory)
    text = "【测试】"


def active_enterprise(manager, **kwargs) -> Enterprise:
    """An active enterprise managed by `manager`, with a primary contact, via the services."""
    from customers import services

    enterprise = EnterpriseFactory(account_manager=manager, **kwargs)
    ContactFactory(enterprise=enterprise, is_primary=True)
    return services.enterprise_activate(enterprise_id=enterprise.pk, by=manager)
