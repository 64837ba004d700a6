import pytest
from django.contrib.auth.models import Group

from core.models import StateChange
from core.roles import Role
from core.selectors import state_changes_for
from customers import services
from tests.customers.factories import ContactFactory, EnterpriseFactory

pytestmark = pytest.mark.django_db


def test_every_role_exists_as_a_group_with_its_permissions():
    names = set(Group.objects.values_list("name", flat=True))
    assert {role.value for role in Role} <= names
    manager = Group.objects.get(name=Role.CUSTOMER_MANAGER)
    codes = {p.codename for p in manager.permissions.all()}
    assert {"change_enterprise", "add_contact", "review_signature"} <= codes
    assert "view_all_enterprises" not in codes
    head = Group.objects.get(name=Role.DEPARTMENT_HEAD)
    assert head.permissions.filter(codename="view_all_enterprises").exists()
    # Enterprise operators hold only enterprise-facing permissions (e.g. smsgw sending).
    operator = Group.objects.get(name=Role.ENTERPRISE_OPERATOR).permissions
    assert not operator.exclude(content_type__app_label="smsgw").exists()
    assert not operator.filter(codename__in=["view_full_number", "change_forbiddenterm"]).exists()


def test_a_transition_leaves_a_state_change_record(manager, clock):
    enterprise = EnterpriseFactory(account_manager=manager)
    ContactFactory(enterprise=enterprise, is_primary=True)

    services.enterprise_activate(enterprise_id=enterprise.pk, by=manager, reason="签约")

    (change,) = state_changes_for(enterprise)
    assert (change.field, change.from_state, change.to_state) == ("status", "prospect", "active")
    assert change.by == manager and change.reason == "签约" and change.at == clock.now()
    assert StateChange.objects.count() == 1


def test_field_changes_of_customer_records_are_kept_with_who_and_when(manager):
    enterprise = services.enterprise_create(by=manager, name="郑州历史测试有限公司", city="郑州市")
    services.enterprise_update(enterprise_id=enterprise.pk, by=manager, grade="A", city="洛阳市")

    latest, first = enterprise.history.all()[:2]
    delta = latest.diff_against(first)
    assert {change.field for change in delta.changes} == {"grade", "city"}
