"""Demo catalog: the 集团短信 MAS specification, three launched tiers, a bundle and a pilot."""

import datetime as dt
from decimal import Decimal

from django.db import transaction

from core import clock

from . import services
from .models import Catalog, Category, ProductOffering, ProductSpecification

MAS_CHARACTERISTICS = [
    {
        "name": "cmppVersion",
        "description": "CMPP 协议版本",
        "valueType": "string",
        "productSpecCharacteristicValue": [{"value": "2.0"}, {"value": "3.0"}],
    },
    {"name": "licensedRate", "description": "许可速率（条/秒）", "valueType": "integer"},
    {"name": "links", "description": "连接数", "valueType": "integer"},
    {"name": "serviceCode", "description": "短信服务代码（1069号段）", "valueType": "string"},
]

# name, port fee, package fee, included messages, overage, rate, links
TIERS = (
    ("集团短信MAS 基础版", "100.00", "300.00", 10_000, "0.05", 20, 1),
    ("集团短信MAS 标准版", "200.00", "1000.00", 50_000, "0.04", 100, 2),
    ("集团短信MAS 旗舰版", "500.00", "3000.00", 200_000, "0.03", 500, 4),
)


def _offering(name: str, **defaults) -> tuple[ProductOffering, bool]:
    return ProductOffering.objects.get_or_create(name=name, defaults=defaults)


def _launch(offering: ProductOffering) -> None:
    for step in (services.offering_design, services.offering_test, services.offering_launch):
        step(offering_id=offering.pk, by=None, reason="演示数据")


@transaction.atomic
def seed() -> list[str]:
    """Create the demo catalog once; returns lines to print."""
    spec, _ = ProductSpecification.objects.get_or_create(
        name="集团短信 MAS",
        defaults={
            "description": "基于移动代理服务器（MAS）的集团短信：短信服务代码、MAS 端口与 ISMG 链路",
            "brand": "中国移动",
            "product_number": "HA-JT-DXMAS",
            "version": "2009.10",
            "lifecycle_status": "Launched",
            "characteristics": MAS_CHARACTERISTICS,
        },
    )
    vpmn_spec, _ = ProductSpecification.objects.get_or_create(
        name="集团V网（VPMN）",
        defaults={"description": "集团短号网", "brand": "中国移动", "lifecycle_status": "Launched"},
    )
    sms_category, _ = Category.objects.get_or_create(
        name="集团短信", defaults={"description": "企业短信类产品"}
    )
    bundle_category, _ = Category.objects.get_or_create(
        name="行业信息化套餐", defaults={"description": "一体化套餐"}
    )
    catalog, _ = Catalog.objects.get_or_create(
        name="河南移动政企产品目录", defaults={"catalog_type": "政企", "version": "2026"}
    )
    catalog.categories.add(sms_category, bundle_category)

    start = clock.now().replace(microsecond=0) - dt.timedelta(seconds=1)
    tiers = []
    for name, port, package, included, overage, rate, links in TIERS:
        offering, created = _offering(
            name,
            specification=spec,
            description=f"包月 {included:,} 条下行短信，许可速率 {rate} 条/秒，{links} 条链路",
            cmpp_versions=["2.0", "3.0"],
            licensed_rate=rate,
            max_links=links,
        )
        offering.categories.add(sms_category)
        if created:
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
            _launch(offering)
        tiers.append(offering)

    vpmn, created = _offering("集团V网 基础包", specification=vpmn_spec, is_sellable=False)
    bundle, bundle_created = _offering(
        "企业信息化一体化套餐（短信+V网）",
        description="集团短信MAS标准版与集团V网打包，套餐价优惠",
        cmpp_versions=["3.0"],
        licensed_rate=100,
        max_links=2,
    )
    bundle.categories.add(bundle_category)
    if bundle_created:
        services.bundle_set_components(
            bundle_id=bundle.pk, components=[(tiers[1].pk, 1), (vpmn.pk, 1)]
        )
        for component, amount, quantity in (
            ("bundle", "1500.00", None),
            ("package_fee", "0.00", 50_000),
            ("overage", "0.04", None),
        ):
            services.offering_price_revise(
                offering_id=bundle.pk,
                component=component,
                amount=Decimal(amount),
                included_quantity=quantity,
                valid_from=start,
            )
        _launch(bundle)
    pilot, pilot_created = _offering(
        "集团短信MAS 5G消息试点版",
        specification=spec,
        description="5G 消息能力试点，尚在设计",
        cmpp_versions=["3.0"],
    )
    if pilot_created:
        services.offering_design(offering_id=pilot.pk, by=None, reason="立项")
    return [
        f"产品 {ProductOffering.objects.count()} 个，其中已上线 {ProductOffering.objects.filter(lifecycle_status='Launched').count()} 个"
    ]
