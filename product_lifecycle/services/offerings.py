"""Offerings: the lifecycle (in study → in design → in test → launched → retired),
attributes, bundles and deletion."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from core import clock
from core.models import User
from core.services import state_change_record

from ..models import (
    BundledOffering,
    ProductOffering,
    ProductOfferingPrice,
)
from ..selectors import offering_tariff
from .base import publish, refuse_unknown
from .prices import offering_prices_set

Component = ProductOfferingPrice.Component


def _transition(offering_id: int, by: User | None, reason: str, name: str, **kwargs):
    offering = ProductOffering.objects.select_for_update().get(pk=offering_id)
    before = offering.lifecycle_status
    getattr(offering, name)(**kwargs)
    offering.status_reason = reason[:200]
    offering.save()
    state_change_record(obj=offering, before=before, by=by, reason=reason, field="lifecycle_status")
    publish(offering, "ProductOfferingStateChangeEvent")
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
    publish(bundle, "ProductOfferingAttributeValueChangeEvent")
    return bundle


# ------------------------------------------------------------- offerings (TMF620)
OFFERING_FIELDS = {
    "name",
    "description",
    "version",
    "status_reason",
    "specification",
    "is_sellable",
    "is_bundle",
    "cmpp_versions",
    "licensed_rate",
    "max_links",
    "valid_from",
    "valid_to",
    "tmf_extra",
    "tmf_lifecycle_status",
    "tmf_lifecycle_status_for",
}


def _offering_relations(offering, *, categories, components, price_ids) -> None:
    if categories is not None:
        offering.categories.set(categories)
    if components is not None:
        if components:
            bundle_set_components(bundle_id=offering.pk, components=components)
        else:
            offering.bundle_items.all().delete()
    if price_ids is not None:
        offering_prices_set(offering, price_ids)


@transaction.atomic
def offering_create(
    *,
    by: User | None,
    categories=None,
    components: list[tuple[int, int]] | None = None,
    price_ids: list[int] | None = None,
    **fields,
) -> ProductOffering:
    """Record a new offering (in study); bundles, categories and prices as given."""
    refuse_unknown(fields, OFFERING_FIELDS)
    offering = ProductOffering(**fields)
    offering.full_clean(exclude=["lifecycle_status"])
    offering.save()
    _offering_relations(offering, categories=categories, components=components, price_ids=price_ids)
    offering.refresh_from_db()
    publish(offering, "ProductOfferingCreateEvent")
    return offering


@transaction.atomic
def offering_update(
    *,
    offering_id: int,
    by: User | None,
    categories=None,
    components: list[tuple[int, int]] | None = None,
    price_ids: list[int] | None = None,
    **fields,
) -> ProductOffering:
    """Change an offering's attributes (never its lifecycle: use the transitions).

    Changes apply to new orders; what was sold keeps its terms (subscriptions and orders
    record the tariff's price rows).
    """
    refuse_unknown(fields, OFFERING_FIELDS)
    offering = ProductOffering.objects.select_for_update().get(pk=offering_id)
    for name, value in fields.items():
        setattr(offering, name, value)
    offering.full_clean(exclude=["lifecycle_status"])
    offering.save()
    _offering_relations(offering, categories=categories, components=components, price_ids=price_ids)
    offering.refresh_from_db()
    publish(offering, "ProductOfferingAttributeValueChangeEvent")
    return offering


@transaction.atomic
def offering_status_label_set(*, offering_id: int, label: str, label_for: str) -> None:
    """Remember how a TMF620 client spelled the lifecycleStatus it asked for
    (core.tmf.states); presentation only, the state changes through the transitions."""
    ProductOffering.objects.filter(pk=offering_id).update(
        tmf_lifecycle_status=label[:60], tmf_lifecycle_status_for=label_for
    )


@transaction.atomic
def offering_delete(*, offering_id: int, by: User | None) -> None:
    """Delete an offering that was never launched, with its (never sold) prices.

    A launched or retired offering has been sold: retire it instead. An offering that is
    part of a bundle must first leave the bundle.
    """
    offering = ProductOffering.objects.select_for_update().get(pk=offering_id)
    if offering.launched_at is not None or offering.lifecycle_status in (
        ProductOffering.Lifecycle.LAUNCHED,
        ProductOffering.Lifecycle.RETIRED,
    ):
        raise ValidationError(_("已上线过的产品不能删除，请办理退市"))
    if offering.bundled_in.exists():
        raise ValidationError(_("该产品在一体化套餐中，请先从套餐移除"))
    publish(offering, "ProductOfferingDeleteEvent")
    offering.prices.all().delete()
    offering.bundle_items.all().delete()
    offering.delete()
