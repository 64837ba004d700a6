"""The catalog admin for product managers: lifecycle buttons, price versions, bundles,
import and export, all through the services."""

import datetime as dt
from decimal import Decimal

import pytest
import tablib
from django.urls import reverse
from django.utils import timezone

from core.selectors import state_changes_for
from product_lifecycle import selectors, services
from product_lifecycle.models import (
    BundledOffering,
    Category,
    ProductOffering,
    ProductOfferingPrice,
)
from product_lifecycle.resources import ProductOfferingPriceResource, ProductOfferingResource
from tests.product_lifecycle.factories import ProductOfferingFactory, priced_offering

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, head):
    client.force_login(head)
    return client


def change_url(offering):
    return reverse("admin:product_lifecycle_productoffering_change", args=[offering.pk])


def test_lifecycle_buttons_call_the_services(admin_client, head):
    offering = ProductOfferingFactory()
    page = admin_client.get(change_url(offering)).content.decode()
    assert 'value="design"' in page and 'value="launch"' not in page

    admin_client.post(change_url(offering), {"_transition": "design", "_transition_reason": "立项"})
    offering.refresh_from_db()
    assert offering.lifecycle_status == "In design"
    assert state_changes_for(offering).get().by == head

    admin_client.post(change_url(offering), {"_transition": "test"})
    response = admin_client.post(change_url(offering), {"_transition": "launch"}, follow=True)
    assert "缺少现行价格" in response.content.decode()
    offering.refresh_from_db()
    assert offering.lifecycle_status == "In test"


def test_a_manager_reads_the_catalog_but_cannot_move_it(client, manager):
    offering = ProductOfferingFactory()
    client.force_login(manager)
    assert (
        client.get(reverse("admin:product_lifecycle_productoffering_changelist")).status_code == 200
    )
    page = client.get(change_url(offering)).content.decode()
    assert 'name="_transition"' not in page
    client.post(change_url(offering), {"_transition": "design"})
    offering.refresh_from_db()
    assert offering.lifecycle_status == "In study"


def test_a_price_in_effect_is_read_only_and_a_future_version_is_editable(admin_client, clock):
    offering = priced_offering()
    current = selectors.prices_valid_at(offering.pk, clock.now()).get(component="overage")
    url = reverse("admin:product_lifecycle_productofferingprice_change", args=[current.pk])
    page = admin_client.get(url).content.decode()
    assert 'name="amount"' not in page and 'name="description"' in page

    future = services.offering_price_revise(
        offering_id=offering.pk,
        component="overage",
        amount=Decimal("0.04"),
        valid_from=clock.now() + dt.timedelta(days=10),
    )
    future_url = reverse("admin:product_lifecycle_productofferingprice_change", args=[future.pk])
    form = admin_client.get(future_url).content.decode()
    assert 'name="amount"' in form
    local = timezone.localtime(future.valid_from)
    response = admin_client.post(
        future_url,
        {
            "name": future.name,
            "description": "",
            "component": "overage",
            "price_type": "usage",
            "recurring_period": "",
            "amount": "0.035",
            "currency": "CNY",
            "included_quantity": "",
            "unit_of_measure": "条",
            "lifecycle_status": "Active",
            "version": "",
            "valid_from_0": local.strftime("%Y-%m-%d"),
            "valid_from_1": local.strftime("%H:%M:%S"),
            "valid_to_0": "",
            "valid_to_1": "",
        },
    )
    assert response.status_code == 200  # the form refuses an amount below the fen
    future.refresh_from_db()
    assert future.amount == Decimal("0.04")
    response = admin_client.post(
        future_url,
        {
            "name": future.name,
            "component": "overage",
            "price_type": "usage",
            "amount": "0.02",
            "currency": "CNY",
            "unit_of_measure": "条",
            "lifecycle_status": "Active",
            "valid_from_0": local.strftime("%Y-%m-%d"),
            "valid_from_1": local.strftime("%H:%M:%S"),
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    future.refresh_from_db()
    assert future.amount == Decimal("0.02")


def test_revise_price_makes_a_new_version_and_never_a_retroactive_one(admin_client, clock):
    offering = priced_offering(package="300.00")
    url = reverse("admin:product_lifecycle_productoffering_revise_price", args=[offering.pk])
    assert "改价" in admin_client.get(change_url(offering)).content.decode()
    assert admin_client.get(url).status_code == 200
    start = timezone.localtime(clock.now() + dt.timedelta(days=30))
    response = admin_client.post(
        url,
        {
            "component": "package_fee",
            "amount": "350.00",
            "included_quantity": "12000",
            "valid_from": start.strftime("%Y-%m-%d %H:%M:%S"),
        },
    )
    assert response.status_code == 302
    later = selectors.offering_tariff(offering.pk, at=clock.now() + dt.timedelta(days=31))
    assert (later.package_fee, later.included_messages) == (Decimal("350.00"), 12000)
    assert selectors.offering_tariff(offering.pk, at=clock.now()).package_fee == Decimal("300.00")

    past = timezone.localtime(clock.now() - dt.timedelta(days=3))
    refused = admin_client.post(
        url,
        {
            "component": "overage",
            "amount": "0.01",
            "valid_from": past.strftime("%Y-%m-%d %H:%M:%S"),
        },
    )
    assert refused.status_code == 200 and "追溯" in refused.content.decode()


def test_bundle_components_are_saved_through_the_service(admin_client):
    bundle = ProductOfferingFactory(name="一体化套餐")
    parts = [ProductOfferingFactory(), ProductOfferingFactory()]
    page = admin_client.get(change_url(bundle))
    assert page.status_code == 200
    data = {
        "name": bundle.name,
        "description": "",
        "version": "",
        "specification": bundle.specification_id,
        "is_sellable": "on",
        "cmpp_versions": '["2.0", "3.0"]',
        "licensed_rate": "50",
        "max_links": "1",
        "bundle_items-TOTAL_FORMS": "2",
        "bundle_items-INITIAL_FORMS": "0",
        "bundle_items-MIN_NUM_FORMS": "0",
        "bundle_items-MAX_NUM_FORMS": "1000",
        "bundle_items-0-component": parts[0].pk,
        "bundle_items-0-quantity": "1",
        "bundle_items-1-component": parts[1].pk,
        "bundle_items-1-quantity": "2",
        "prices-TOTAL_FORMS": "0",
        "prices-INITIAL_FORMS": "0",
        "prices-MIN_NUM_FORMS": "0",
        "prices-MAX_NUM_FORMS": "1000",
        "core-statechange-content_type-object_id-TOTAL_FORMS": "0",
        "core-statechange-content_type-object_id-INITIAL_FORMS": "0",
        "core-statechange-content_type-object_id-MIN_NUM_FORMS": "0",
        "core-statechange-content_type-object_id-MAX_NUM_FORMS": "1000",
    }
    response = admin_client.post(change_url(bundle), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    bundle.refresh_from_db()
    assert bundle.is_bundle
    assert sorted(
        BundledOffering.objects.filter(bundle=bundle).values_list("quantity", flat=True)
    ) == [1, 2]


def test_offerings_export_and_import_through_the_services(admin_client, clock):
    launched = priced_offering(name="集团短信MAS 基础版")
    exported = ProductOfferingResource().export()
    assert "集团短信MAS 基础版" in exported.csv and "Launched" in exported.csv

    dataset = tablib.Dataset(
        headers=["名称", "说明", "CMPP版本", "许可速率", "连接数", "生命周期状态"]
    )
    dataset.append(["集团短信MAS 新品", "导入的新产品", "3.0", "80", "2", "Launched"])
    dataset.append(["集团短信MAS 基础版", "改过说明", "2.0,3.0", "20", "1", "Retired"])
    result = ProductOfferingResource().import_data(dataset, dry_run=False)
    assert not result.has_errors() and not result.has_validation_errors()
    new = ProductOffering.objects.get(name="集团短信MAS 新品")
    assert (new.lifecycle_status, new.cmpp_versions, new.licensed_rate) == ("In study", ["3.0"], 80)
    launched.refresh_from_db()
    assert launched.description == "改过说明" and launched.lifecycle_status == "Launched"

    response = admin_client.post(
        reverse("admin:product_lifecycle_productoffering_export"),
        {
            "format": "0",
            "resource": "0",
            **{f"productofferingresource_{f}": "on" for f in ("name",)},
        },
    )
    assert response.status_code == 200


def test_price_import_adds_versions_and_skips_the_ones_it_has(clock):
    offering = priced_offering(name="集团短信MAS 标准版", overage="0.05")
    start = timezone.localtime(clock.now() + dt.timedelta(days=7)).strftime("%Y-%m-%d %H:%M:%S")
    dataset = tablib.Dataset(
        headers=["产品", "价格组成", "名称", "金额（元）", "包含条数", "生效时间"]
    )
    dataset.append(["集团短信MAS 标准版", "overage", "", "0.04", "", start])
    dataset.append(["不存在的产品", "overage", "", "0.04", "", start])
    dataset.append(["集团短信MAS 标准版", "stamp_fee", "", "1", "", start])
    refused = ProductOfferingPriceResource().import_data(
        dataset, dry_run=False, rollback_on_validation_errors=True
    )
    assert refused.has_validation_errors()
    assert ProductOfferingPrice.objects.filter(offering=offering).count() == 3

    good = tablib.Dataset(headers=dataset.headers)
    good.append(["集团短信MAS 标准版", "overage", "", "0.04", "", start])
    result = ProductOfferingPriceResource().import_data(good, dry_run=False)
    assert not result.has_errors() and not result.has_validation_errors()
    again = ProductOfferingPriceResource().import_data(good, dry_run=False)
    assert again.totals["skip"] == 1
    later = selectors.offering_tariff(offering.pk, at=clock.now() + dt.timedelta(days=8))
    assert later.overage_price == Decimal("0.04")
    assert selectors.offering_tariff(offering.pk, at=clock.now()).overage_price == Decimal("0.05")


def test_catalogs_and_categories_are_kept_in_the_admin(admin_client):
    response = admin_client.post(
        reverse("admin:product_lifecycle_category_add"),
        {"name": "行业短信", "description": "", "version": "", "lifecycle_status": "Active"},
    )
    assert response.status_code == 302
    category = Category.objects.get(name="行业短信")
    response = admin_client.post(
        reverse("admin:product_lifecycle_catalog_add"),
        {
            "name": "政企目录",
            "description": "",
            "catalog_type": "政企",
            "version": "2026",
            "lifecycle_status": "Active",
            "categories": [category.pk],
        },
    )
    assert response.status_code == 302
    assert list(category.catalogs.values_list("name", flat=True)) == ["政企目录"]
    page = admin_client.get(reverse("admin:product_lifecycle_productoffering_changelist"))
    assert page.status_code == 200
    assert (
        admin_client.get(
            reverse("admin:product_lifecycle_productofferingprice_changelist")
        ).status_code
        == 200
    )
