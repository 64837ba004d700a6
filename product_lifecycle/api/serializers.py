"""TMF620 resources over the product_lifecycle models.

- `catalog` ↔ Catalog; `category` (its CategoryRefs) ↔ Catalog.categories.
- `category` ↔ Category; `parentId` ↔ parent, `subCategory` ↔ its children,
  `productOffering` ↔ the offerings in it; `isRoot` is derived.
- `productSpecification` ↔ ProductSpecification; `productSpecCharacteristic` is kept as
  the characteristic specifications (JSON, as given).
- `productOffering` ↔ ProductOffering. `lifecycleStatus` is the offering's state machine
  (In study → In design → In test → Launched → Retired, and In test → In design), moved
  by a PATCH through product_lifecycle.services (409 with the reachable states when
  refused; "Active" is read as Launched and "Obsolete" as Retired, and the client's
  spelling is returned while it holds). `productSpecification`, `category`,
  `bundledProductOffering` (quantity in `bundledProductOfferingOption`) and
  `productOfferingPrice` resolve to the catalog's rows; the sold options are
  `prodSpecCharValueUse` entries `cmppVersion`, `licensedRate` and `links`.
- `productOfferingPrice` ↔ ProductOfferingPrice: `price` {unit, value} is the amount in
  yuan (CNY, fen precision), `priceType` and `lifecycleStatus` are kept as given,
  `recurringChargePeriodType` is the period ("month"). Which 第9条 component a price is
  follows from the spec attributes: `isBundle` → the bundle price; `priceType` "usage" →
  the overage price per message; "recurring" with `unitOfMeasure.amount` > 1 → the
  package fee including that many downlink messages; other "recurring" → the port fee.
  Amounts, dates and the component of a price in effect are frozen (409).
For every resource, references to rows this system does not hold and spec attributes it
does not model are kept as given (core.tmf.serializers). Free-text lifecycleStatus of
catalogs, categories, specifications and prices is stored exactly as given.
"""

from rest_framework import serializers

from core.tmf.fields import MoneyValueField, QuantityField, RefListField, TimePeriodField
from core.tmf.format import time_period, tmf_datetime
from core.tmf.serializers import TmfSerializer, split_ref, split_refs
from core.tmf.states import StateMap

from .. import services
from ..models import (
    Catalog,
    Category,
    CmppVersion,
    ProductOffering,
    ProductOfferingPrice,
    ProductSpecification,
)
from .spec import TMF620

Lifecycle = ProductOffering.Lifecycle
Component = ProductOfferingPrice.Component
LIFECYCLE = StateMap(
    "lifecycleStatus",
    {
        Lifecycle.IN_STUDY: [],
        Lifecycle.IN_DESIGN: [],
        Lifecycle.IN_TEST: [],
        Lifecycle.LAUNCHED: ["active"],
        Lifecycle.RETIRED: ["obsolete"],
    },
)
OPTION_NAMES = {"cmppVersion", "licensedRate", "links"}


def _text(value) -> str:
    return "" if value is None else str(value)


def _blank_to_none(value: str | None) -> str | None:
    return value or None


def _text_field(**kwargs):
    return serializers.CharField(required=False, allow_blank=True, allow_null=True, **kwargs)


class CatalogBaseSerializer(TmfSerializer):
    """What every TMF620 resource here shares: name, description, version, validFor,
    a free-text lifecycleStatus and lastUpdate."""

    spec = TMF620
    state_attribute = "lifecycleStatus"
    server_set = ("lastUpdate",)

    name = serializers.CharField(max_length=100)
    description = _text_field()
    version = _text_field(max_length=20)
    lifecycleStatus = serializers.CharField(required=False, allow_null=True, max_length=40)
    validFor = TimePeriodField(required=False, allow_null=True)

    def common(self, obj) -> dict:
        return {
            "name": obj.name,
            "description": _blank_to_none(obj.description),
            "version": _blank_to_none(obj.version),
            "lifecycleStatus": obj.lifecycle_status,
            "lastUpdate": tmf_datetime(obj.updated_at),
            "validFor": time_period(obj.valid_from, obj.valid_to),
        }

    @staticmethod
    def common_fields(data: dict) -> dict:
        """Model fields for the common attributes present in `data`."""
        fields = {}
        for attribute, field in (("name", "name"), ("description", "description")):
            if attribute in data:
                fields[field] = _text(data[attribute])
        if "version" in data:
            fields["version"] = _text(data["version"])
        if data.get("lifecycleStatus"):
            fields["lifecycle_status"] = data["lifecycleStatus"]
        if "validFor" in data:
            fields["valid_from"], fields["valid_to"] = data["validFor"] or (None, None)
        return fields

    def refs(self, objects, view_name: str, referred_type: str, kept: list | None) -> list:
        return [self.ref(o, view_name, referred_type) for o in objects] + list(kept or [])

    def user(self):
        request = self.context.get("request")
        return request.user if request is not None else None


class CatalogSerializer(CatalogBaseSerializer):
    tmf_type = "Catalog"
    view_name = "tmf620:catalog-detail"
    passthrough = ("relatedParty",)

    catalogType = _text_field(max_length=50)
    category = RefListField(required=False, allow_null=True)

    def represent(self, catalog: Catalog) -> dict:
        return {
            **self.common(catalog),
            "catalogType": _blank_to_none(catalog.catalog_type),
            "category": self.refs(
                catalog.categories.all(),
                "tmf620:category-detail",
                "Category",
                self.kept(catalog, "category"),
            ),
        }

    def _fields(self, data, instance):
        fields = self.common_fields(data)
        if "catalogType" in data:
            fields["catalog_type"] = _text(data["catalogType"])
        kept, categories = {}, None
        if "category" in data:
            categories, kept["category"] = split_refs(data["category"], Category.objects.all())
        fields["tmf_extra"] = self.extra_after(instance, kept=kept)
        return fields, categories

    def create(self, validated_data):
        fields, categories = self._fields(validated_data, None)
        return services.catalog_create(by=self.user(), categories=categories, **fields)

    def update(self, instance, validated_data):
        fields, categories = self._fields(validated_data, instance)
        return services.catalog_update(
            catalog_id=instance.pk, by=self.user(), categories=categories, **fields
        )


class CategorySerializer(CatalogBaseSerializer):
    tmf_type = "Category"
    view_name = "tmf620:category-detail"
    server_set = ("lastUpdate", "isRoot")

    parentId = serializers.CharField(required=False, allow_null=True, allow_blank=True)
    productOffering = RefListField(required=False, allow_null=True)
    subCategory = RefListField(required=False, allow_null=True)

    def represent(self, category: Category) -> dict:
        kept_parent = self.kept(category, "parentId")
        return {
            **self.common(category),
            "isRoot": category.parent_id is None and not kept_parent,
            "parentId": str(category.parent_id) if category.parent_id else kept_parent,
            "productOffering": self.refs(
                category.offerings.all(),
                "tmf620:productOffering-detail",
                "ProductOffering",
                self.kept(category, "productOffering"),
            ),
            "subCategory": self.refs(
                category.subcategories.all(),
                "tmf620:category-detail",
                "Category",
                self.kept(category, "subCategory"),
            ),
        }

    def _fields(self, data, instance):
        fields = self.common_fields(data)
        kept, links = {}, {}
        if "parentId" in data:
            parent_ref = {"id": data["parentId"]} if data["parentId"] else None
            fields["parent"], dangling = split_ref(parent_ref, Category.objects.all())
            kept["parentId"] = dangling["id"] if dangling else None
        if "productOffering" in data:
            links["offerings"], kept["productOffering"] = split_refs(
                data["productOffering"], ProductOffering.objects.all()
            )
        if "subCategory" in data:
            links["subcategories"], kept["subCategory"] = split_refs(
                data["subCategory"], Category.objects.all()
            )
        fields["tmf_extra"] = self.extra_after(instance, kept=kept)
        return fields, links

    def create(self, validated_data):
        fields, links = self._fields(validated_data, None)
        return services.category_create(by=self.user(), **links, **fields)

    def update(self, instance, validated_data):
        fields, links = self._fields(validated_data, instance)
        return services.category_update(category_id=instance.pk, by=self.user(), **links, **fields)


class ProductSpecificationSerializer(CatalogBaseSerializer):
    tmf_type = "ProductSpecification"
    view_name = "tmf620:productSpecification-detail"
    passthrough = (
        "attachment",
        "bundledProductSpecification",
        "productSpecificationRelationship",
        "relatedParty",
        "resourceSpecification",
        "serviceSpecification",
        "targetProductSchema",
    )

    brand = _text_field(max_length=60)
    productNumber = _text_field(max_length=40)
    isBundle = serializers.BooleanField(required=False, allow_null=True)
    productSpecCharacteristic = serializers.ListField(
        child=serializers.DictField(), required=False, allow_null=True
    )

    def represent(self, spec: ProductSpecification) -> dict:
        return {
            **self.common(spec),
            "brand": _blank_to_none(spec.brand),
            "productNumber": _blank_to_none(spec.product_number),
            "isBundle": spec.is_bundle,
            "productSpecCharacteristic": spec.characteristics or [],
        }

    def _fields(self, data, instance):
        fields = self.common_fields(data)
        if "brand" in data:
            fields["brand"] = _text(data["brand"])
        if "productNumber" in data:
            fields["product_number"] = _text(data["productNumber"])
        if "isBundle" in data:
            fields["is_bundle"] = bool(data["isBundle"])
        if "productSpecCharacteristic" in data:
            fields["characteristics"] = data["productSpecCharacteristic"] or []
        fields["tmf_extra"] = self.extra_after(instance)
        return fields

    def create(self, validated_data):
        return services.specification_create(by=self.user(), **self._fields(validated_data, None))

    def update(self, instance, validated_data):
        return services.specification_update(
            specification_id=instance.pk, by=self.user(), **self._fields(validated_data, instance)
        )


class ProductOfferingSerializer(CatalogBaseSerializer):
    tmf_type = "ProductOffering"
    view_name = "tmf620:productOffering-detail"
    passthrough = (
        "agreement",
        "attachment",
        "channel",
        "marketSegment",
        "place",
        "productOfferingTerm",
        "resourceCandidate",
        "serviceCandidate",
        "serviceLevelAgreement",
    )

    statusReason = _text_field(max_length=200)
    isBundle = serializers.BooleanField(required=False, allow_null=True)
    isSellable = serializers.BooleanField(required=False, allow_null=True)
    productSpecification = serializers.DictField(required=False, allow_null=True)
    category = RefListField(required=False, allow_null=True)
    bundledProductOffering = RefListField(required=False, allow_null=True)
    productOfferingPrice = RefListField(required=False, allow_null=True)
    prodSpecCharValueUse = serializers.ListField(
        child=serializers.DictField(), required=False, allow_null=True
    )

    def represent(self, offering: ProductOffering) -> dict:
        document = self.common(offering)
        document["lifecycleStatus"] = LIFECYCLE.present(
            offering.lifecycle_status,
            offering.tmf_lifecycle_status,
            offering.tmf_lifecycle_status_for,
        )
        return {
            **document,
            "statusReason": _blank_to_none(offering.status_reason),
            "isBundle": offering.is_bundle,
            "isSellable": offering.is_sellable,
            "productSpecification": self.ref(
                offering.specification,
                "tmf620:productSpecification-detail",
                "ProductSpecification",
                **(
                    {"version": offering.specification.version}
                    if offering.specification and offering.specification.version
                    else {}
                ),
            )
            or self.kept(offering, "productSpecification"),
            "category": self.refs(
                offering.categories.all(),
                "tmf620:category-detail",
                "Category",
                self.kept(offering, "category"),
            ),
            "bundledProductOffering": [
                {
                    "id": str(item.component_id),
                    "href": self.href_for(item.component, "tmf620:productOffering-detail"),
                    "name": item.component.name,
                    "lifecycleStatus": item.component.lifecycle_status,
                    "bundledProductOfferingOption": {
                        "numberRelOfferDefault": item.quantity,
                        "numberRelOfferLowerLimit": item.quantity,
                        "numberRelOfferUpperLimit": item.quantity,
                    },
                }
                for item in offering.bundle_items.all()
            ]
            + self.kept_list(offering, "bundledProductOffering"),
            "productOfferingPrice": self.refs(
                offering.prices.all(),
                "tmf620:productOfferingPrice-detail",
                "ProductOfferingPrice",
                self.kept(offering, "productOfferingPrice"),
            ),
            "prodSpecCharValueUse": self._options(offering),
        }

    def _options(self, offering: ProductOffering) -> list[dict]:
        options = []
        if offering.cmpp_versions:
            options.append(
                {
                    "name": "cmppVersion",
                    "description": "CMPP 协议版本",
                    "valueType": "string",
                    "productSpecCharacteristicValue": [
                        {"value": version, "valueType": "string"}
                        for version in offering.cmpp_versions
                    ],
                }
            )
        for name, value, unit, description in (
            ("licensedRate", offering.licensed_rate, "条/秒", "许可速率"),
            ("links", offering.max_links, "条", "连接数"),
        ):
            if value is not None:
                options.append(
                    {
                        "name": name,
                        "description": description,
                        "valueType": "integer",
                        "productSpecCharacteristicValue": [
                            {"value": value, "valueType": "integer", "unitOfMeasure": unit}
                        ],
                    }
                )
        return options + self.kept_list(offering, "prodSpecCharValueUse")

    @staticmethod
    def _option_fields(uses: list[dict]) -> tuple[dict, list[dict]]:
        fields = {"cmpp_versions": [], "licensed_rate": None, "max_links": None}
        kept = []
        for use in uses:
            name = use.get("name")
            values = [
                v.get("value")
                for v in use.get("productSpecCharacteristicValue") or []
                if isinstance(v, dict)
            ]
            if name == "cmppVersion":
                fields["cmpp_versions"] = [str(v) for v in values if v is not None]
                unknown = set(fields["cmpp_versions"]) - set(CmppVersion.values)
                if unknown:
                    raise serializers.ValidationError(
                        {"prodSpecCharValueUse": "cmppVersion values are 2.0 and 3.0 (第2条)"}
                    )
            elif name in ("licensedRate", "links"):
                number = values[0] if values else None
                if number is not None and (
                    isinstance(number, bool) or not str(number).isdigit() or int(number) < 1
                ):
                    raise serializers.ValidationError(
                        {"prodSpecCharValueUse": f"{name} must be a whole number ≥ 1"}
                    )
                key = "licensed_rate" if name == "licensedRate" else "max_links"
                fields[key] = int(number) if number is not None else None
            else:
                kept.append(use)
        return fields, kept

    def _fields(self, data, instance):
        fields = self.common_fields(data)
        fields.pop("lifecycle_status", None)
        if "statusReason" in data:
            fields["status_reason"] = _text(data["statusReason"])
        for attribute, field in (("isBundle", "is_bundle"), ("isSellable", "is_sellable")):
            if attribute in data and data[attribute] is not None:
                fields[field] = data[attribute]
        kept, links = {}, {}
        if "productSpecification" in data:
            fields["specification"], kept["productSpecification"] = split_ref(
                data["productSpecification"], ProductSpecification.objects.all()
            )
        if "category" in data:
            links["categories"], kept["category"] = split_refs(
                data["category"], Category.objects.all()
            )
        if "bundledProductOffering" in data:
            items = data["bundledProductOffering"] or []
            components, kept["bundledProductOffering"] = split_refs(
                items, ProductOffering.objects.all()
            )
            quantities = {}
            for item in items:
                option = item.get("bundledProductOfferingOption") or {}
                quantity = option.get("numberRelOfferDefault") or 1
                quantities[item["id"]] = int(quantity) if str(quantity).isdigit() else 1
            links["components"] = [(c.pk, max(1, quantities.get(str(c.pk), 1))) for c in components]
        if "productOfferingPrice" in data:
            prices, kept["productOfferingPrice"] = split_refs(
                data["productOfferingPrice"], ProductOfferingPrice.objects.all()
            )
            links["price_ids"] = [price.pk for price in prices]
        if "prodSpecCharValueUse" in data:
            values, kept["prodSpecCharValueUse"] = self._option_fields(
                data["prodSpecCharValueUse"] or []
            )
            fields.update(values)
        fields["tmf_extra"] = self.extra_after(instance, kept=kept)
        return fields, links

    def create(self, validated_data):
        fields, links = self._fields(validated_data, None)
        return services.offering_create(by=self.user(), **links, **fields)

    def update(self, instance, validated_data):
        fields, links = self._fields(validated_data, instance)
        offering = instance
        if links or set(fields) != {"tmf_extra"} or fields["tmf_extra"] != instance.tmf_extra:
            offering = services.offering_update(
                offering_id=instance.pk, by=self.user(), **links, **fields
            )
        if validated_data.get("lifecycleStatus"):
            self._change_lifecycle(offering, validated_data["lifecycleStatus"])
        return offering

    def _change_lifecycle(self, offering: ProductOffering, text: str) -> None:
        target = LIFECYCLE.to_domain(text)
        by = self.user()
        reason = _text(self.initial_data.get("statusReason")) or "TMF620"
        if target is not None:
            services.offering_status_label_set(
                offering_id=offering.pk, label=text, label_for=target
            )
        pk = offering.pk

        def step(service):
            return lambda: service(offering_id=pk, by=by, reason=reason)

        LIFECYCLE.change(
            current=offering.lifecycle_status,
            text=text,
            transitions={
                (Lifecycle.IN_STUDY, Lifecycle.IN_DESIGN): step(services.offering_design),
                (Lifecycle.IN_DESIGN, Lifecycle.IN_TEST): step(services.offering_test),
                (Lifecycle.IN_TEST, Lifecycle.IN_DESIGN): step(services.offering_redesign),
                (Lifecycle.IN_TEST, Lifecycle.LAUNCHED): step(services.offering_launch),
                (Lifecycle.LAUNCHED, Lifecycle.RETIRED): step(services.offering_retire),
            },
        )


class ProductOfferingPriceSerializer(CatalogBaseSerializer):
    tmf_type = "ProductOfferingPrice"
    view_name = "tmf620:productOfferingPrice-detail"
    passthrough = (
        "bundledPopRelationship",
        "constraint",
        "percentage",
        "place",
        "popRelationship",
        "pricingLogicAlgorithm",
        "prodSpecCharValueUse",
        "productOfferingTerm",
        "recurringChargePeriodLength",
        "tax",
    )

    isBundle = serializers.BooleanField(required=False, allow_null=True)
    priceType = _text_field(max_length=20)
    recurringChargePeriodType = _text_field(max_length=20)
    price = MoneyValueField(required=False, allow_null=True)
    unitOfMeasure = QuantityField(required=False, allow_null=True)

    def represent(self, price: ProductOfferingPrice) -> dict:
        attrs = (price.tmf_extra or {}).get("attrs") or {}
        unit = None
        if price.included_quantity:
            unit = {"amount": price.included_quantity, "units": price.unit_of_measure or "条"}
        elif price.unit_of_measure:
            unit = {"amount": 1, "units": price.unit_of_measure}
        document = {
            **self.common(price),
            "isBundle": price.component == Component.BUNDLE,
            "priceType": _blank_to_none(price.price_type),
            "recurringChargePeriodType": _blank_to_none(price.recurring_period),
            "price": (
                {"unit": price.currency, "value": float(price.amount)}
                if price.amount is not None
                else None
            ),
            "unitOfMeasure": unit,
        }
        if price.recurring_period and "recurringChargePeriodLength" not in attrs:
            document["recurringChargePeriodLength"] = 1
        return document

    def _fields(self, data, instance):
        fields = self.common_fields(data)
        if "priceType" in data:
            fields["price_type"] = _text(data["priceType"])
        if "recurringChargePeriodType" in data:
            fields["recurring_period"] = _text(data["recurringChargePeriodType"])
        if "price" in data:
            amount, currency = data["price"] or (None, "CNY")
            fields["amount"], fields["currency"] = amount, currency[:3]
        if "unitOfMeasure" in data:
            quantity, units = data["unitOfMeasure"] or (None, "")
            fields["unit_of_measure"] = units[:20]
            included = None
            if quantity is not None and quantity > 1:
                if quantity != quantity.to_integral_value():
                    raise serializers.ValidationError(
                        {"unitOfMeasure": "the included number of messages is a whole number"}
                    )
                included = int(quantity)
            fields["included_quantity"] = included
        component_inputs = {"isBundle", "priceType", "unitOfMeasure"}
        if instance is None or component_inputs & set(data):
            fields["component"] = self._component(data, instance, fields)
        fields["tmf_extra"] = self.extra_after(instance)
        return fields

    @staticmethod
    def _component(data, instance, fields) -> str:
        """The 第9条 component the spec attributes describe (see module docstring)."""
        is_bundle = (
            data["isBundle"]
            if data.get("isBundle") is not None
            else (instance is not None and instance.component == Component.BUNDLE)
        )
        price_type = fields.get("price_type", instance.price_type if instance else "")
        included = fields.get("included_quantity", instance.included_quantity if instance else None)
        if is_bundle:
            return Component.BUNDLE
        kind = (price_type or "").strip().casefold()
        if kind == "usage":
            return Component.OVERAGE
        if kind == "recurring":
            return Component.PACKAGE_FEE if included else Component.PORT_FEE
        return ""

    def create(self, validated_data):
        return services.price_create(by=self.user(), **self._fields(validated_data, None))

    def update(self, instance, validated_data):
        return services.price_update(
            price_id=instance.pk, by=self.user(), **self._fields(validated_data, instance)
        )
