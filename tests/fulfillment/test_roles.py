"""Roles hold the fulfillment permissions they declare."""

import pytest
from django.contrib.auth.models import Group

from core.roles import Role

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("role", "granted", "refused"),
    [
        (
            Role.CUSTOMER_MANAGER,
            ["add_order", "reveal_secret", "view_servicecode"],
            ["override_notice_period", "add_servicecodeblock"],
        ),
        (Role.DEPARTMENT_HEAD, ["override_notice_period", "add_servicecodeblock", "add_order"], []),
        (
            Role.NOC_ENGINEER,
            ["view_masport", "view_subscription"],
            ["view_order", "reveal_secret", "view_contract"],
        ),
        (
            Role.FINANCE,
            ["view_contract", "view_subscription", "download_contract_pdf"],
            ["view_order", "view_cmppaccount"],
        ),
    ],
)
def test_each_role_holds_its_fulfillment_permissions(role, granted, refused):
    codenames = set(
        Group.objects.get(name=role.value)
        .permissions.filter(content_type__app_label="fulfillment")
        .values_list("codename", flat=True)
    )
    assert set(granted) <= codenames
    assert not set(refused) & codenames
