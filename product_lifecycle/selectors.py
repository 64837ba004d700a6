"""Read queries for the catalog: what can be ordered and at what price."""

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from .models import ProductOffering, ProductOfferingPrice

Component = ProductOfferingPrice.Component


@dataclass(frozen=True)
class Tariff:
    """The prices of an offering at one moment, as sold on an order (第9条).

    For a bundle, `bundle_price` is the monthly price of the whole bundle and the
    component prices of its parts do not apply separately.
    """

    port_fee: Decimal
    package_fee: Decimal
    included_messages: int
    overage_price: Decimal
    bundle_price: Decimal | None = None
    price_ids: tuple[int, ...] = field(default=())

    @property
    def monthly_total(self) -> Decimal:
        """What one full month costs before any overage."""
        if self.bundle_price is not None:
            return self.bundle_price
        return self.port_fee + self.package_fee


def prices_valid_at(offering_id: int, at: dt.datetime) -> QuerySet[ProductOfferingPrice]:
    """The offering's price rows in effect at `at`."""
    return ProductOfferingPrice.objects.filter(offering_id=offering_id, valid_from__lte=at).filter(
        Q(valid_to__isnull=True) | Q(valid_to__gt=at)
    )


def offering_tariff(offering_id: int, *, at: dt.datetime) -> Tariff:
    """The complete tariff of an offering at `at`; ValidationError names what is missing."""
    offering = ProductOffering.objects.get(pk=offering_id)
    rows = {row.component: row for row in prices_valid_at(offering_id, at)}
    if offering.is_bundle:
        bundle = rows.get(Component.BUNDLE)
        if bundle is None:
            raise ValidationError(_("“%(name)s”没有现行的套餐价") % {"name": offering.name})
        package = rows.get(Component.PACKAGE_FEE)
        overage = rows.get(Component.OVERAGE)
        return Tariff(
            port_fee=Decimal("0.00"),
            package_fee=Decimal("0.00"),
            included_messages=package.included_quantity if package else 0,
            overage_price=overage.amount if overage else Decimal("0.00"),
            bundle_price=bundle.amount,
            price_ids=tuple(sorted(row.pk for row in rows.values())),
        )
    missing = [
        str(Component(c).label)
        for c in (Component.PORT_FEE, Component.PACKAGE_FEE, Component.OVERAGE)
        if c not in rows
    ]
    if missing:
        raise ValidationError(
            _("“%(name)s”缺少现行价格：%(missing)s")
            % {"name": offering.name, "missing": "、".join(missing)}
        )
    return Tariff(
        port_fee=rows[Component.PORT_FEE].amount,
        package_fee=rows[Component.PACKAGE_FEE].amount,
        included_messages=rows[Component.PACKAGE_FEE].included_quantity or 0,
        overage_price=rows[Component.OVERAGE].amount,
        price_ids=tuple(sorted(row.pk for row in rows.values())),
    )


def launched_offerings() -> QuerySet[ProductOffering]:
    """Offerings that can be ordered now."""
    return ProductOffering.objects.filter(
        lifecycle_status=ProductOffering.Lifecycle.LAUNCHED
    ).select_related("specification")
