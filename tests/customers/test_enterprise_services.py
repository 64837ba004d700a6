import pytest
from django.core.exceptions import ValidationError
from django_fsm import TransitionNotAllowed

from customers import services
from customers.models import Enterprise
from tests.customers.factories import ContactFactory, EnterpriseFactory

pytestmark = pytest.mark.django_db


def test_a_credit_code_with_a_wrong_check_digit_is_refused(manager):
    with pytest.raises(ValidationError) as excinfo:
        services.enterprise_create(
            by=manager, name="郑州错码有限公司", credit_code="91410100MA44TJ1X3A"
        )
    assert "credit_code" in excinfo.value.message_dict


def test_a_valid_credit_code_is_accepted_and_unique(manager):
    first = EnterpriseFactory()
    with pytest.raises(ValidationError) as excinfo:
        services.enterprise_create(by=manager, name="重复有限公司", credit_code=first.credit_code)
    assert "已登记" in str(excinfo.value)


def test_a_prospect_needs_only_a_name(manager):
    enterprise = services.enterprise_create(by=manager, name="郑州某潜在客户有限公司")
    assert enterprise.status == Enterprise.Status.PROSPECT


def test_activation_requires_a_complete_file(manager):
    enterprise = services.enterprise_create(by=manager, name="郑州不完整有限公司")
    with pytest.raises(ValidationError) as excinfo:
        services.enterprise_activate(enterprise_id=enterprise.pk, by=manager)
    assert {"credit_code", "city", "account_manager"} <= set(excinfo.value.message_dict)

    complete = EnterpriseFactory(account_manager=manager)
    with pytest.raises(ValidationError, match="主要联系人"):
        services.enterprise_activate(enterprise_id=complete.pk, by=manager)
    ContactFactory(enterprise=complete, is_primary=True)
    assert services.enterprise_activate(enterprise_id=complete.pk, by=manager).status == "active"


def test_bank_entrustment_needs_the_bank_details(manager):
    with pytest.raises(ValidationError) as excinfo:
        services.enterprise_create(
            by=manager, name="郑州托收有限公司", payment_method="bank_entrustment"
        )
    assert {"bank_name", "bank_account_name", "bank_account_number"} <= set(
        excinfo.value.message_dict
    )


def test_status_moves_only_along_its_transitions(manager):
    enterprise = EnterpriseFactory(account_manager=manager)
    with pytest.raises(TransitionNotAllowed):
        services.enterprise_resume(enterprise_id=enterprise.pk, by=manager)
    services.enterprise_close(enterprise_id=enterprise.pk, by=manager, reason="客户放弃")
    enterprise.refresh_from_db()
    assert enterprise.status == "closed" and enterprise.closed_at is not None
    with pytest.raises(AttributeError):
        enterprise.status = "active"


def test_contact_mobile_is_normalised_and_bad_numbers_refused(manager):
    enterprise = EnterpriseFactory(account_manager=manager)
    contact = services.contact_save(
        enterprise_id=enterprise.pk, by=manager, name="张三", mobile="+86 139 0371 0000"
    )
    assert contact.mobile == "13903710000"
    with pytest.raises(ValidationError) as excinfo:
        services.contact_save(
            enterprise_id=enterprise.pk, by=manager, name="李四", mobile="0371-6555123"
        )
    assert "mobile" in excinfo.value.message_dict


def test_a_new_primary_contact_replaces_the_old_one(manager):
    enterprise = EnterpriseFactory(account_manager=manager)
    first = services.contact_save(
        enterprise_id=enterprise.pk, by=manager, name="甲", mobile="13903710001", is_primary=True
    )
    second = services.contact_save(
        enterprise_id=enterprise.pk, by=manager, name="乙", mobile="13903710002", is_primary=True
    )
    first.refresh_from_db()
    assert not first.is_primary and second.is_primary
