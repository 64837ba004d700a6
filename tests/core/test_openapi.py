"""The one OpenAPI document: it covers every TMF endpoint, documents the page maximum, and a
schemathesis run generated from it finds no server error (5xx) in any operation."""

import pytest
import schemathesis
import yaml
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.generation.modes import GenerationMode

from config.wsgi import application
from core.tmf.views import max_limit
from tests.tmf import CATALOG, CUSTOMER, TmfClient, issue_token

pytestmark = pytest.mark.django_db

# Generated cases per operation: enough to reach every handler with odd input while the
# run stays well under a minute (generating the large TMF bodies dominates the time).
EXAMPLES = {GenerationMode.POSITIVE: 8, GenerationMode.NEGATIVE: 5}


def test_the_document_covers_every_tmf_endpoint_and_documents_the_limit(client):
    response = client.get("/api/schema/")
    assert response.status_code == 200
    document = yaml.safe_load(response.content)
    paths = document["paths"]
    for base, resources in (
        (
            CATALOG,
            (
                "catalog",
                "category",
                "productSpecification",
                "productOffering",
                "productOfferingPrice",
            ),
        ),
        (CUSTOMER, ("customer",)),
    ):
        for resource in resources:
            assert set(paths[f"{base}/{resource}"]) == {"get", "post"}
            assert set(paths[f"{base}/{resource}/{{id}}"]) == {"get", "patch", "delete"}
            limit = next(
                p for p in paths[f"{base}/{resource}"]["get"]["parameters"] if p["name"] == "limit"
            )
            assert f"maximum {max_limit()}" in limit["description"]
            patch = paths[f"{base}/{resource}/{{id}}"]["patch"]["requestBody"]
            assert set(patch["content"]) == {"application/json", "application/merge-patch+json"}
            assert patch["required"] is True
            assert paths[f"{base}/{resource}"]["post"]["requestBody"]["required"] is True
        assert set(paths[f"{base}/hub"]) == {"post"}
        assert set(paths[f"{base}/hub/{{id}}"]) == {"delete"}
    schemas = document["components"]["schemas"]
    assert "TMF620_ProductOffering" in schemas and "TMF629_Customer" in schemas
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert client.get("/api/docs/").status_code == 200


def test_the_swagger_ui_is_served_from_local_assets(client):
    page = client.get("/api/docs/").content.decode()
    assert "swagger-ui" in page and "cdn." not in page and "unpkg" not in page


@pytest.fixture
def superuser_token(make_user, clock):
    from customers.demo import seed as seed_customers
    from product_lifecycle.demo import seed as seed_catalog

    seed_customers()
    seed_catalog()
    user = make_user(None, username="root", is_superuser=True, is_staff=True)
    return issue_token(user, "")


def fuzz(operation, mode, examples, headers, failures):
    """Run generated cases of one operation, noting every 5xx answer."""

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def call(case):
        response = case.call(headers=headers)
        if response.status_code >= 500:
            failures.append(
                f"{mode} {case.method} {case.formatted_path} {case.query} "
                f"{str(case.body)[:300]} -> {response.status_code} {response.text[:300]}"
            )
        elif response.status_code != 204:
            content_type = (response.headers.get("content-type") or [""])[0]
            assert content_type.startswith("application/json"), (
                case.method,
                case.formatted_path,
                case.query,
                response.status_code,
                dict(response.headers),
            )

    call()


@pytest.fixture
def wsgi_keeps_the_test_connection():
    """Calling the real WSGI app sends request_started/finished, which would close the
    test's database connection mid-transaction on PostgreSQL; Django's own test client
    disconnects close_old_connections the same way."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def test_no_operation_answers_with_a_server_error(superuser_token, wsgi_keeps_the_test_connection):
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)
    headers = {"Authorization": f"Bearer {superuser_token}"}
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if not operation.path.startswith("/tmf-api/"):
            continue
        operations += 1
        for mode, examples in EXAMPLES.items():
            fuzz(operation, mode, examples, headers, failures)
    # 6 resources × 5 operations, 2 hubs × 2; TMF678: customerBill 3, its rates 2,
    # on-demand requests 3, hub 2.
    assert operations == 44
    assert not failures, "\n".join(failures[:10])
    # The API still answers sensibly after the fuzzing.
    assert TmfClient(superuser_token).get(f"{CATALOG}/productOffering").status_code == 200
