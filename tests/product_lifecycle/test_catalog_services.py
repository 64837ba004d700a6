import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django_fsm import TransitionNotAllowed

from product_lifecycle import selectors, services
from product_lifecycle.models import ProductOffering
from tests.product_lifecycle.factories import ProductOfferingFactory, priced_offering

pytestmark = pytest.mark.django_db


def test_an_offering_walks_its_lifecycle_and_only_launched_is_orderable(clock):
    offering = priced_offering(launch=False)
    assert not offering.is_orderable
    with pytest.raises(TransitionNotAllowed):
        services.offering_launch(offering_id=offering.pk, by=None)
    services.offering_design(offering_id=offering.pk, by=None)
    services.offering_test(offering_id=offering.pk, by=None)
    services.offering_redesign(offering_id=offering.pk, by=None, reason="试点发现问题")
    services.offering_test(offering_id=offering.pk, by=None)
    launched = services.offering_launch(offering_id=offering.pk, by=None)
    assert launched.is_orderable and launched.launched_at == clock.now()
    assert list(selectors.launched_offerings()) == [launched]
    retired = services.offering_retire(offering_id=offering.pk, by=None, reason="换代")
    assert not retired.is_orderable


def test_launch_needs_a_complete_tariff(clock):
    offering = ProductOfferingFactory()
    services.offering_design(offering_id=offering.pk, by=None)
    services.offering_test(offering_id=offering.pk, by=None)
    with pytest.raises(ValidationError, match="缺少现行价格"):
        services.offering_launch(offering_id=offering.pk, by=None)
    assert ProductOffering.objects.get(pk=offering.pk).lifecycle_status == "In test"


def test_a_price_revision_applies_from_its_date_and_keeps_the_old_price(clock):
    offering = priced_offering(package="300.00", included=10_000)
    sold = selectors.offering_tariff(offering.pk, at=clock.now())
    change_at = clock.now() + dt.timedelta(days=30)

    services.offering_price_revise(
        offering_id=offering.pk,
        component="package_fee",
        amount=Decimal("350.00"),
        included_quantity=12_000,
        valid_from=change_at,
    )

    assert selectors.offering_tariff(offering.pk, at=clock.now()) == sold
    later = selectors.offering_tariff(offering.pk, at=change_at)
    assert (later.package_fee, later.included_messages) == (Decimal("350.00"), 12_000)
    assert later.port_fee == sold.port_fee


def test_a_price_cannot_be_revised_into_the_past_or_edited_once_in_effect(clock):
    offering = priced_offering()
    with pytest.raises(ValidationError):
        services.offering_price_revise(
            offering_id=offering.pk,
            component="overage",
            amount=Decimal("0.01"),
            valid_from=clock.now() - dt.timedelta(days=1),
        )
    current = selectors.prices_valid_at(offering.pk, clock.now()).get(component="overage")
    with pytest.raises(ValidationError, match="价格已生效"):
        services.price_update(price_id=current.pk, amount=Decimal("0.01"))
    services.price_update(price_id=current.pk, description="按条计费")


def test_a_bundle_has_its_own_price_and_does_not_nest(clock):
    sms = priced_offering()
    other = priced_offering()
    bundle = ProductOfferingFactory(name="一体化套餐")
    services.bundle_set_components(bundle_id=bundle.pk, components=[(sms.pk, 1), (other.pk, 1)])
    services.offering_price_revise(
        offering_id=bundle.pk,
        component="bundle",
        amount=Decimal("1500.00"),
        valid_from=clock.now(),
    )
    tariff = selectors.offering_tariff(bundle.pk, at=clock.now())
    assert tariff.bundle_price == Decimal("1500.00") and tariff.monthly_total == Decimal("1500.00")
    outer = ProductOfferingFactory(name="套餐的套餐")
    with pytest.raises(ValidationError, match="嵌套"):
        services.bundle_set_components(bundle_id=outer.pk, components=[(bundle.pk, 1)])
    with pytest.raises(ValidationError, match="自身"):
        services.bundle_set_components(bundle_id=bundle.pk, components=[(bundle.pk, 1)])
