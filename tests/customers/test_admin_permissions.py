"""Who sees what in the admin: managers see only their enterprises."""

import pytest
from django.urls import reverse

from core.roles import Role
from customers.models import Signature
from tests.customers.factories import (
    ContactFactory,
    EnterpriseFactory,
    RegisteredRecipientFactory,
    SignatureFactory,
)

pytestmark = pytest.mark.django_db


def test_a_manager_lists_only_their_own_enterprises(client, manager, other_manager):
    mine = EnterpriseFactory(account_manager=manager, name="我的客户有限公司")
    EnterpriseFactory(account_manager=other_manager, name="别人的客户有限公司")
    client.force_login(manager)
    response = client.get(reverse("admin:customers_enterprise_changelist"))
    assert response.status_code == 200
    body = response.content.decode()
    assert mine.name in body and "别人的客户有限公司" not in body


def test_a_manager_cannot_open_another_managers_enterprise(client, manager, other_manager):
    theirs = EnterpriseFactory(account_manager=other_manager)
    contact = ContactFactory(enterprise=theirs)
    recipient = RegisteredRecipientFactory(enterprise=theirs)
    client.force_login(manager)
    for url in (
        reverse("admin:customers_enterprise_change", args=[theirs.pk]),
        reverse("admin:customers_contact_change", args=[contact.pk]),
        reverse("admin:customers_registeredrecipient_change", args=[recipient.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 302, url  # the admin's "does not exist" redirect
        assert theirs.name not in client.get(response["Location"]).content.decode()
    response = client.post(
        reverse("admin:customers_enterprise_change", args=[theirs.pk]),
        {"_transition": "close", "_transition_reason": "越权"},
    )
    assert response.status_code == 302
    theirs.refresh_from_db()
    assert theirs.status == "prospect"


def test_a_department_head_sees_every_enterprise(client, head, manager, other_manager):
    EnterpriseFactory(account_manager=manager, name="甲客户有限公司")
    EnterpriseFactory(account_manager=other_manager, name="乙客户有限公司")
    client.force_login(head)
    body = client.get(reverse("admin:customers_enterprise_changelist")).content.decode()
    assert "甲客户有限公司" in body and "乙客户有限公司" in body


def test_enterprise_users_cannot_enter_the_admin(client, make_user):
    user = make_user(Role.ENTERPRISE_ADMIN, username="ent")
    client.force_login(user)
    response = client.get(reverse("admin:customers_enterprise_changelist"))
    assert response.status_code == 302 and "login" in response["Location"]


def test_noc_reads_enterprises_but_cannot_change_them(client, make_user, manager):
    noc = make_user(Role.NOC_ENGINEER, username="noc")
    enterprise = EnterpriseFactory(account_manager=manager)
    client.force_login(noc)
    response = client.get(reverse("admin:customers_enterprise_change", args=[enterprise.pk]))
    assert response.status_code == 200
    assert 'name="_save"' not in response.content.decode()


def test_the_admin_is_in_chinese_by_default(client, manager):
    client.force_login(manager)
    body = client.get(reverse("admin:index")).content.decode()
    assert "集团短信 MAS 运营支撑系统" in body and "集团客户" in body
    assert reverse("admin:customers_worklist") in body


def test_signature_buttons_show_only_the_allowed_transitions(client, manager):
    enterprise = EnterpriseFactory(account_manager=manager, name="郑州豫信物流有限公司")
    signature = SignatureFactory(
        enterprise=enterprise, text="【豫信物流】", matches_registered_name=True
    )
    client.force_login(manager)
    url = reverse("admin:customers_signature_change", args=[signature.pk])
    body = client.get(url).content.decode()
    assert 'value="approve"' in body and 'value="reject"' in body

    response = client.post(url, {"_transition": "approve", "_transition_reason": ""})
    assert response.status_code == 302
    assert Signature.objects.get(pk=signature.pk).state == "approved"
    body = client.get(url).content.decode()
    assert 'value="approve"' not in body


def test_the_worklist_shows_the_managers_warnings(client, manager, other_manager):
    from customers import services

    mine = EnterpriseFactory(account_manager=manager, name="预警客户有限公司")
    theirs = EnterpriseFactory(account_manager=other_manager, name="别家预警有限公司")
    services.churn_warning_raise(enterprise_id=mine.pk, kind="no_usage", detail="连续5天无发送")
    services.churn_warning_raise(enterprise_id=theirs.pk, kind="no_usage", detail="连续5天无发送")
    client.force_login(manager)
    body = client.get(reverse("admin:customers_worklist")).content.decode()
    assert "预警客户有限公司" in body and "别家预警有限公司" not in body
