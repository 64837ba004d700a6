"""Prices: versions by validity period. A price in effect is never rewritten (it may have
been sold); a change is a new version from a later start."""

import datetime as dt
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from core import clock
from core.models import User

from ..models import (
    ProductOffering,
    ProductOfferingPrice,
)
from .base import publish

Component = ProductOfferingPrice.Component


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
        publish(previous, "ProductOfferingPriceAttributeValueChangeEvent")
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
    publish(price, "ProductOfferingPriceCreateEvent")
    return price


def price_is_in_effect(price: ProductOfferingPrice) -> bool:
    """Whether a price row has started applying (and may have been sold)."""
    return price.valid_from <= clock.now()


class PriceFrozenError(ValidationError):
    """A change to a price already in effect (it may have been sold): make a new version.

    Its code is "conflict": the APIs answer 409 (core.tmf.errors).
    """

    def __init__(self, message):
        super().__init__(message, code="conflict")


PRICE_FROZEN_FIELDS = ("amount", "currency", "included_quantity", "valid_from", "component")


@transaction.atomic
def price_update(*, price_id: int, by: User | None = None, **fields) -> ProductOfferingPrice:
    """Edit a price row. Amounts and dates of a row already in effect are frozen.

    Raises PriceFrozenError (a ValidationError) naming the frozen fields it would change.
    """
    if "offering" in fields or "offering_id" in fields:
        raise ValidationError(_("价格所属产品请在产品上调整"))
    price = ProductOfferingPrice.objects.select_for_update().get(pk=price_id)
    if price_is_in_effect(price):
        changed = {
            name
            for name in PRICE_FROZEN_FIELDS
            if name in fields and getattr(price, name) != fields[name]
        }
        if changed:
            raise PriceFrozenError(
                _("价格已生效，不能修改%(fields)s；请新增一个价格版本")
                % {"fields": "、".join(sorted(changed))}
            )
    before_status = price.lifecycle_status
    for name, value in fields.items():
        setattr(price, name, value)
    price.full_clean()
    price.save()
    publish(price, "ProductOfferingPriceAttributeValueChangeEvent")
    if price.lifecycle_status != before_status:
        publish(price, "ProductOfferingPriceStateChangeEvent")
    return price


@transaction.atomic
def price_create(*, by: User | None = None, **fields) -> ProductOfferingPrice:
    """Record a price on its own (TMF620 POST productOfferingPrice).

    It is attached to an offering afterwards (`offering_update(price_ids=...)`), where the
    rules on versions apply. Without a start it applies from now.
    """
    fields.setdefault("valid_from", clock.now())
    price = ProductOfferingPrice(offering=None, **fields)
    price.full_clean()
    price.save()
    publish(price, "ProductOfferingPriceCreateEvent")
    return price


@transaction.atomic
def price_delete(*, price_id: int, by: User | None = None) -> None:
    """Delete a price that was never sold: not attached to an offering, or not yet in
    effect. A future version removed gives the version before it back its open end."""
    price = ProductOfferingPrice.objects.select_for_update().get(pk=price_id)
    if price.offering_id is not None and price_is_in_effect(price):
        raise PriceFrozenError(_("价格已生效，不能删除；请新增一个价格版本"))
    if price.offering_id is not None:
        previous = ProductOfferingPrice.objects.filter(
            offering_id=price.offering_id, component=price.component, valid_to=price.valid_from
        ).first()
        if previous is not None:
            previous.valid_to = price.valid_to
            previous.save(update_fields=["valid_to", "updated_at"])
            publish(previous, "ProductOfferingPriceAttributeValueChangeEvent")
    publish(price, "ProductOfferingPriceDeleteEvent")
    price.delete()


def offering_prices_set(offering: ProductOffering, price_ids: list[int]) -> None:
    """Make the offering's prices exactly `price_ids` (TMF620 productOfferingPrice refs).

    A price leaves an offering only if it was never sold with it (the offering never
    launched, or the price not yet in effect). A price joins only if it stands alone;
    on a launched offering it cannot start in the past; for its component it must start
    after the current version, which then ends where it starts (as a revision does).
    """
    now = clock.now()
    current = set(offering.prices.values_list("pk", flat=True))
    wanted = list(dict.fromkeys(price_ids))
    for price in ProductOfferingPrice.objects.filter(pk__in=current - set(wanted)):
        if offering.launched_at is not None and price_is_in_effect(price):
            raise PriceFrozenError(
                _("价格“%(name)s”已生效且产品已上线，不能移除；请新增一个价格版本")
                % {"name": price.name}
            )
        price.offering = None
        price.save(update_fields=["offering", "updated_at"])
    # Ordered on the row itself: the model's default ordering joins the nullable offering,
    # and PostgreSQL refuses FOR UPDATE on the nullable side of an outer join.
    joining = (
        ProductOfferingPrice.objects.select_for_update()
        .filter(pk__in=set(wanted) - current)
        .order_by("valid_from", "pk")
    )
    for price in joining:
        if price.offering_id is not None:
            raise ValidationError(_("价格“%(name)s”已属于其他产品") % {"name": price.name})
        if offering.launched_at is not None and price.valid_from < now - dt.timedelta(minutes=1):
            raise ValidationError(
                _("已上线产品的新价格不能追溯生效（价格“%(name)s”）") % {"name": price.name}
            )
        if price.component == Component.BUNDLE and not offering.is_bundle:
            raise ValidationError({"component": _("只有一体化套餐才有套餐价")})
        if price.amount is None:
            raise ValidationError(_("价格“%(name)s”没有金额，不能用于产品") % {"name": price.name})
        if price.component:
            for previous in ProductOfferingPrice.objects.filter(
                offering=offering, component=price.component, valid_to__isnull=True
            ):
                if previous.valid_from >= price.valid_from:
                    raise ValidationError({"valid_from": _("新价格须晚于现行价格的生效时间")})
                previous.valid_to = price.valid_from
                previous.save(update_fields=["valid_to", "updated_at"])
                publish(previous, "ProductOfferingPriceAttributeValueChangeEvent")
        price.offering = offering
        price.full_clean()
        price.save()
        publish(price, "ProductOfferingPriceAttributeValueChangeEvent")
