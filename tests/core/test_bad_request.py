"""Requests Django refuses before any view runs still get an API's JSON error."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "path",
    ["/tmf-api/productCatalogManagement/v4/productOffering", "/api/v1/sms/messages"],
)
def test_a_refused_host_on_an_api_path_gets_the_tmf_error_document(client, path):
    response = client.post(path, data={}, content_type="application/json", HTTP_HOST="e#4")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["@type"] == "Error" and body["status"] == "400"
    assert "referenceError" not in body  # the link would be built from the refused host


def test_a_refused_host_on_a_page_keeps_the_html_answer(client):
    response = client.get("/portal/login/", HTTP_HOST="e#4")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
