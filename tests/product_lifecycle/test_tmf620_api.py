"""TMF620 productCatalogManagement over the catalog: lifecycle, references, prices, roles."""

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.test import override_settings

from core.models import StateChange
from core.roles import Role
from customers.models import EnterpriseMembership
from product_lifecycle import selectors, services
from product_lifecycle.models import (
    BundledOffering,
    Category,
    ProductOffering,
    ProductOfferingPrice,
    ProductSpecification,
)
from tests.customers.factories import EnterpriseFactory
from tests.product_lifecycle.factories import ProductOfferingFactory, priced_offering
from tests.tmf import CATALOG, TmfClient, assert_tmf_error, issue_token, spec_problems

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(head):
    return TmfClient(issue_token(head, Role.DEPARTMENT_HEAD))


def offering_url(offering) -> str:
    return f"{CATALOG}/productOffering/{offering.pk}"


def test_the_lifecycle_moves_by_patch_through_the_services(api, head, clock):
    offering = ProductOfferingFactory()
    url = offering_url(offering)

    refused = assert_tmf_error(api.patch(url, {"lifecycleStatus": "Launched"}), 409)
    assert refused["allowedValues"] == ["In study", "In design"]
    assert "In design" in refused["message"]

    for state in ("In design", "In test"):
        assert api.patch(url, {"lifecycleStatus": state}).json()["lifecycleStatus"] == state
    missing = assert_tmf_error(api.patch(url, {"lifecycleStatus": "Launched"}), 409)
    assert "缺少现行价格" in missing["message"]
    assert ProductOffering.objects.get(pk=offering.pk).lifecycle_status == "In test"

    for component, amount, included in (
        ("port_fee", "100.00", None),
        ("package_fee", "300.00", 10_000),
        ("overage", "0.05", None),
    ):
        services.offering_price_revise(
            offering_id=offering.pk,
            component=component,
            amount=Decimal(amount),
            included_quantity=included,
            valid_from=clock.now(),
        )
    launched = api.patch(url, {"lifecycleStatus": "Launched", "statusReason": "试点通过"})
    assert launched.status_code == 200
    assert launched.json()["lifecycleStatus"] == "Launched"
    assert launched.json()["statusReason"] == "试点通过"
    change = StateChange.objects.filter(object_id=offering.pk, to_state="Launched").get()
    assert change.by == head and change.reason == "试点通过"
    assert api.patch(url, {"lifecycleStatus": "Launched"}).status_code == 200


def test_the_clients_spelling_is_returned_while_it_holds(api, clock):
    offering = priced_offering(launch=False)
    services.offering_design(offering_id=offering.pk, by=None)
    services.offering_test(offering_id=offering.pk, by=None)
    url = offering_url(offering)

    assert api.patch(url, {"lifecycleStatus": "active"}).json()["lifecycleStatus"] == "active"
    assert ProductOffering.objects.get(pk=offering.pk).lifecycle_status == "Launched"
    assert [
        o["id"] for o in api.get(f"{CATALOG}/productOffering?lifecycleStatus=active").json()
    ] == [str(offering.pk)]
    assert api.get(f"{CATALOG}/productOffering?lifecycleStatus=Launched").json() == []

    services.offering_retire(offering_id=offering.pk, by=None, reason="换代")
    assert api.get(url).json()["lifecycleStatus"] == "Retired"
    assert len(api.get(f"{CATALOG}/productOffering?lifecycleStatus=Retired").json()) == 1
    unknown = assert_tmf_error(api.patch(url, {"lifecycleStatus": "Rejected"}), 409)
    assert unknown["allowedValues"] == ["Retired"]


def test_references_to_unknown_resources_are_kept(api):
    category = Category.objects.create(name="集团短信")
    body = {
        "name": "外部规格的产品",
        "productSpecification": {"id": "spec-x", "name": "外部规格", "@referredType": "X"},
        "category": [{"id": str(category.pk)}, {"id": "cat-404", "name": "不存在的分类"}],
        "productOfferingPrice": [{"id": "pop-404"}],
        "bundledProductOffering": [{"id": "999999", "name": "外部产品"}],
        "channel": [{"id": "ch-1", "name": "政企渠道"}],
        "productOfferingTerm": [{"name": "一年", "duration": {"amount": 1, "units": "year"}}],
    }
    created = api.post(f"{CATALOG}/productOffering", body)
    assert created.status_code == 201, created.content
    document = api.get(created.json()["href"].removeprefix("http://testserver")).json()
    assert document["productSpecification"] == body["productSpecification"]
    assert document["category"][0]["id"] == str(category.pk)
    assert document["category"][0]["href"].endswith(f"/category/{category.pk}")
    assert document["category"][0]["name"] == "集团短信"
    assert document["category"][1] == {"id": "cat-404", "name": "不存在的分类"}
    assert document["productOfferingPrice"] == [{"id": "pop-404"}]
    assert document["bundledProductOffering"] == [{"id": "999999", "name": "外部产品"}]
    assert document["channel"] == body["channel"]
    assert document["productOfferingTerm"] == body["productOfferingTerm"]
    assert not spec_problems("TMF620", "ProductOffering", document)
    offering = ProductOffering.objects.get(pk=document["id"])
    assert list(offering.categories.all()) == [category] and offering.specification is None

    patched = api.patch(
        f"{CATALOG}/productOffering/{offering.pk}", {"category": [{"id": "cat-405"}]}
    ).json()
    assert patched["category"] == [{"id": "cat-405"}]
    assert not offering.categories.exists()


def test_sold_options_and_bundles(api):
    parts = [ProductOfferingFactory(), ProductOfferingFactory()]
    body = {
        "name": "一体化套餐",
        "isBundle": True,
        "bundledProductOffering": [
            {"id": str(parts[0].pk), "bundledProductOfferingOption": {"numberRelOfferDefault": 2}},
            {"id": str(parts[1].pk)},
        ],
        "prodSpecCharValueUse": [
            {"name": "cmppVersion", "productSpecCharacteristicValue": [{"value": "3.0"}]},
            {"name": "licensedRate", "productSpecCharacteristicValue": [{"value": 100}]},
            {"name": "links", "productSpecCharacteristicValue": [{"value": 2}]},
            {"name": "colour", "productSpecCharacteristicValue": [{"value": "red"}]},
        ],
    }
    document = api.post(f"{CATALOG}/productOffering", body).json()
    offering = ProductOffering.objects.get(pk=document["id"])
    assert (offering.cmpp_versions, offering.licensed_rate, offering.max_links) == (["3.0"], 100, 2)
    assert sorted(
        BundledOffering.objects.filter(bundle=offering).values_list("quantity", flat=True)
    ) == [1, 2]
    options = {use["name"]: use for use in document["prodSpecCharValueUse"]}
    assert options["licensedRate"]["productSpecCharacteristicValue"][0]["value"] == 100
    assert options["colour"] == body["prodSpecCharValueUse"][3]
    quantities = [
        item["bundledProductOfferingOption"]["numberRelOfferDefault"]
        for item in document["bundledProductOffering"]
    ]
    assert sorted(quantities) == [1, 2]

    wrong = {
        "prodSpecCharValueUse": [
            {"name": "cmppVersion", "productSpecCharacteristicValue": [{"value": "4.0"}]}
        ]
    }
    assert (
        "2.0 and 3.0"
        in assert_tmf_error(api.patch(f"{CATALOG}/productOffering/{offering.pk}", wrong), 400)[
            "message"
        ]
    )


def test_a_price_is_recorded_then_attached_and_the_component_follows_the_spec_attributes(
    api, clock
):
    offering = ProductOfferingFactory()
    prices = {}
    for key, body in {
        "port": {
            "priceType": "recurring",
            "recurringChargePeriodType": "month",
            "price": {"unit": "CNY", "value": 120},
        },
        "package": {
            "priceType": "recurring",
            "recurringChargePeriodType": "month",
            "price": {"unit": "CNY", "value": 350.5},
            "unitOfMeasure": {"amount": 12000, "units": "条"},
        },
        "overage": {
            "priceType": "usage",
            "price": {"unit": "CNY", "value": 0.04},
            "unitOfMeasure": {"amount": 1, "units": "条"},
        },
    }.items():
        response = api.post(f"{CATALOG}/productOfferingPrice", {"name": key, **body})
        assert response.status_code == 201, response.content
        prices[key] = response.json()
        assert not spec_problems("TMF620", "ProductOfferingPrice", prices[key])
    assert prices["package"]["unitOfMeasure"] == {"amount": 12000, "units": "条"}
    assert prices["package"]["price"] == {"unit": "CNY", "value": 350.5}
    rows = {p.name: p for p in ProductOfferingPrice.objects.all()}
    assert (rows["port"].component, rows["package"].component, rows["overage"].component) == (
        "port_fee",
        "package_fee",
        "overage",
    )
    assert rows["package"].included_quantity == 12000

    refs = [{"id": p["id"]} for p in prices.values()]
    patched = api.patch(offering_url(offering), {"productOfferingPrice": refs})
    assert patched.status_code == 200, patched.content
    assert {p["id"] for p in patched.json()["productOfferingPrice"]} == {
        p["id"] for p in prices.values()
    }
    tariff = selectors.offering_tariff(offering.pk, at=clock.now())
    assert (
        tariff.port_fee,
        tariff.package_fee,
        tariff.included_messages,
        tariff.overage_price,
    ) == (
        Decimal("120.00"),
        Decimal("350.50"),
        12000,
        Decimal("0.04"),
    )

    assert (
        "fen"
        in assert_tmf_error(
            api.post(f"{CATALOG}/productOfferingPrice", {"name": "x", "price": {"value": 0.001}}),
            400,
        )["message"]
    )


def test_a_price_in_effect_is_frozen_and_a_future_version_is_not(api, clock):
    offering = priced_offering()
    current = selectors.prices_valid_at(offering.pk, clock.now()).get(component="overage")
    url = f"{CATALOG}/productOfferingPrice/{current.pk}"

    frozen = assert_tmf_error(api.patch(url, {"price": {"unit": "CNY", "value": 0.01}}), 409)
    assert "价格已生效" in frozen["message"]
    assert api.patch(url, {"description": "按条计费"}).json()["description"] == "按条计费"
    assert api.patch(url, {"lifecycleStatus": "Obsolete"}).json()["lifecycleStatus"] == "Obsolete"
    assert_tmf_error(api.delete(url), 409)

    start = clock.now() + dt.timedelta(days=30)
    future = services.offering_price_revise(
        offering_id=offering.pk, component="overage", amount=Decimal("0.03"), valid_from=start
    )
    future_url = f"{CATALOG}/productOfferingPrice/{future.pk}"
    assert (
        api.patch(future_url, {"price": {"unit": "CNY", "value": 0.02}}).json()["price"]["value"]
        == 0.02
    )
    assert api.delete(future_url).status_code == 204
    current.refresh_from_db()
    assert current.valid_to is None


def test_prices_of_a_launched_offering_stay_and_new_ones_cannot_start_in_the_past(api, clock):
    offering = priced_offering()
    url = offering_url(offering)
    assert_tmf_error(api.patch(url, {"productOfferingPrice": []}), 409)
    past = api.post(
        f"{CATALOG}/productOfferingPrice",
        {
            "name": "补录端口费",
            "priceType": "recurring",
            "price": {"unit": "CNY", "value": 90},
            "validFor": {"startDateTime": "2020-01-01T00:00:00Z"},
        },
    ).json()
    current = [{"id": p["id"]} for p in api.get(url).json()["productOfferingPrice"]]
    refused = assert_tmf_error(
        api.patch(url, {"productOfferingPrice": [*current, {"id": past["id"]}]}), 400
    )
    assert "不能追溯生效" in refused["message"]


def test_what_may_be_deleted(api, clock):
    launched = priced_offering()
    assert "退市" in assert_tmf_error(api.delete(offering_url(launched)), 409)["message"]
    draft = priced_offering(launch=False)
    assert api.delete(offering_url(draft)).status_code == 204
    assert not ProductOfferingPrice.objects.filter(offering_id=draft.pk).exists()

    spec = ProductSpecification.objects.get(pk=launched.specification_id)
    assert_tmf_error(api.delete(f"{CATALOG}/productSpecification/{spec.pk}"), 409)

    parent = Category.objects.create(name="上级")
    Category.objects.create(name="下级", parent=parent)
    assert_tmf_error(api.delete(f"{CATALOG}/category/{parent.pk}"), 409)


def test_the_category_tree(api):
    root = api.post(f"{CATALOG}/category", {"name": "集团短信"}).json()
    assert root["isRoot"] is True
    child = api.post(f"{CATALOG}/category", {"name": "行业短信", "parentId": root["id"]}).json()
    assert child["isRoot"] is False and child["parentId"] == root["id"]
    root_now = api.get(f"{CATALOG}/category/{root['id']}").json()
    assert [c["id"] for c in root_now["subCategory"]] == [child["id"]]
    foreign = api.post(f"{CATALOG}/category", {"name": "外部", "parentId": "ext-1"}).json()
    assert foreign["parentId"] == "ext-1" and foreign["isRoot"] is False
    cycle = api.patch(f"{CATALOG}/category/{root['id']}", {"parentId": child["id"]})
    assert "自己的上级" in assert_tmf_error(cycle, 400)["message"]

    catalog = api.post(
        f"{CATALOG}/catalog", {"name": "目录", "category": [{"id": root["id"]}, {"id": "c-x"}]}
    ).json()
    assert [c["id"] for c in catalog["category"]] == [root["id"], "c-x"]
    assert catalog["category"][0]["@referredType"] == "Category"


def test_free_text_lifecycle_status_is_stored_exactly(api):
    created = api.post(f"{CATALOG}/catalog", {"name": "目录", "lifecycleStatus": "Launched"}).json()
    assert created["lifecycleStatus"] == "Active"
    url = f"{CATALOG}/catalog/{created['id']}"
    assert api.patch(url, {"lifecycleStatus": "in DESIGN"}).json()["lifecycleStatus"] == "in DESIGN"
    assert len(api.get(f"{CATALOG}/catalog?lifecycleStatus=in DESIGN").json()) == 1


@override_settings(TMF_MAX_LIMIT=100, TMF_DEFAULT_LIMIT=20)
def test_a_page_never_exceeds_the_server_maximum(api):
    ProductSpecification.objects.bulk_create(
        ProductSpecification(name=f"规格{n}") for n in range(120)
    )
    response = api.get(f"{CATALOG}/productSpecification?limit=500")
    assert (response["X-Total-Count"], response["X-Result-Count"]) == ("120", "100")
    assert api.get(f"{CATALOG}/productSpecification")["X-Result-Count"] == "20"


def test_database_filters_agree_with_filtering_the_documents(api, clock, monkeypatch):
    from product_lifecycle.api.views import ProductOfferingViewSet

    priced_offering()
    clock.advance(seconds=3)
    draft = ProductOfferingFactory(version="2.0", is_sellable=False)
    api.patch(offering_url(draft), {"lifecycleStatus": "In design"})
    documents = api.get(f"{CATALOG}/productOffering").json()
    queries = [
        f"{name}={document[name]}".replace("True", "true").replace("False", "false")
        for document in documents
        for name in ("name", "version", "lifecycleStatus", "lastUpdate", "id")
        if name in document
    ] + ["isBundle=false", "isSellable=false", "isSellable=true", "lifecycleStatus=Launched"]
    in_database = {q: api.get(f"{CATALOG}/productOffering?{q}").json() for q in queries}
    monkeypatch.setattr(ProductOfferingViewSet, "filter_fields", {})
    for query, found in in_database.items():
        assert api.get(f"{CATALOG}/productOffering?{query}").json() == found, query
        assert found, query


@pytest.mark.parametrize(
    ("role", "reads", "writes"),
    [
        (Role.DEPARTMENT_HEAD, 200, 201),
        (Role.CUSTOMER_MANAGER, 200, 403),
        (Role.NOC_ENGINEER, 200, 403),
        (Role.FINANCE, 200, 403),
    ],
)
def test_the_catalog_is_read_by_staff_and_written_by_product_managers(
    make_user, role, reads, writes
):
    api = TmfClient(issue_token(make_user(role, username=f"u_{role.value}"), role))
    for resource in (
        "catalog",
        "category",
        "productSpecification",
        "productOffering",
        "productOfferingPrice",
    ):
        assert api.get(f"{CATALOG}/{resource}").status_code == reads
    response = api.post(f"{CATALOG}/category", {"name": "新分类"})
    assert response.status_code == writes
    if writes == 403:
        assert_tmf_error(response, 403)


def test_a_token_acts_only_in_its_role(make_user):
    user = make_user(Role.DEPARTMENT_HEAD, username="both")
    user.groups.add(Group.objects.get(name=Role.CUSTOMER_MANAGER))
    narrow = TmfClient(issue_token(user, Role.CUSTOMER_MANAGER))
    assert narrow.get(f"{CATALOG}/category").status_code == 200
    assert_tmf_error(narrow.post(f"{CATALOG}/category", {"name": "x"}), 403)
    wide = TmfClient(issue_token(user, Role.DEPARTMENT_HEAD))
    assert wide.post(f"{CATALOG}/category", {"name": "x"}).status_code == 201


def test_enterprise_callers_are_refused_the_catalog(make_user):
    portal_user = make_user(Role.ENTERPRISE_ADMIN, username="ent")
    enterprise = EnterpriseFactory()
    EnterpriseMembership.objects.create(user=portal_user, enterprise=enterprise)
    api = TmfClient(issue_token(portal_user, Role.ENTERPRISE_ADMIN, enterprise=enterprise))
    assert_tmf_error(api.get(f"{CATALOG}/productOffering"), 403)


def test_the_seeded_catalog_conforms_to_the_specification(api, clock):
    from product_lifecycle.demo import seed

    seed()
    checked = 0
    for resource, definition in (
        ("catalog", "Catalog"),
        ("category", "Category"),
        ("productSpecification", "ProductSpecification"),
        ("productOffering", "ProductOffering"),
        ("productOfferingPrice", "ProductOfferingPrice"),
    ):
        items = api.get(f"{CATALOG}/{resource}").json()
        assert items, resource
        for item in items:
            assert not spec_problems("TMF620", definition, item), (resource, item["id"])
            assert "lifecycleStatus" in item and "lastUpdate" in item
            checked += 1
    assert checked > 10
