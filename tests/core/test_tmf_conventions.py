"""TMF-CONVENTIONS.md, checked on every resource of every TMF API (TMF620, TMF622, TMF629).

Each case is the same rule applied to each resource; resource-specific behaviour (state
machines, references, domain rules) is tested with the app.
"""

import datetime as dt
import json

import pytest

from core.roles import Role
from tests.tmf import (
    CATALOG,
    CUSTOMER,
    ORDERING,
    TmfClient,
    assert_tmf_error,
    issue_token,
    spec_problems,
)

pytestmark = pytest.mark.django_db

PARTY = {"id": "org-77", "@referredType": "Organization", "name": "郑州某公司"}
RESOURCES = {
    "catalog": (CATALOG, "TMF620", "Catalog", {"name": "河南移动政企产品目录"}, {"category": {}}),
    "category": (CATALOG, "TMF620", "Category", {"name": "行业短信"}, {"subCategory": "x"}),
    "productSpecification": (
        CATALOG,
        "TMF620",
        "ProductSpecification",
        {"name": "集团短信 MAS"},
        {"productSpecCharacteristic": {"name": "rate"}},
    ),
    "productOffering": (
        CATALOG,
        "TMF620",
        "ProductOffering",
        {"name": "集团短信MAS 测试套餐"},
        {"category": {"id": "1"}},
    ),
    "productOfferingPrice": (
        CATALOG,
        "TMF620",
        "ProductOfferingPrice",
        {"name": "独立短信端口费", "price": {"unit": "CNY", "value": 100}},
        {"price": [100]},
    ),
    "customer": (
        CUSTOMER,
        "TMF629",
        "Customer",
        {"name": "郑州豫信物流有限公司", "engagedParty": PARTY},
        {"contactMedium": {"mediumType": "email"}},
    ),
    "productOrder": (
        ORDERING,
        "TMF622",
        "ProductOrder",
        {"productOrderItem": [{"id": "1", "action": "add", "productOffering": {"id": "9"}}]},
        {"productOrderItem": {"id": "1", "action": "add"}},
    ),
}
STATE = {"Customer": "status", "ProductOrder": "state"}
# A free-text attribute to write, filter and project, and a mandatory one (for resources
# without a `name`).
TEXT = {"ProductOrder": "description"}
MANDATORY = {"ProductOrder": "productOrderItem"}


@pytest.fixture(params=list(RESOURCES))
def resource(request, head, clock):
    base, prefix, tmf_type, minimal, wrong_type = RESOURCES[request.param]
    return {
        "path": f"{base}/{request.param}",
        "base": base,
        "prefix": prefix,
        "type": tmf_type,
        "minimal": minimal,
        "wrong_type": wrong_type,
        "state": STATE.get(tmf_type, "lifecycleStatus"),
        "text": TEXT.get(tmf_type, "name"),
        "mandatory": MANDATORY.get(tmf_type, "name"),
        "api": TmfClient(issue_token(head, Role.DEPARTMENT_HEAD)),
        "clock": clock,
    }


def create(resource, text=None, **extra):
    if text is not None:
        extra[resource["text"]] = text
    response = resource["api"].post(resource["path"], {**resource["minimal"], **extra})
    assert response.status_code == 201, response.content
    return response


def test_create_returns_201_the_whole_resource_and_its_location(resource):
    response = create(resource)
    body = response.json()
    assert isinstance(body["id"], str) and isinstance(body["href"], str)
    assert body["href"].startswith("http://testserver/tmf-api/")
    assert body["href"].endswith(f"/{body['id']}")
    assert response["Location"] == body["href"]
    assert body["@type"] == resource["type"]
    assert body[resource["state"]]
    assert not spec_problems(resource["prefix"], resource["type"], body)
    assert resource["api"].get(body["href"].removeprefix("http://testserver")).json() == body


def test_server_set_attributes_and_the_state_are_ignored_on_create(resource):
    body = create(
        resource,
        id="client-id",
        href="http://elsewhere.example/x",
        lastUpdate="2001-01-01T00:00:00Z",
        **{resource["state"]: "Retired", "@type": "Something", "unknownAttribute": {"x": 1}},
    ).json()
    assert body["id"] != "client-id" and body["href"].startswith("http://testserver/")
    assert body[resource["state"]] not in ("Retired",)
    assert "unknownAttribute" not in body
    assert body["@type"] == resource["type"]
    if "lastUpdate" in body:
        assert body["lastUpdate"] == "2026-11-25T02:00:00.000Z"


def test_a_missing_mandatory_attribute_or_a_wrong_type_is_400(resource):
    minimal = resource["minimal"]
    for missing in [name for name in minimal if name != "price"]:
        body = {k: v for k, v in minimal.items() if k != missing}
        error = assert_tmf_error(resource["api"].post(resource["path"], body), 400)
        assert missing in error["message"]
    error = assert_tmf_error(
        resource["api"].post(resource["path"], {**minimal, **resource["wrong_type"]}), 400
    )
    assert "wrong type" in error["message"]
    assert_tmf_error(resource["api"].post(resource["path"], [minimal]), 400)
    assert_tmf_error(resource["api"].post(resource["path"], "{not json"), 400)


def test_collections_are_bare_arrays_newest_first_with_count_headers_and_paging(resource):
    ids = []
    for number in range(3):
        ids.append(create(resource, text=f"第{number}个").json()["id"])
        resource["clock"].advance(minutes=1)
    api, path = resource["api"], resource["path"]

    response = api.get(path)
    assert response.status_code == 200
    listed = [item["id"] for item in response.json() if item["id"] in ids]
    assert listed == ids[::-1]
    total = int(response["X-Total-Count"])
    assert int(response["X-Result-Count"]) == len(response.json()) == total

    page = api.get(f"{path}?offset=1&limit=1")
    assert [item["id"] for item in page.json()] == [response.json()[1]["id"]]
    assert page["X-Total-Count"] == str(total) and page["X-Result-Count"] == "1"
    assert api.get(f"{path}?offset={total}").json() == []
    assert api.get(f"{path}?limit=0")["X-Total-Count"] == str(total)
    assert len(api.get(f"{path}?limit=100000").json()) == total
    for bad in ("-1", "abc", "1.5"):
        assert_tmf_error(api.get(f"{path}?limit={bad}"), 400)
        assert_tmf_error(api.get(f"{path}?offset={bad}"), 400)


def test_fields_selects_attributes(resource):
    text = resource["text"]
    created = create(resource, text="选取").json()
    api, path = resource["api"], resource["path"]
    items = api.get(f"{path}?fields={text}").json()
    assert items and all(set(item) == {"id", "href", text} for item in items)
    one = api.get(f"{path}/{created['id']}?fields={text},{resource['state']}").json()
    assert one == {text: created[text], resource["state"]: created[resource["state"]]}


def test_attribute_filters_match_exactly(resource):
    text = resource["text"]
    first = create(resource, text="甲").json()
    resource["clock"].advance(seconds=5)
    create(resource, text="乙")
    api, path = resource["api"], resource["path"]
    assert [i["id"] for i in api.get(f"{path}?{text}=甲").json()] == [first["id"]]
    assert api.get(f"{path}?{text}=甲")["X-Total-Count"] == "1"
    assert api.get(f"{path}?{text}=甲乙").json() == []
    assert api.get(f"{path}?unknownAttribute=1").json() == []
    state = first[resource["state"]]
    matching = api.get(f"{path}?{resource['state']}={state}&{text}=甲").json()
    assert [i["id"] for i in matching] == [first["id"]]
    assert [i["id"] for i in api.get(f"{path}?id={first['id']}").json()] == [first["id"]]
    if "lastUpdate" in first:
        stamped = api.get(f"{path}?lastUpdate={first['lastUpdate']}").json()
        assert [i["id"] for i in stamped] == [first["id"]]


@pytest.mark.parametrize("content_type", ["application/merge-patch+json", "application/json"])
def test_patch_returns_200_and_the_whole_resource(resource, content_type):
    created = create(resource).json()
    response = resource["api"].patch(
        f"{resource['path']}/{created['id']}",
        {resource["text"]: "改过的名字", "unknownAttribute": 1},
        content_type=content_type,
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body[resource["text"]] == "改过的名字"
    assert body["id"] == created["id"] and body["@type"] == resource["type"]
    assert set(created) - {"lastUpdate"} <= set(body)
    assert not spec_problems(resource["prefix"], resource["type"], body)


def test_patch_rules(resource):
    created = create(resource).json()
    url = f"{resource['path']}/{created['id']}"
    api = resource["api"]
    assert_tmf_error(
        api.patch(url, "name=x", content_type="application/x-www-form-urlencoded"), 415
    )
    assert_tmf_error(
        api.patch(url, [{"op": "replace"}], content_type="application/json-patch+json"), 415
    )
    assert_tmf_error(api.patch(url, {"id": "other"}), 400)
    assert_tmf_error(api.patch(url, {resource["mandatory"]: None}), 400)
    assert_tmf_error(api.patch(url, [1, 2]), 400)
    same = api.patch(url, {"id": created["id"], "href": created["href"]})
    assert same.status_code == 200
    current = created[resource["state"]]
    assert api.patch(url, {resource["state"]: current}).json()[resource["state"]] == current


def test_delete_is_204_and_then_404(resource):
    created = create(resource).json()
    url = f"{resource['path']}/{created['id']}"
    response = resource["api"].delete(url)
    assert response.status_code == 204 and response.content == b""
    assert_tmf_error(resource["api"].get(url), 404)
    assert_tmf_error(resource["api"].delete(url), 404)


@pytest.mark.parametrize("bad_id", ["999999", "abc", "-1", "1.5", "9" * 40, "%20", "１", "0"])
def test_an_unknown_id_is_404_whatever_it_looks_like(resource, bad_id):
    api, url = resource["api"], f"{resource['path']}/{bad_id}"
    assert_tmf_error(api.get(url), 404)
    assert_tmf_error(api.patch(url, {"name": "x"}), 404)
    assert_tmf_error(api.delete(url), 404)


def test_every_path_and_method_works_with_a_trailing_slash_without_redirect(resource):
    api, path = resource["api"], resource["path"]
    created = api.post(f"{path}/", resource["minimal"])
    assert created.status_code == 201
    url = f"{path}/{created.json()['id']}/"
    assert api.get(f"{path}/").status_code == 200
    assert api.get(url).status_code == 200
    assert api.patch(url, {resource["text"]: "斜杠"}).status_code == 200
    assert api.delete(url).status_code == 204
    assert_tmf_error(api.get(url), 404)


def test_wrong_methods_are_405(resource):
    created = create(resource).json()
    api, path = resource["api"], resource["path"]
    assert_tmf_error(api.put(f"{path}/{created['id']}", resource["minimal"]), 405)
    assert_tmf_error(api.delete(path), 405)
    assert_tmf_error(api.patch(path, {"name": "x"}), 405)
    assert_tmf_error(api.post(f"{path}/{created['id']}", resource["minimal"]), 405)


def test_calls_without_valid_credentials_are_401(resource):
    anonymous = TmfClient()
    response = anonymous.get(resource["path"])
    assert_tmf_error(response, 401)
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert_tmf_error(TmfClient("mas_not-a-token").get(resource["path"]), 401)
    assert_tmf_error(anonymous.post(resource["path"], resource["minimal"]), 401)


def test_json_out_is_utf8_without_escapes_and_accept_with_charset_is_fine(resource):
    create(resource, text="郑州")
    response = resource["api"].get(resource["path"], HTTP_ACCEPT="application/json; charset=utf-8")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert "郑州".encode() in response.content and b"\\u" not in response.content
    assert json.loads(response.content.decode("utf-8"))


def test_unknown_paths_under_the_api_are_a_tmf_404(resource):
    assert_tmf_error(resource["api"].get(f"{resource['base']}/noSuchResource"), 404)
    assert_tmf_error(resource["api"].post(f"{resource['base']}/noSuchResource/1/x", {}), 404)


def test_an_unexpected_failure_is_a_tmf_500(resource, monkeypatch):
    from core.tmf.views import TmfViewSet

    def explode(self, obj):
        raise RuntimeError("boom")

    create(resource)
    monkeypatch.setattr(TmfViewSet, "represent", explode)
    body = assert_tmf_error(resource["api"].get(resource["path"]), 500)
    assert "boom" not in body["message"]


def test_session_authentication_works_for_the_browser(resource, client, head):
    client.force_login(head)
    assert client.get(resource["path"]).status_code == 200
    created = client.post(
        resource["path"], json.dumps(resource["minimal"]), content_type="application/json"
    )
    assert created.status_code == 201


def test_dates_are_utc_z_with_milliseconds(resource):
    body = create(resource).json()
    stamps = [v for k, v in body.items() if k in ("lastUpdate", "orderDate")]
    for value in stamps:
        assert dt.datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ")
        assert len(value) == len("2026-11-25T02:00:00.000Z")


def test_nul_characters_and_huge_offsets_are_handled(resource):
    api, path = resource["api"], resource["path"]
    assert_tmf_error(api.post(path, {**resource["minimal"], resource["text"]: "a\x00b"}), 400)
    assert_tmf_error(api.get(f"{path}?{resource['text']}=a%00b"), 400)
    created = create(resource).json()
    assert_tmf_error(api.patch(f"{path}/{created['id']}", {"description": "\x00"}), 400)
    assert_tmf_error(api.get(f"{path}/1%00"), 404)
    huge = api.get(f"{path}?offset={'9' * 30}")
    assert huge.status_code == 200 and huge.json() == []
