"""Catalogs, categories (a tree) and product specifications."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Model, ProtectedError
from django.utils.translation import gettext as _

from core.models import User

from ..models import (
    Catalog,
    Category,
    ProductSpecification,
)
from .base import publish, refuse_unknown


def _save(obj: Model, fields: dict, *, exclude=()) -> Model:
    for name, value in fields.items():
        setattr(obj, name, value)
    obj.full_clean(exclude=list(exclude))
    obj.save()
    return obj


def _delete(obj: Model, message: str) -> None:
    try:
        with transaction.atomic():
            obj.delete()
    except ProtectedError as exc:
        raise ValidationError(message) from exc


CATALOG_FIELDS = {
    "name",
    "description",
    "catalog_type",
    "version",
    "lifecycle_status",
    "valid_from",
    "valid_to",
    "tmf_extra",
}


@transaction.atomic
def catalog_create(*, by: User | None, categories=None, **fields) -> Catalog:
    """Record a catalog with its categories."""
    refuse_unknown(fields, CATALOG_FIELDS)
    catalog = _save(Catalog(), fields)
    if categories is not None:
        catalog.categories.set(categories)
    publish(catalog, "CatalogCreateEvent")
    return catalog


@transaction.atomic
def catalog_update(*, catalog_id: int, by: User | None, categories=None, **fields) -> Catalog:
    """Change a catalog (TMF620 has no change event for catalogs)."""
    refuse_unknown(fields, CATALOG_FIELDS)
    catalog = _save(Catalog.objects.select_for_update().get(pk=catalog_id), fields)
    if categories is not None:
        catalog.categories.set(categories)
    return catalog


@transaction.atomic
def catalog_delete(*, catalog_id: int, by: User | None) -> None:
    """Delete a catalog; its categories stay."""
    catalog = Catalog.objects.select_for_update().get(pk=catalog_id)
    publish(catalog, "CatalogDeleteEvent")
    catalog.delete()


CATEGORY_FIELDS = {
    "name",
    "description",
    "version",
    "lifecycle_status",
    "parent",
    "valid_from",
    "valid_to",
    "tmf_extra",
}


def _category_links(category: Category, *, offerings, subcategories) -> None:
    """Set the category's offerings and children; a category never becomes its own ancestor."""
    if offerings is not None:
        category.offerings.set(offerings)
    if subcategories is not None:
        ancestors = set()
        node = category
        while node is not None:
            ancestors.add(node.pk)
            node = node.parent
        if any(child.pk in ancestors for child in subcategories):
            raise ValidationError({"parent": _("分类不能成为自己的上级")})
        category.subcategories.exclude(pk__in=[c.pk for c in subcategories]).update(parent=None)
        Category.objects.filter(pk__in=[c.pk for c in subcategories]).update(parent=category)


def _check_parent(category: Category, parent: Category | None) -> None:
    node = parent
    while node is not None:
        if node.pk == category.pk:
            raise ValidationError({"parent": _("分类不能成为自己的上级")})
        node = node.parent


@transaction.atomic
def category_create(*, by: User | None, offerings=None, subcategories=None, **fields) -> Category:
    """Record a category (under `parent` when given) with its offerings and children."""
    refuse_unknown(fields, CATEGORY_FIELDS)
    category = _save(Category(), fields)
    _category_links(category, offerings=offerings, subcategories=subcategories)
    publish(category, "CategoryCreateEvent")
    return category


@transaction.atomic
def category_update(
    *, category_id: int, by: User | None, offerings=None, subcategories=None, **fields
) -> Category:
    """Change a category; moving it under one of its own descendants is refused."""
    refuse_unknown(fields, CATEGORY_FIELDS)
    category = Category.objects.select_for_update().get(pk=category_id)
    if "parent" in fields:
        _check_parent(category, fields["parent"])
    _save(category, fields)
    _category_links(category, offerings=offerings, subcategories=subcategories)
    return category


@transaction.atomic
def category_delete(*, category_id: int, by: User | None) -> None:
    """Delete a category without subcategories (its offerings stay, uncategorised)."""
    category = Category.objects.select_for_update().get(pk=category_id)
    publish(category, "CategoryDeleteEvent")
    _delete(category, _("该分类下还有子分类，不能删除"))


SPECIFICATION_FIELDS = {
    "name",
    "description",
    "brand",
    "product_number",
    "version",
    "lifecycle_status",
    "is_bundle",
    "characteristics",
    "valid_from",
    "valid_to",
    "tmf_extra",
}


@transaction.atomic
def specification_create(*, by: User | None, **fields) -> ProductSpecification:
    """Record a product specification."""
    refuse_unknown(fields, SPECIFICATION_FIELDS)
    specification = _save(ProductSpecification(), fields)
    publish(specification, "ProductSpecificationCreateEvent")
    return specification


@transaction.atomic
def specification_update(
    *, specification_id: int, by: User | None, **fields
) -> ProductSpecification:
    """Change a product specification (TMF620 has no change event for it)."""
    refuse_unknown(fields, SPECIFICATION_FIELDS)
    specification = ProductSpecification.objects.select_for_update().get(pk=specification_id)
    return _save(specification, fields)


@transaction.atomic
def specification_delete(*, specification_id: int, by: User | None) -> None:
    """Delete a specification that no offering uses."""
    specification = ProductSpecification.objects.select_for_update().get(pk=specification_id)
    publish(specification, "ProductSpecificationDeleteEvent")
    _delete(specification, _("该规格已被产品使用，不能删除"))
