"""Write services for the catalog: the offering lifecycle and price revisions."""

import datetime as dt
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from core import clock
from core.models import User
from core.services import state_change_record

from .models import BundledOffering, ProductOffering, ProductOfferingPrice
from .selectors import offering_tariff

Component = ProductOfferingPrice.Component


def _transition(offering_id: int, by: User | None, reason: str, name: str, **kwargs):
    offering = ProductOffering.objects.select_for_update().get(pk=offering_id)
    before = offering.lifecycle_status
    getattr(offering, name)(**kwargs)
    offering.status_reason = reason[:200]
    offering.save()
    state_change_record(obj=offering, before=before, by=by, reason=reason, field="lifecycle_status")
    return offering


@transaction.atomic
def offering_design(*, offering_id: int, by: User | None, reason: str = "") -> ProductOffering:
    """In study → in design."""
    return _transition(offering_id, by, reason, "design")


@transaction.atomic
def offering_test(*, offering_id: int, by: User | None, reason: str = "") -> ProductOffering:
    """In design → in test."""
    return _transition(offering_id, by, reason, "test")


@transaction.atomic
def offering_redesign(*, offering_id: int, by: User | None, reason: str = "") -> ProductOffering:
    """In test → back to in design (the trial found a problem)."""
    return _transition(offering_id, by, reason, "redesign")


@transaction.atomic
def offering_launch(*, offering_id: int, by: User | None, reason: str = "") -> ProductOffering:
    """In test → launched: from now on it can be ordered.

    A sellable offering needs a complete current tariff (port fee, package fee with its
    allowance and overage price; or a bundle price), and a bundle needs its components.
    """
    offering = ProductOffering.objects.get(pk=offering_id)
    if offering.is_bundle and not offering.bundle_items.exists():
        raise ValidationError(_("一体化套餐上线前须至少包含一个产品"))
    offering_tariff(offering.pk, at=clock.now())  # raises ValidationError when incomplete
    return _transition(offering_id, by, reason, "launch", at=clock.now())


@transaction.atomic
def offering_retire(*, offering_id: int, by: User | None, reason: str) -> ProductOffering:
    """Launched → retired: no new orders; existing subscriptions keep running."""
    return _transition(offering_id, by, reason, "retire", at=clock.now())


@transaction.atomic
def offering_price_revise(
    *,
    offering_id: int,
    component: str,
    amount: Decimal,
    valid_from: dt.datetime,
    included_quantity: int | None = None,
    by: User | None = None,
    name: str = "",
) -> ProductOfferingPrice:
    """Set a new price for one component from `valid_from` on.

    The current row of that component ends where the new one starts; rows already in
    effect are never changed, so what was sold keeps its price. A new price cannot start
    in the past.
    """
    offering = ProductOffering.objects.select_for_update().get(pk=offering_id)
    if valid_from < clock.now() - dt.timedelta(minutes=1):
        raise ValidationError({"valid_from": _("新价格不能追溯生效")})
    if component == Component.BUNDLE and not offering.is_bundle:
        raise ValidationError({"component": _("只有一体化套餐才有套餐价")})
    open_rows = ProductOfferingPrice.objects.filter(
        offering=offering, component=component, valid_to__isnull=True
    )
    for previous in open_rows:
        if previous.valid_from >= valid_from:
            raise ValidationError({"valid_from": _("新价格须晚于现行价格的生效时间")})
        previous.valid_to = valid_from
        previous.save(update_fields=["valid_to", "updated_at"])
    price = ProductOfferingPrice(
        offering=offering,
        name=name or f"{offering.name} {Component(component).label}",
        component=component,
        price_type=ProductOfferingPrice.COMPONENT_PRICE_TYPES[component],
        recurring_period="" if component == Component.OVERAGE else "month",
        unit_of_measure="条" if component == Component.OVERAGE else "",
        amount=amount,
        included_quantity=included_quantity,
        valid_from=valid_from,
    )
    price.full_clean()
    price.save()
    return price


def price_is_in_effect(price: ProductOfferingPrice) -> bool:
    """Whether a price row has started applying (and may have been sold)."""
    return price.valid_from <= clock.now()


@transaction.atomic
def price_update(*, price_id: int, by: User | None = None, **fields) -> ProductOfferingPrice:
    """Edit a price row. Amounts and dates of a row already in effect are frozen."""
    frozen = {"amount", "included_quantity", "valid_from", "component", "offering"}
    price = ProductOfferingPrice.objects.select_for_update().get(pk=price_id)
    if price_is_in_effect(price) and frozen & set(fields):
        changed = {name for name in frozen & set(fields) if getattr(price, name) != fields[name]}
        if changed:
            raise ValidationError(
                _("价格已生效，不能修改%(fields)s；请新增一个价格版本")
                % {"fields": "、".join(sorted(changed))}
            )
    for name, value in fields.items():
        setattr(price, name, value)
    price.full_clean()
    price.save()
    return price


@transaction.atomic
def bundle_set_components(
    *, bundle_id: int, components: list[tuple[int, int]], by: User | None = None
) -> ProductOffering:
    """Make an offering a bundle of the given (offering id, quantity) pairs.

    Components must be ordinary offerings (bundles do not nest) and not the bundle itself.
    """
    bundle = ProductOffering.objects.select_for_update().get(pk=bundle_id)
    ids = [offering_id for offering_id, _quantity in components]
    if bundle.pk in ids:
        raise ValidationError(_("套餐不能包含自身"))
    found = ProductOffering.objects.filter(pk__in=ids)
    if found.count() != len(set(ids)):
        raise ValidationError(_("套餐内产品不存在"))
    if found.filter(is_bundle=True).exists():
        raise ValidationError(_("套餐不能嵌套套餐"))
    bundle.is_bundle = True
    bundle.save(update_fields=["is_bundle", "updated_at"])
    bundle.bundle_items.all().delete()
    BundledOffering.objects.bulk_create(
        BundledOffering(bundle=bundle, component_id=offering_id, quantity=quantity)
        for offering_id, quantity in components
    )
    return bundle
