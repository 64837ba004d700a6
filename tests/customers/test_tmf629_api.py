"""TMF629 customerManagement over the enterprise file: mapping, status, scoping, delete."""

import pytest

from core.roles import Role
from customers import services
from customers.models import Contact, Enterprise, EnterpriseMembership
from tests.customers.factories import ContactFactory, EnterpriseFactory, active_enterprise
from tests.tmf import CUSTOMER, TmfClient, assert_tmf_error, issue_token, spec_problems

pytestmark = pytest.mark.django_db

PARTY = {"id": "org-77", "@referredType": "Organization", "name": "郑州豫信物流有限公司"}


@pytest.fixture
def manager_api(manager):
    return TmfClient(issue_token(manager, Role.CUSTOMER_MANAGER))


@pytest.fixture
def head_api(head):
    return TmfClient(issue_token(head, Role.DEPARTMENT_HEAD))


def customer_url(pk) -> str:
    return f"{CUSTOMER}/customer/{pk}"


def valid_credit_code() -> str:
    from customers.credit_code import make_credit_code

    return make_credit_code(region="410100", serial=77000001)


def test_a_customer_with_only_the_mandatory_attributes_is_a_prospect(manager_api, manager):
    response = manager_api.post(
        f"{CUSTOMER}/customer",
        {"name": "郑州豫信物流有限公司", "engagedParty": PARTY, "status": "active"},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "prospect"
    assert body["engagedParty"] == PARTY
    enterprise = Enterprise.objects.get(pk=body["id"])
    assert enterprise.status == Enterprise.Status.PROSPECT
    assert enterprise.account_manager == manager and enterprise.credit_code == ""
    assert {"id": str(manager.pk), "role": "accountManager"}.items() <= body["relatedParty"][
        0
    ].items()
    assert not spec_problems("TMF629", "Customer", body)


def test_activation_needs_a_complete_file_and_goes_through_the_service(manager_api, manager):
    created = manager_api.post(
        f"{CUSTOMER}/customer", {"name": "郑州豫信物流有限公司", "engagedParty": PARTY}
    ).json()
    url = customer_url(created["id"])

    refused = assert_tmf_error(manager_api.patch(url, {"status": "Approved"}), 409)
    assert "统一社会信用代码" in refused["message"] and "城市" in refused["message"]
    assert refused["allowedValues"] == ["prospect", "active", "closed"]
    assert Enterprise.objects.get(pk=created["id"]).status == "prospect"

    completed = manager_api.patch(
        url,
        {
            "characteristic": [
                {"name": "creditCode", "value": valid_credit_code()},
                {"name": "industry", "value": "交通物流"},
                {"name": "grade", "value": "a"},
                {"name": "province", "value": "河南"},
                {"name": "salesChannel", "value": "直销"},
            ],
            "contactMedium": [
                {
                    "mediumType": "mobile",
                    "preferred": True,
                    "characteristic": {
                        "phoneNumber": "+86 138 0371 0001",
                        "emailAddress": "zw@example.cn",
                    },
                    "contactName": "张伟",
                    "contactRole": "信息部经理",
                },
                {
                    "mediumType": "postalAddress",
                    "characteristic": {"city": "郑州市", "street1": "金水路1号"},
                },
                {"mediumType": "fax", "characteristic": {"faxNumber": "0371-66660000"}},
            ],
        },
    )
    assert completed.status_code == 200, completed.content
    enterprise = Enterprise.objects.get(pk=created["id"])
    assert (enterprise.industry, enterprise.grade, enterprise.city, enterprise.address) == (
        "logistics",
        "A",
        "郑州市",
        "金水路1号",
    )
    contact = Contact.objects.get(enterprise=enterprise)
    assert (contact.name, contact.mobile, contact.is_primary, contact.role) == (
        "张伟",
        "13803710001",
        True,
        "信息部经理",
    )
    document = completed.json()
    assert {"name": "salesChannel", "value": "直销"} in document["characteristic"]
    assert {"mediumType": "fax", "characteristic": {"faxNumber": "0371-66660000"}} in document[
        "contactMedium"
    ]

    activated = manager_api.patch(url, {"status": "Approved", "statusReason": "资料齐全"})
    assert activated.status_code == 200, activated.content
    assert activated.json()["status"] == "Approved"
    enterprise.refresh_from_db()
    assert enterprise.status == "active" and enterprise.activated_at is not None
    assert activated.json()["validFor"]["startDateTime"].endswith("Z")
    assert [c["id"] for c in manager_api.get(f"{CUSTOMER}/customer?status=Approved").json()] == [
        created["id"]
    ]
    assert manager_api.get(f"{CUSTOMER}/customer?status=active").json() == []

    services.enterprise_suspend(enterprise_id=enterprise.pk, by=None, reason="核查")
    assert manager_api.get(url).json()["status"] == "suspended"
    resumed = manager_api.patch(url, {"status": "active"})
    assert resumed.json()["status"] == "active"
    assert_tmf_error(manager_api.patch(url, {"status": "prospect"}), 409)
    assert manager_api.patch(url, {"status": "ACTIVE"}).json()["status"] == "ACTIVE"


def test_a_manager_sees_only_their_customers_and_a_head_sees_all(
    manager_api, head_api, manager, other_manager
):
    mine = EnterpriseFactory(account_manager=manager)
    theirs = EnterpriseFactory(account_manager=other_manager)
    listed = {c["id"] for c in manager_api.get(f"{CUSTOMER}/customer").json()}
    assert listed == {str(mine.pk)}
    assert_tmf_error(manager_api.get(customer_url(theirs.pk)), 404)
    assert_tmf_error(manager_api.patch(customer_url(theirs.pk), {"name": "抢来的"}), 404)
    assert_tmf_error(manager_api.delete(customer_url(theirs.pk)), 404)
    assert {c["id"] for c in head_api.get(f"{CUSTOMER}/customer").json()} >= {
        str(mine.pk),
        str(theirs.pk),
    }


def test_an_enterprise_token_sees_only_its_enterprise_and_cannot_write(make_user, manager):
    own = EnterpriseFactory(account_manager=manager)
    other = EnterpriseFactory(account_manager=manager)
    user = make_user(Role.ENTERPRISE_ADMIN, username="ent_admin")
    EnterpriseMembership.objects.create(user=user, enterprise=own)
    api = TmfClient(issue_token(user, Role.ENTERPRISE_ADMIN, enterprise=own))
    assert [c["id"] for c in api.get(f"{CUSTOMER}/customer").json()] == [str(own.pk)]
    assert api.get(customer_url(own.pk)).status_code == 200
    assert_tmf_error(api.get(customer_url(other.pk)), 404)
    assert_tmf_error(api.patch(customer_url(own.pk), {"name": "改名"}), 403)
    assert_tmf_error(api.post(f"{CUSTOMER}/customer", {"name": "x", "engagedParty": PARTY}), 403)
    assert_tmf_error(api.delete(customer_url(own.pk)), 403)


def test_an_enterprise_users_session_is_scoped_like_its_token(client, make_user, manager):
    own = EnterpriseFactory(account_manager=manager)
    EnterpriseFactory(account_manager=manager)
    user = make_user(Role.ENTERPRISE_OPERATOR, username="ent_op")
    EnterpriseMembership.objects.create(user=user, enterprise=own)
    client.force_login(user)
    assert [c["id"] for c in client.get(f"{CUSTOMER}/customer").json()] == [str(own.pk)]


def test_only_department_heads_change_the_account_manager(
    manager_api, head_api, manager, other_manager
):
    enterprise = EnterpriseFactory(account_manager=manager)
    url = customer_url(enterprise.pk)
    reassign = {
        "relatedParty": [
            {"id": str(other_manager.pk), "role": "accountManager", "@referredType": "Individual"}
        ]
    }
    assert_tmf_error(manager_api.patch(url, reassign), 403)
    assert_tmf_error(
        manager_api.post(
            f"{CUSTOMER}/customer", {"name": "新客户", "engagedParty": PARTY, **reassign}
        ),
        403,
    )
    by_head = head_api.post(
        f"{CUSTOMER}/customer", {"name": "新客户", "engagedParty": PARTY, **reassign}
    )
    assert Enterprise.objects.get(pk=by_head.json()["id"]).account_manager == other_manager
    assert head_api.patch(url, reassign).status_code == 200
    enterprise.refresh_from_db()
    assert enterprise.account_manager == other_manager
    assert_tmf_error(manager_api.get(url), 404)


def test_unknown_parties_and_accounts_are_kept(head_api):
    body = {
        "name": "开封宋都文化旅游集团有限公司",
        "engagedParty": {"id": "party-9", "@referredType": "Organization"},
        "relatedParty": [
            {"id": "u-404", "role": "accountManager", "@referredType": "Individual"},
            {"id": "p-2", "role": "legalRepresentative", "@referredType": "Individual"},
        ],
        "account": [{"id": "ba-1", "name": "宋都结算账户", "@referredType": "BillingAccount"}],
        "agreement": [{"id": "ag-1", "name": "MAS 协议"}],
    }
    created = head_api.post(f"{CUSTOMER}/customer", body).json()
    document = head_api.get(customer_url(created["id"])).json()
    assert document["engagedParty"] == body["engagedParty"]
    assert body["relatedParty"][0] in document["relatedParty"]
    assert body["relatedParty"][1] in document["relatedParty"]
    assert document["account"] == body["account"] and document["agreement"] == body["agreement"]
    assert not spec_problems("TMF629", "Customer", document)


@pytest.mark.parametrize(
    ("characteristic", "rule"),
    [
        ({"name": "industry", "value": "航天"}, "industry"),
        ({"name": "grade", "value": "D"}, "grade"),
        ({"name": "creditCode", "value": "91410100MA44XK2Q2X"}, "统一社会信用代码"),
    ],
)
def test_characteristics_the_file_cannot_hold_are_400_with_the_rule(
    manager_api, characteristic, rule
):
    response = manager_api.post(
        f"{CUSTOMER}/customer",
        {"name": "郑州某公司", "engagedParty": PARTY, "characteristic": [characteristic]},
    )
    assert rule in assert_tmf_error(response, 400)["message"]


def test_only_a_prospect_may_be_deleted(manager_api, manager):
    active = active_enterprise(manager)
    refused = assert_tmf_error(manager_api.delete(customer_url(active.pk)), 409)
    assert "销户" in refused["message"]
    prospect = EnterpriseFactory(account_manager=manager)
    ContactFactory(enterprise=prospect)
    assert manager_api.delete(customer_url(prospect.pk)).status_code == 204
    assert not Enterprise.objects.filter(pk=prospect.pk).exists()
    closed = manager_api.patch(
        customer_url(active.pk), {"status": "closed", "statusReason": "合同到期"}
    )
    assert closed.json()["status"] == "closed"


def test_a_file_made_in_the_admin_reads_well_over_tmf(manager_api, manager):
    enterprise = active_enterprise(manager, name="洛阳牡丹城商贸有限公司", address="中州路8号")
    document = manager_api.get(customer_url(enterprise.pk)).json()
    assert document["engagedParty"] == {
        "id": str(enterprise.pk),
        "name": "洛阳牡丹城商贸有限公司",
        "@referredType": "Organization",
    }
    assert document["status"] == "active"
    phones = [m for m in document["contactMedium"] if m["mediumType"] == "mobile"]
    assert phones[0]["preferred"] is True
    postal = next(m for m in document["contactMedium"] if m["mediumType"] == "postalAddress")
    assert postal["characteristic"]["city"] == "郑州市"
    assert {
        "name": "creditCode",
        "valueType": "string",
        "value": enterprise.credit_code,
    } in document["characteristic"]
    assert document["account"][0]["name"] == "洛阳牡丹城商贸有限公司结算账户"
    assert not spec_problems("TMF629", "Customer", document)


def test_the_seeded_customers_conform_and_the_demo_tokens_work(clock):
    from customers.demo import DEMO_TOKENS, seed

    lines = seed()
    seed()  # idempotent: the known demo tokens are not issued twice
    for _username, _role, _scope, secret in DEMO_TOKENS:
        assert any(secret in line for line in lines)
    head_secret = DEMO_TOKENS[0][3]
    customers = TmfClient(head_secret).get(f"{CUSTOMER}/customer").json()
    assert len(customers) == Enterprise.objects.count() >= 10
    for document in customers:
        assert not spec_problems("TMF629", "Customer", document), document["id"]
    enterprise_secret = DEMO_TOKENS[2][3]
    own = TmfClient(enterprise_secret).get(f"{CUSTOMER}/customer").json()
    assert [c["name"] for c in own] == ["郑州豫信物流有限公司"]
