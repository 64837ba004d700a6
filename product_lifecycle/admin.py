"""Admin for product managers: catalogs, categories, specifications, offerings with their
lifecycle buttons, bundles and price versions, import and export.

Every change goes through product_lifecycle.services: the lifecycle only moves by its
transitions, a price version in effect is read-only (it may have been sold), and a new
price is a revision from a start date ("改价" on the offering).
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from import_export.admin import ExportMixin, ImportExportModelAdmin

from core import clock
from core.admin_tools import AdminTransition, StateChangeInline, TransitionAdminMixin

from . import services
from .models import (
    BundledOffering,
    Catalog,
    Category,
    ProductOffering,
    ProductOfferingPrice,
    ProductSpecification,
)
from .resources import (
    CatalogResource,
    CategoryResource,
    ProductOfferingPriceResource,
    ProductOfferingResource,
    ProductSpecificationResource,
)


def _adopt(obj, saved) -> None:
    """The admin goes on with the form's instance (m2m, log entry): make it the saved row."""
    obj.pk = saved.pk
    obj._state.adding = False
    obj._state.db = saved._state.db


def _form_values(form, names) -> dict:
    return {name: form.cleaned_data[name] for name in names if name in form.cleaned_data}


@admin.register(Catalog)
class CatalogAdmin(ImportExportModelAdmin):
    """Catalogs and the categories they publish."""

    resource_classes = [CatalogResource]
    list_display = ("name", "catalog_type", "version", "lifecycle_status", "updated_at")
    search_fields = ("name",)
    filter_horizontal = ("categories",)
    fields = (
        "name",
        "description",
        "catalog_type",
        "version",
        "lifecycle_status",
        "valid_from",
        "valid_to",
        "categories",
    )
    _attributes = fields[:-1]

    def save_model(self, request, obj, form, change):
        values = _form_values(form, self._attributes)
        if change:
            saved = services.catalog_update(catalog_id=obj.pk, by=request.user, **values)
        else:
            saved = services.catalog_create(by=request.user, **values)
        _adopt(obj, saved)


@admin.register(Category)
class CategoryAdmin(ImportExportModelAdmin):
    """Categories of offerings, possibly nested."""

    resource_classes = [CategoryResource]
    list_display = ("name", "parent", "lifecycle_status", "updated_at")
    list_filter = ("lifecycle_status",)
    search_fields = ("name",)
    fields = (
        "name",
        "description",
        "version",
        "lifecycle_status",
        "parent",
        "valid_from",
        "valid_to",
    )

    def save_model(self, request, obj, form, change):
        values = _form_values(form, self.fields)
        if change:
            saved = services.category_update(category_id=obj.pk, by=request.user, **values)
        else:
            saved = services.category_create(by=request.user, **values)
        _adopt(obj, saved)


@admin.register(ProductSpecification)
class ProductSpecificationAdmin(ImportExportModelAdmin):
    """Product specifications (what is technically delivered)."""

    resource_classes = [ProductSpecificationResource]
    list_display = ("name", "brand", "product_number", "version", "lifecycle_status")
    search_fields = ("name", "product_number")
    fields = (
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
    )

    def save_model(self, request, obj, form, change):
        values = _form_values(form, self.fields)
        if change:
            saved = services.specification_update(
                specification_id=obj.pk, by=request.user, **values
            )
        else:
            saved = services.specification_create(by=request.user, **values)
        _adopt(obj, saved)


class BundledOfferingInline(admin.TabularInline):
    """The offerings inside a bundle (一体化套餐); saved through bundle_set_components."""

    model = BundledOffering
    fk_name = "bundle"
    extra = 0
    fields = ("component", "quantity")
    autocomplete_fields = ("component",)
    verbose_name = _("套餐内产品")
    verbose_name_plural = _("套餐内产品（一体化套餐）")


class PriceInline(admin.TabularInline):
    """Price versions of the offering; read-only here (open one to edit a future version)."""

    model = ProductOfferingPrice
    extra = 0
    can_delete = False
    show_change_link = True
    fields = ("component", "amount", "included_quantity", "valid_from", "valid_to", "in_effect")
    readonly_fields = fields
    ordering = ("component", "-valid_from")
    verbose_name_plural = _("价格版本")

    @admin.display(description=_("已生效"), boolean=True)
    def in_effect(self, obj):
        return services.price_is_in_effect(obj)

    def has_add_permission(self, request, obj=None):
        return False


def _lifecycle(service):
    return lambda obj, user, reason: service(offering_id=obj.pk, by=user, reason=reason)


@admin.register(ProductOffering)
class ProductOfferingAdmin(TransitionAdminMixin, ImportExportModelAdmin):
    """Offerings: lifecycle buttons (研究 → 设计 → 测试 → 上线 → 退市), bundles, prices."""

    change_form_template = "admin/product_lifecycle/productoffering/change_form.html"
    resource_classes = [ProductOfferingResource]
    state_field = "lifecycle_status"
    transitions = (
        AdminTransition("design", _("进入设计"), _lifecycle(services.offering_design)),
        AdminTransition("test", _("进入测试"), _lifecycle(services.offering_test)),
        AdminTransition("redesign", _("退回设计"), _lifecycle(services.offering_redesign)),
        AdminTransition("launch", _("上线"), _lifecycle(services.offering_launch)),
        AdminTransition(
            "retire",
            _("退市"),
            _lifecycle(services.offering_retire),
            reason_required=True,
            style="danger",
        ),
    )
    list_display = (
        "name",
        "lifecycle_status",
        "specification",
        "is_bundle",
        "is_sellable",
        "licensed_rate",
        "max_links",
        "launched_at",
    )
    list_filter = ("lifecycle_status", "is_bundle", "categories")
    search_fields = ("name",)
    list_select_related = ("specification",)
    filter_horizontal = ("categories",)
    readonly_fields = ("lifecycle_status", "status_reason", "launched_at", "retired_at")
    inlines = (BundledOfferingInline, PriceInline, StateChangeInline)
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "name",
                    "description",
                    "version",
                    "specification",
                    "categories",
                    "lifecycle_status",
                    "status_reason",
                )
            },
        ),
        (
            _("销售选项"),
            {"fields": ("is_sellable", "is_bundle", "cmpp_versions", "licensed_rate", "max_links")},
        ),
        (_("有效期"), {"fields": ("valid_from", "valid_to", "launched_at", "retired_at")}),
    )
    _attributes = (
        "name",
        "description",
        "version",
        "specification",
        "is_sellable",
        "is_bundle",
        "cmpp_versions",
        "licensed_rate",
        "max_links",
        "valid_from",
        "valid_to",
    )

    def save_model(self, request, obj, form, change):
        values = _form_values(form, self._attributes)
        if change:
            saved = services.offering_update(offering_id=obj.pk, by=request.user, **values)
        else:
            saved = services.offering_create(by=request.user, **values)
        _adopt(obj, saved)

    def save_formset(self, request, form, formset, change):
        if formset.model is not BundledOffering:
            return super().save_formset(request, form, formset, change)
        components = [
            (row["component"].pk, row.get("quantity") or 1)
            for row in formset.cleaned_data
            if row and row.get("component") and not row.get("DELETE")
        ]
        # The admin's change message reads these; the service below does the saving.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        current = list(form.instance.bundle_items.values_list("component_id", "quantity"))
        if sorted(components) != sorted(current):
            if components:
                services.bundle_set_components(
                    bundle_id=form.instance.pk, components=components, by=request.user
                )
            else:
                services.offering_update(
                    offering_id=form.instance.pk, by=request.user, components=[]
                )
        return None

    def get_urls(self):
        custom = [
            path(
                "<int:object_id>/revise-price/",
                self.admin_site.admin_view(self.revise_price_view),
                name="product_lifecycle_productoffering_revise_price",
            )
        ]
        return custom + super().get_urls()

    def revise_price_view(self, request, object_id):
        """改价: a new price version of one component from a start time (never retroactive)."""
        offering = get_object_or_404(ProductOffering, pk=object_id)
        if not self.has_change_permission(request, offering):
            raise PermissionDenied
        form = PriceRevisionForm(request.POST or None, offering=offering)
        if request.method == "POST" and form.is_valid():
            try:
                with transaction.atomic():
                    services.offering_price_revise(
                        offering_id=offering.pk, by=request.user, **form.cleaned_data
                    )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, _("已新增价格版本"))
                return HttpResponseRedirect(
                    reverse("admin:product_lifecycle_productoffering_change", args=[offering.pk])
                )
        context = {
            **self.admin_site.each_context(request),
            "title": _("改价：%(name)s") % {"name": offering.name},
            "opts": self.model._meta,
            "original": offering,
            "form": form,
        }
        return TemplateResponse(
            request, "admin/product_lifecycle/productoffering/revise_price.html", context
        )


class PriceRevisionForm(forms.Form):
    """One component's new price and when it starts."""

    component = forms.ChoiceField(
        label=_("价格组成"), choices=ProductOfferingPrice.Component.choices
    )
    amount = forms.DecimalField(
        label=_("金额（元，含税）"), max_digits=14, decimal_places=2, min_value=0
    )
    included_quantity = forms.IntegerField(label=_("包含条数"), required=False, min_value=1)
    valid_from = forms.DateTimeField(label=_("生效时间"))
    name = forms.CharField(label=_("名称"), required=False, max_length=100)

    def __init__(self, *args, offering=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.offering = offering
        if not self.is_bound:
            self.fields["valid_from"].initial = clock.now()


@admin.register(ProductOfferingPrice)
class ProductOfferingPriceAdmin(ExportMixin, admin.ModelAdmin):
    """Price versions. A version in effect is read-only; new ones come from 改价 on the
    offering (or the import), so what was sold keeps its price."""

    resource_classes = [ProductOfferingPriceResource]
    list_display = (
        "name",
        "offering",
        "component",
        "amount",
        "included_quantity",
        "valid_from",
        "valid_to",
        "lifecycle_status",
    )
    list_filter = ("component", "offering")
    search_fields = ("name", "offering__name")
    list_select_related = ("offering",)
    fields = (
        "offering",
        "name",
        "description",
        "component",
        "price_type",
        "recurring_period",
        "amount",
        "currency",
        "included_quantity",
        "unit_of_measure",
        "lifecycle_status",
        "version",
        "valid_from",
        "valid_to",
    )

    def get_readonly_fields(self, request, obj=None):
        frozen = ("offering",)
        if obj is not None and services.price_is_in_effect(obj):
            frozen += services.PRICE_FROZEN_FIELDS
        return frozen

    def has_add_permission(self, request):
        return False

    def save_model(self, request, obj, form, change):
        values = _form_values(
            form,
            [name for name in self.fields if name not in self.get_readonly_fields(request, obj)],
        )
        services.price_update(price_id=obj.pk, by=request.user, **values)
