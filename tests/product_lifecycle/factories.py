"""Factories for the catalog."""

import datetime as dt
from decimal import Decimal

import factory

from core import clock
from product_lifecycle import services
from product_lifecycle.models import ProductOffering, ProductSpecification


class ProductSpecificationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProductSpecification

    name = "集团短信 MAS"


class ProductOfferingFactory(factory.django.DjangoModelFactory):
    """An offering in study, with the MAS options."""

    class Meta:
        model = ProductOffering

    name = factory.Sequence(lambda n: f"集团短信MAS 测试版{n}")
    specification = factory.SubFactory(ProductSpecificationFactory)
    cmpp_versions = ["2.0", "3.0"]
    licensed_rate = 50
    max_links = 1


def priced_offering(
    *, port="100.00", package="300.00", included=10_000, overage="0.05", launch=True, **kwargs
) -> ProductOffering:
    """An offering with a complete tariff from half a minute ago, launched unless told otherwise."""
    offering = ProductOfferingFactory(**kwargs)
    start = clock.now() - dt.timedelta(seconds=30)
    for component, amount, quantity in (
        ("port_fee", port, None),
        ("package_fee", package, included),
        ("overage", overage, None),
    ):
        services.offering_price_revise(
            offering_id=offering.pk,
            component=component,
            amount=Decimal(amount),
            included_quantity=quantity,
            valid_from=start,
        )
    if launch:
        for step in (services.offering_design, services.offering_test, services.offering_launch):
            step(offering_id=offering.pk, by=None)
    return ProductOffering.objects.get(pk=offering.pk)
