"""API tokens: issued once, stored as a digest, tied to a role (and an enterprise), revocable."""

import datetime as dt
import hashlib
import re

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse

from core.roles import Role
from customers import services
from customers.models import ApiToken, EnterpriseMembership
from tests.customers.factories import EnterpriseFactory
from tests.tmf import CUSTOMER, TmfClient, assert_tmf_error

pytestmark = pytest.mark.django_db


def test_only_the_digest_is_stored_and_the_token_works_until_revoked(manager, clock):
    token, secret = services.api_token_issue(
        user=manager, role=Role.CUSTOMER_MANAGER, name="CRM 同步", by=None
    )
    stored = ApiToken.objects.get(pk=token.pk)
    assert stored.digest == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in str(ApiToken.objects.values().get(pk=token.pk))
    assert stored.prefix == secret[:12] and secret.startswith("mas_")
    assert stored.last_used_at is None

    api = TmfClient(secret)
    assert api.get(f"{CUSTOMER}/customer").status_code == 200
    stored.refresh_from_db()
    assert stored.last_used_at == clock.now()

    services.api_token_revoke(token_id=token.pk, by=manager)
    assert_tmf_error(api.get(f"{CUSTOMER}/customer"), 401)


def test_an_expired_token_or_an_inactive_user_authenticates_no_one(manager, clock):
    _token, secret = services.api_token_issue(
        user=manager,
        role=Role.CUSTOMER_MANAGER,
        name="临时",
        expires_at=clock.now() + dt.timedelta(hours=1),
        by=None,
    )
    api = TmfClient(secret)
    assert api.get(f"{CUSTOMER}/customer").status_code == 200
    clock.advance(hours=2)
    assert_tmf_error(api.get(f"{CUSTOMER}/customer"), 401)

    _token, other = services.api_token_issue(
        user=manager, role=Role.CUSTOMER_MANAGER, name="b", by=None
    )
    manager.is_active = False
    manager.save()
    assert_tmf_error(TmfClient(other).get(f"{CUSTOMER}/customer"), 401)


def test_a_malformed_authorization_header_is_401(manager):
    client = TmfClient()
    for header in ("Bearer", "Bearer a b", "Bearer \u00e9t\u00e9"):
        response = client.get(f"{CUSTOMER}/customer", HTTP_AUTHORIZATION=header)
        assert_tmf_error(response, 401)


def test_the_rules_of_issuing(manager, make_user):
    with pytest.raises(ValidationError, match="不具备"):
        services.api_token_issue(user=manager, role=Role.DEPARTMENT_HEAD, name="x", by=None)
    with pytest.raises(ValidationError, match="超级管理员"):
        services.api_token_issue(user=manager, role="", name="x", by=None)
    enterprise = EnterpriseFactory()
    with pytest.raises(ValidationError, match="不能绑定"):
        services.api_token_issue(
            user=manager, role=Role.CUSTOMER_MANAGER, name="x", enterprise_id=enterprise.pk, by=None
        )
    portal_user = make_user(Role.ENTERPRISE_ADMIN, username="ent")
    with pytest.raises(ValidationError, match="必须绑定"):
        services.api_token_issue(user=portal_user, role=Role.ENTERPRISE_ADMIN, name="x", by=None)
    EnterpriseMembership.objects.create(user=portal_user, enterprise=enterprise)
    with pytest.raises(ValidationError, match="所属的集团客户"):
        services.api_token_issue(
            user=portal_user,
            role=Role.ENTERPRISE_ADMIN,
            name="x",
            enterprise_id=EnterpriseFactory().pk,
            by=None,
        )
    token, _secret = services.api_token_issue(
        user=portal_user,
        role=Role.ENTERPRISE_ADMIN,
        name="短信接口",
        enterprise_id=enterprise.pk,
        by=None,
    )
    assert token.enterprise == enterprise


def test_the_admin_shows_a_new_token_once_and_revokes(client, head, manager):
    client.force_login(head)
    response = client.post(
        reverse("admin:customers_apitoken_add"),
        {"name": "报表系统", "user": manager.pk, "role": Role.CUSTOMER_MANAGER.value},
        follow=True,
    )
    assert response.status_code == 200
    token = ApiToken.objects.get()
    secret = re.search(r"mas_[A-Za-z0-9_\-]{43}", response.content.decode()).group(0)
    assert hashlib.sha256(secret.encode()).hexdigest() == token.digest
    assert (
        secret
        not in client.get(
            reverse("admin:customers_apitoken_change", args=[token.pk])
        ).content.decode()
    )

    refused = client.post(
        reverse("admin:customers_apitoken_add"),
        {"name": "越权", "user": manager.pk, "role": Role.DEPARTMENT_HEAD.value},
    )
    assert refused.status_code == 200 and "不具备" in refused.content.decode()
    assert ApiToken.objects.count() == 1

    client.post(
        reverse("admin:customers_apitoken_changelist"),
        {"action": "revoke_selected", "_selected_action": [token.pk]},
    )
    token.refresh_from_db()
    assert token.revoked_at is not None and token.revoked_by == head


def test_the_command_issues_a_token(manager, capsys):
    call_command(
        "api_token_issue",
        "--user",
        manager.username,
        "--role",
        "customer_manager",
        "--name",
        "同步",
    )
    secret = capsys.readouterr().out.strip().split()[-1]
    assert TmfClient(secret).get(f"{CUSTOMER}/customer").status_code == 200
