"""Import and export of the catalog (django-import-export), with Chinese column headers.

Exports cover every table. Imports go through the services, so they obey the same rules
as every other path: offerings are created in study (their lifecycle moves only by the
transitions) and updated by name; a price row is never rewritten: an imported price is a
new version from its start time (services.offering_price_revise), and a row identical to
an existing version (same offering, component and start) is skipped.
"""

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from import_export import fields, resources, widgets

from core.money import yuan

from . import services
from .models import (
    Catalog,
    Category,
    ProductOffering,
    ProductOfferingPrice,
    ProductSpecification,
)

_DATETIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d")


class LocalDateTimeWidget(widgets.Widget):
    """A date-time in spreadsheet form, read and written as Asia/Shanghai local time."""

    def clean(self, value, row=None, **kwargs):
        if value is None or str(value).strip() == "":
            return None
        if isinstance(value, dt.datetime):
            parsed = value
        else:
            text = str(value).strip()
            for fmt in _DATETIME_FORMATS:
                try:
                    parsed = dt.datetime.strptime(text, fmt)
                    break
                except ValueError:
                    continue
            else:
                raise ValueError(
                    _("无法识别的时间“%(v)s”，请用 2026-01-31 09:30:00 格式") % {"v": text}
                )
        if timezone.is_naive(parsed):
            parsed = timezone.make_aware(parsed, timezone.get_default_timezone())
        return parsed

    def render(self, value, obj=None, **kwargs):
        return "" if value is None else timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S")


class ListWidget(widgets.Widget):
    """A JSON list of strings written as "2.0,3.0"."""

    def clean(self, value, row=None, **kwargs):
        text = "" if value is None else str(value)
        return [item.strip() for item in text.replace("，", ",").split(",") if item.strip()]

    def render(self, value, obj=None, **kwargs):
        return ",".join(value or [])


class CatalogResource(resources.ModelResource):
    """Catalogs with their categories (by name)."""

    name = fields.Field(attribute="name", column_name="名称")
    catalog_type = fields.Field(attribute="catalog_type", column_name="目录类型")
    version = fields.Field(attribute="version", column_name="版本")
    lifecycle_status = fields.Field(attribute="lifecycle_status", column_name="生命周期状态")
    categories = fields.Field(
        attribute="categories",
        column_name="分类",
        widget=widgets.ManyToManyWidget(Category, field="name", separator="|"),
    )

    class Meta:
        model = Catalog
        fields = ("name", "catalog_type", "version", "lifecycle_status", "categories")
        import_id_fields = ("name",)
        skip_unchanged = True


class CategoryResource(resources.ModelResource):
    """Categories with their parent (by name)."""

    name = fields.Field(attribute="name", column_name="名称")
    description = fields.Field(attribute="description", column_name="说明")
    parent = fields.Field(
        attribute="parent",
        column_name="上级分类",
        widget=widgets.ForeignKeyWidget(Category, field="name"),
    )
    lifecycle_status = fields.Field(attribute="lifecycle_status", column_name="生命周期状态")

    class Meta:
        model = Category
        fields = ("name", "description", "parent", "lifecycle_status")
        import_id_fields = ("name",)
        skip_unchanged = True


class ProductSpecificationResource(resources.ModelResource):
    """Product specifications (export)."""

    name = fields.Field(attribute="name", column_name="名称")
    brand = fields.Field(attribute="brand", column_name="品牌")
    product_number = fields.Field(attribute="product_number", column_name="产品编号")
    version = fields.Field(attribute="version", column_name="版本")
    lifecycle_status = fields.Field(attribute="lifecycle_status", column_name="生命周期状态")

    class Meta:
        model = ProductSpecification
        fields = ("name", "brand", "product_number", "version", "lifecycle_status")
        import_id_fields = ("name",)
        skip_unchanged = True


class ProductOfferingResource(resources.ModelResource):
    """Offerings keyed by name. The lifecycle is exported but never imported."""

    name = fields.Field(attribute="name", column_name="名称")
    description = fields.Field(attribute="description", column_name="说明")
    specification = fields.Field(
        attribute="specification",
        column_name="产品规格",
        widget=widgets.ForeignKeyWidget(ProductSpecification, field="name"),
    )
    categories = fields.Field(
        attribute="categories",
        column_name="分类",
        widget=widgets.ManyToManyWidget(Category, field="name", separator="|"),
    )
    lifecycle_status = fields.Field(
        attribute="lifecycle_status", column_name="生命周期状态", readonly=True
    )
    is_sellable = fields.Field(
        attribute="is_sellable", column_name="可单独销售", widget=widgets.BooleanWidget()
    )
    cmpp_versions = fields.Field(
        attribute="cmpp_versions", column_name="CMPP版本", widget=ListWidget()
    )
    licensed_rate = fields.Field(
        attribute="licensed_rate", column_name="许可速率", widget=widgets.IntegerWidget()
    )
    max_links = fields.Field(
        attribute="max_links", column_name="连接数", widget=widgets.IntegerWidget()
    )

    class Meta:
        model = ProductOffering
        fields = (
            "name",
            "description",
            "specification",
            "categories",
            "lifecycle_status",
            "is_sellable",
            "cmpp_versions",
            "licensed_rate",
            "max_links",
        )
        import_id_fields = ("name",)
        skip_unchanged = True

    _ATTRIBUTES = (
        "name",
        "description",
        "specification",
        "is_sellable",
        "cmpp_versions",
        "licensed_rate",
        "max_links",
    )

    def save_instance(self, instance, is_create, row, **kwargs):
        """Create or update through the services (never touching the lifecycle)."""
        values = {name: getattr(instance, name) for name in self._ATTRIBUTES}
        values["description"] = values["description"] or ""
        if is_create:
            saved = services.offering_create(by=kwargs.get("user"), **values)
        else:
            saved = services.offering_update(
                offering_id=instance.pk, by=kwargs.get("user"), **values
            )
        instance.pk = saved.pk


class ProductOfferingPriceResource(resources.ModelResource):
    """Price versions. Import adds versions through offering_price_revise (never edits)."""

    offering = fields.Field(
        attribute="offering",
        column_name="产品",
        widget=widgets.ForeignKeyWidget(ProductOffering, field="name"),
    )
    component = fields.Field(attribute="component", column_name="价格组成")
    name = fields.Field(attribute="name", column_name="名称")
    amount = fields.Field(
        attribute="amount", column_name="金额（元）", widget=widgets.DecimalWidget()
    )
    included_quantity = fields.Field(
        attribute="included_quantity", column_name="包含条数", widget=widgets.IntegerWidget()
    )
    valid_from = fields.Field(
        attribute="valid_from", column_name="生效时间", widget=LocalDateTimeWidget()
    )
    valid_to = fields.Field(
        attribute="valid_to", column_name="失效时间", widget=LocalDateTimeWidget(), readonly=True
    )
    price_type = fields.Field(attribute="price_type", column_name="价格类型", readonly=True)
    currency = fields.Field(attribute="currency", column_name="币种", readonly=True)

    class Meta:
        model = ProductOfferingPrice
        fields = (
            "offering",
            "component",
            "name",
            "amount",
            "included_quantity",
            "valid_from",
            "valid_to",
            "price_type",
            "currency",
        )
        import_id_fields = ()
        force_init_instance = True
        clean_model_instances = False

    def import_instance(self, instance, row, **kwargs):
        super().import_instance(instance, row, **kwargs)
        errors = {}
        if instance.offering_id is None:
            errors["offering"] = [_("缺少产品名称或产品不存在")]
        if instance.component not in ProductOfferingPrice.Component.values:
            errors["component"] = [
                _("价格组成须为：%(v)s") % {"v": ", ".join(ProductOfferingPrice.Component.values)}
            ]
        if instance.valid_from is None:
            errors["valid_from"] = [_("缺少生效时间")]
        if instance.amount is None:
            errors["amount"] = [_("缺少金额")]
        else:
            try:
                instance.amount = yuan(instance.amount)
            except (ValueError, InvalidOperation):
                errors["amount"] = [_("金额无效")]
        if errors:
            raise ValidationError(errors)

    def skip_row(self, instance, original, row, import_validation_errors=None):
        if import_validation_errors:
            return False
        return ProductOfferingPrice.objects.filter(
            offering_id=instance.offering_id,
            component=instance.component,
            valid_from=instance.valid_from,
            amount=Decimal(instance.amount),
        ).exists()

    def save_instance(self, instance, is_create, row, **kwargs):
        """A new version from its start (the current one ends there)."""
        saved = services.offering_price_revise(
            offering_id=instance.offering_id,
            component=instance.component,
            amount=instance.amount,
            valid_from=instance.valid_from,
            included_quantity=instance.included_quantity,
            name=instance.name or "",
            by=kwargs.get("user"),
        )
        instance.pk = saved.pk
