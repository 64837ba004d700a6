"""Payments (allocation, credit, reversal), late fees with waivers, and dunning: each step
once and in order after a late job, suspension and automatic resumption, termination."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from billing import services
from billing.models import DunningStep, Invoice, Payment
from fulfillment.models import Subscription
from tests.billing.factories import bill_quarter, freeze_on, pay, subscription_activated
from tests.fulfillment.factories import committing

D = dt.date
Q1 = D(2027, 1, 1)
pytestmark = pytest.mark.django_db


@pytest.fixture
def invoice(clock, manager):
    """Q1 2027 invoice of ¥1,880.00 (first month prorated), due 1 January 2027."""
    sub = subscription_activated(manager, D(2026, 11, 10))
    freeze_on(D(2026, 12, 17))
    invoice = bill_quarter(sub, Q1)
    assert invoice.total == Decimal("1880.00")
    return invoice


def refreshed(obj):
    obj.refresh_from_db()
    return obj


def test_partial_payments_late_fee_on_the_next_invoice_not_compounded(invoice, finance):
    freeze_on(D(2027, 1, 6))
    pay(invoice, Decimal("1000.00"))  # 5 days late on 1,880 = 28.20
    assert refreshed(invoice).state == Invoice.State.PARTIALLY_PAID
    freeze_on(D(2027, 1, 11))
    pay(invoice, Decimal("880.00"))  # 5 more days on 880 = 13.20
    invoice = refreshed(invoice)
    assert invoice.state == Invoice.State.PAID
    assert invoice.paid_on == D(2027, 1, 11)
    freeze_on(D(2027, 3, 17))
    assert services.late_fee_accrued(invoice) == Decimal("41.40")  # stops at payment

    with pytest.raises(PermissionDenied):
        services.late_fee_waive(
            invoice_id=invoice.pk,
            amount=Decimal("1"),
            reason="x",
            by=invoice.account.enterprise.account_manager,
        )
    with pytest.raises(ValidationError):
        services.late_fee_waive(invoice_id=invoice.pk, amount=Decimal("1"), reason=" ", by=finance)
    services.late_fee_waive(
        invoice_id=invoice.pk, amount=Decimal("10.00"), reason="首次逾期，经理申请", by=finance
    )
    second = bill_quarter(invoice.lines.first().subscription, D(2027, 4, 1))
    late = second.lines.get(kind="late_fee")
    assert late.amount == Decimal("31.40")
    assert late.source_invoice == invoice
    assert second.late_fee_total == Decimal("31.40")
    assert second.principal == Decimal("1200.00")

    # The late fee line earns no fee: paying only the principal late leaves the fee open
    # but the new fee is computed on 1,200 only.
    freeze_on(D(2027, 4, 3))
    pay(second, Decimal("1200.00"))
    second = refreshed(second)
    assert second.unpaid_late_fee == Decimal("31.40")
    assert services.late_fee_accrued(second) == Decimal("7.20")  # 2 days × 1,200 × 0.3%


def test_allocation_oldest_first_overpayment_is_credit_and_reversal(invoice, finance):
    freeze_on(D(2027, 3, 17))
    second = bill_quarter(invoice.lines.first().subscription, D(2027, 4, 1))
    assert second.total == Decimal("1200.00") + second.late_fee_total
    with committing():
        payment = services.payment_record(
            account_id=invoice.account_id,
            amount=Decimal("5000.00"),
            method=Payment.Method.BANK_ENTRUSTMENT,
            reference="托收 2027-03",
            by=finance,
        )
    invoice, second = refreshed(invoice), refreshed(second)
    assert invoice.state == second.state == Invoice.State.PAID
    first_allocation = payment.allocations.order_by("id").first()
    assert first_allocation.invoice == invoice
    credit = Decimal("5000.00") - Decimal("1880.00") - second.total
    assert services.account_credit(invoice.account) == credit
    assert payment.receipt_number.startswith("R2027")

    services.payment_reverse(payment_id=payment.pk, reason="托收退票：余额不足", by=finance)
    invoice, second = refreshed(invoice), refreshed(second)
    assert invoice.state == second.state == Invoice.State.ISSUED
    assert services.account_credit(invoice.account) == Decimal("0.00")
    with pytest.raises(ValidationError):
        services.payment_record(account_id=invoice.account_id, amount=Decimal("-1"))


def steps(invoice):
    return list(invoice.dunning_steps.order_by("sequence").values_list("step", flat=True))


def test_each_dunning_step_once_and_in_order_after_a_late_job(invoice):
    sub = invoice.lines.first().subscription
    freeze_on(D(2026, 12, 29))
    with committing():
        services.dunning_run()
    assert steps(invoice) == ["reminder_before"]
    assert "短信" in invoice.dunning_steps.get().outcome
    # The job does not run for weeks, then catches up in order, each step once.
    freeze_on(D(2027, 1, 25))
    with committing():
        services.dunning_run()
        services.dunning_run()
    assert steps(invoice) == ["reminder_before", "reminder_after", "written_demand", "suspension"]
    assert list(invoice.dunning_steps.values_list("sequence", flat=True)) == [1, 2, 3, 4]
    demand = invoice.dunning_steps.get(step="written_demand")
    assert bytes(demand.document).startswith(b"%PDF")
    assert refreshed(sub).state == Subscription.State.SUSPENDED

    # Payment in full lifts the suspension automatically.
    freeze_on(D(2027, 1, 27))
    pay(invoice, refreshed(invoice).outstanding)
    assert refreshed(invoice).state == Invoice.State.PAID
    assert refreshed(sub).state == Subscription.State.ACTIVE
    assert invoice.dunning_steps.get(step="suspension").resumed_at is not None
    freeze_on(D(2027, 3, 1))
    with committing():
        services.dunning_run()
    assert len(steps(invoice)) == 4


def test_pre_due_reminder_skipped_when_the_job_first_runs_after_the_due_date(invoice):
    freeze_on(D(2027, 1, 4))
    with committing():
        services.dunning_run()
    assert steps(invoice) == ["reminder_before", "reminder_after"]
    assert "不再发送" in invoice.dunning_steps.get(step="reminder_before").outcome


def test_good_credit_delays_suspension(invoice):
    enterprise = invoice.account.enterprise
    enterprise.good_credit = True
    enterprise.save()
    freeze_on(D(2027, 1, 25))
    with committing():
        services.dunning_run()
    assert "suspension" not in steps(invoice)
    freeze_on(D(2027, 1, 31))
    with committing():
        services.dunning_run()
    assert "suspension" in steps(invoice)


def test_termination_after_30_days_keeps_the_debt_and_bills_a_final_invoice(invoice):
    sub = invoice.lines.first().subscription
    freeze_on(D(2027, 1, 31))
    with committing():
        services.dunning_run()
    assert steps(invoice)[-1] == "termination"
    assert refreshed(sub).state == Subscription.State.TERMINATED
    final = Invoice.objects.get(kind=Invoice.Kind.FINAL)
    refunds = {line.period_start: line.amount for line in final.lines.filter(kind="refund")}
    # February and March were paid in advance and are given back, with the last day of
    # January (terminated on the 31st, which is not billed): 100/31 + 300/31 = 3.23 + 9.68.
    assert refunds == {
        D(2027, 1, 31): Decimal("-12.91"),
        D(2027, 2, 1): Decimal("-400.00"),
        D(2027, 3, 1): Decimal("-400.00"),
    }
    assert final.total == Decimal("-812.91") + final.late_fee_total
    assert final.state == Invoice.State.PAID
    # The refund pays part of the unpaid quarter; the rest of the debt is still pursued.
    invoice = refreshed(invoice)
    assert invoice.outstanding == Decimal("1880.00") + final.total
    assert invoice.state == Invoice.State.PARTIALLY_PAID


def test_held_invoice_is_not_chased(invoice):
    freeze_on(D(2027, 1, 2))
    with committing():
        services.invoice_hold(invoice_id=invoice.pk, by=None, reason="争议")
    freeze_on(D(2027, 2, 15))
    with committing():
        services.dunning_run()
    assert steps(invoice) == []
    assert DunningStep.objects.count() == 0
