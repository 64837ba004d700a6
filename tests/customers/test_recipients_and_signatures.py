import pytest
from django.core.exceptions import ValidationError
from django_fsm import TransitionNotAllowed

from customers import selectors, services
from customers.models import ChurnWarning, Signature
from tests.customers.factories import EnterpriseFactory

pytestmark = pytest.mark.django_db


def test_recipients_are_unique_per_enterprise_and_need_consent(manager):
    enterprise = EnterpriseFactory()
    services.recipient_add(
        enterprise_id=enterprise.pk, msisdn="13800138000", consent_source="短信回复Y"
    )
    with pytest.raises(ValidationError, match="已在"):
        services.recipient_add(
            enterprise_id=enterprise.pk, msisdn="+8613800138000", consent_source="短信回复Y"
        )
    with pytest.raises(ValidationError):
        services.recipient_add(
            enterprise_id=enterprise.pk, msisdn="13800138001", consent_source=" "
        )
    other = EnterpriseFactory()
    services.recipient_add(enterprise_id=other.pk, msisdn="13800138000", consent_source="网站勾选")


def test_opt_out_is_kept_and_a_new_consent_re_registers(clock):
    enterprise = EnterpriseFactory()
    services.recipient_add(enterprise_id=enterprise.pk, msisdn="13800138000", consent_source="纸质")
    services.recipient_opt_out(enterprise_id=enterprise.pk, msisdn="13800138000")
    assert selectors.recipient_status(enterprise.pk, ["13800138000", "13900000000"]) == {
        "13800138000": "opted_out"
    }
    clock.advance(days=30)
    again = services.recipient_add(
        enterprise_id=enterprise.pk, msisdn="13800138000", consent_source="重新登记"
    )
    assert again.opted_out_at is None and again.consented_at == clock.now()


def test_signature_must_be_in_full_width_brackets(manager):
    enterprise = EnterpriseFactory(name="郑州豫信物流有限公司")
    for bad in ("豫信物流", "[豫信物流]", "【】", "【豫 信】"):
        with pytest.raises(ValidationError):
            services.signature_submit(enterprise_id=enterprise.pk, text=bad, by=manager)


def test_a_signature_matching_the_registered_name_is_approved_with_evidence(manager):
    enterprise = EnterpriseFactory(name="郑州豫信物流有限公司", brands="")
    signature = services.signature_submit(
        enterprise_id=enterprise.pk, text="【豫信物流】", by=manager
    )
    assert signature.matches_registered_name
    assert "企业名称" in signature.match_evidence
    services.signature_approve(signature_id=signature.pk, by=manager)
    assert selectors.approved_signature(enterprise.pk).text == "【豫信物流】"


def test_a_signature_matching_a_brand_is_plausible(manager):
    enterprise = EnterpriseFactory(name="河南省某某食品股份有限公司", brands="好想你,红枣")
    signature = services.signature_submit(
        enterprise_id=enterprise.pk, text="【好想你】", by=manager
    )
    assert signature.matches_registered_name and "品牌" in signature.match_evidence


def test_an_unrelated_signature_needs_documentary_evidence_to_be_approved(manager):
    enterprise = EnterpriseFactory(name="郑州豫信物流有限公司", brands="")
    signature = services.signature_submit(
        enterprise_id=enterprise.pk, text="【中国银行】", by=manager
    )
    assert not signature.matches_registered_name
    with pytest.raises(ValidationError, match="审核依据"):
        services.signature_approve(signature_id=signature.pk, by=manager)
    services.signature_approve(signature_id=signature.pk, by=manager, evidence="授权书 2026-031")
    signature.refresh_from_db()
    assert (
        signature.state == Signature.State.APPROVED
        and signature.review_evidence == "授权书 2026-031"
    )


def test_only_submitted_signatures_are_reviewed_and_rejection_needs_a_reason(manager):
    enterprise = EnterpriseFactory(name="郑州豫信物流有限公司")
    signature = services.signature_submit(enterprise_id=enterprise.pk, text="【豫信】", by=manager)
    with pytest.raises(ValidationError):
        services.signature_reject(signature_id=signature.pk, by=manager, reason="")
    services.signature_reject(signature_id=signature.pk, by=manager, reason="请使用全称")
    with pytest.raises(TransitionNotAllowed):
        services.signature_approve(signature_id=signature.pk, by=manager, evidence="x")
    assert selectors.approved_signature(enterprise.pk) is None
    resubmitted = services.signature_submit(
        enterprise_id=enterprise.pk, text="【豫信】", by=manager
    )
    assert resubmitted.state == Signature.State.SUBMITTED


def test_churn_warning_is_raised_once_and_worked_by_the_manager(manager, clock):
    enterprise = EnterpriseFactory(account_manager=manager)
    warning, raised = services.churn_warning_raise(
        enterprise_id=enterprise.pk, kind="no_usage", detail="连续5天无发送"
    )
    again, raised_again = services.churn_warning_raise(
        enterprise_id=enterprise.pk, kind="no_usage", detail="第6天"
    )
    assert raised and not raised_again and again.pk == warning.pk
    assert warning.manager == manager

    with pytest.raises(ValidationError):
        services.churn_warning_acknowledge(warning_id=warning.pk, by=manager, action_taken="")
    services.churn_warning_acknowledge(
        warning_id=warning.pk, by=manager, action_taken="电话回访，客户在系统升级"
    )
    services.churn_warning_close(warning_id=warning.pk, by=manager, reason="已恢复发送")
    warning.refresh_from_db()
    assert warning.state == ChurnWarning.State.CLOSED
    _, raised_later = services.churn_warning_raise(
        enterprise_id=enterprise.pk, kind="no_usage", detail="再次"
    )
    assert raised_later
