"""Quarterly advance invoices: proration, allowance, overage, numbering, states, credit
notes, holds and parent billing, with a moving clock."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django_fsm import TransitionNotAllowed

from billing import services
from billing.models import BillingRun, Charge, Invoice
from core.models import StateChange
from tests.billing.factories import bill_quarter, freeze_on, pay, subscription_activated
from tests.fulfillment.factories import committing, ready_enterprise

D = dt.date
Q1 = D(2027, 1, 1)
pytestmark = pytest.mark.django_db


@pytest.fixture
def sub(clock, manager):
    """Activated 10 November 2026 on 100/month port, 300/month for 10,000, 0.05 beyond."""
    return subscription_activated(manager, D(2026, 11, 10))


def amounts(invoice):
    return {
        (line.kind, line.period_start.month): line.amount
        for line in invoice.lines.exclude(kind=Charge.Kind.LATE_FEE)
    }


def test_first_quarterly_invoice_prorates_the_first_month_and_bills_closed_overage(
    sub, usage, clock
):
    usage[(sub.pk, D(2026, 11, 1))] = 12_000  # allowance 10,000 × 21/30 = 7,000
    usage[(sub.pk, D(2026, 12, 1))] = 50_000  # December not closed yet: not billed now
    freeze_on(D(2026, 12, 17))
    invoice = bill_quarter(sub, Q1)

    assert invoice.state == Invoice.State.ISSUED
    assert invoice.issued_on == D(2026, 12, 17)
    assert invoice.due_on == Q1
    assert invoice.number == "20260000001"
    lines = amounts(invoice)
    assert lines[("port_fee", 11)] == Decimal("70.00")
    assert lines[("package_fee", 11)] == Decimal("210.00")
    assert lines[("overage", 11)] == Decimal("250.00")  # 5,000 × 0.05
    assert ("overage", 12) not in lines
    for month in (12, 1, 2, 3):
        assert lines[("port_fee", month)] == Decimal("100.00")
        assert lines[("package_fee", month)] == Decimal("300.00")
    assert invoice.total == Decimal("2130.00")
    # Tax is contained in the amounts (6 % inclusive), shown per line.
    assert invoice.tax_total == sum(line.tax_amount for line in invoice.lines.all())
    overage = invoice.lines.get(kind="overage")
    assert "每个计费短信分段计为一条" in overage.description
    assert overage.tax_amount == Decimal("14.15")


def test_next_invoice_bills_the_months_overage_and_rerun_bills_nothing_twice(sub, usage, clock):
    usage[(sub.pk, D(2026, 12, 1))] = 10_500
    usage[(sub.pk, D(2027, 2, 1))] = 11_000
    freeze_on(D(2026, 12, 17))
    first = bill_quarter(sub, Q1)
    assert bill_quarter(sub, Q1) is None  # restart: nothing billed twice
    freeze_on(D(2026, 12, 30))
    pay(first, first.total)

    freeze_on(D(2027, 3, 17))
    second = bill_quarter(sub, D(2027, 4, 1))
    lines = amounts(second)
    assert lines[("overage", 12)] == Decimal("25.00")
    assert lines[("overage", 2)] == Decimal("50.00")
    assert ("overage", 1) not in lines
    assert ("port_fee", 3) not in lines  # already billed in advance
    assert second.total == Decimal("1275.00")
    assert second.number == "20270000001"  # numbering restarts each year
    assert Charge.objects.filter(subscription=sub, kind="port_fee").count() == 8


def test_gapless_numbers_and_state_history(clock, manager):
    subs = [subscription_activated(manager, D(2026, 10, 1)) for _ in range(3)]
    freeze_on(D(2026, 12, 17))
    numbers = sorted(bill_quarter(s, Q1).number for s in subs)
    assert numbers == ["20260000001", "20260000002", "20260000003"]
    invoice = Invoice.objects.get(number="20260000002")
    assert StateChange.objects.filter(object_id=invoice.pk, to_state="issued").exists()


def test_issued_invoice_corrected_by_credit_note_not_changed(sub, finance, clock):
    freeze_on(D(2026, 12, 17))
    invoice = bill_quarter(sub, Q1)
    with pytest.raises(ValidationError):
        services.credit_note_issue(
            invoice_id=invoice.pk, amount=Decimal("5"), reason="", by=finance
        )
    note = services.credit_note_issue(
        invoice_id=invoice.pk, amount=Decimal("80.00"), reason="端口费多计", by=finance
    )
    invoice.refresh_from_db()
    assert note.number == "CN2026000001"
    assert invoice.total == Decimal("1880.00")  # unchanged
    assert invoice.outstanding == Decimal("1800.00")
    pay(invoice, Decimal("1800.00"))
    invoice.refresh_from_db()
    assert invoice.state == Invoice.State.PAID
    # A credit note on a paid invoice becomes credit, used on the next invoice.
    services.credit_note_issue(
        invoice_id=invoice.pk, amount=Decimal("100.00"), reason="优惠", by=finance
    )
    assert services.account_credit(invoice.account) == Decimal("100.00")
    freeze_on(D(2027, 3, 17))
    second = bill_quarter(sub, D(2027, 4, 1))
    assert second.outstanding == Decimal("1100.00")
    assert second.state == Invoice.State.PARTIALLY_PAID


def test_hold_pauses_and_release_resumes(sub, finance, clock):
    freeze_on(D(2026, 12, 17))
    invoice = bill_quarter(sub, Q1)
    freeze_on(D(2027, 1, 5))
    with committing():
        services.invoice_hold(invoice_id=invoice.pk, by=None, reason="企业对超出条数有异议")
    invoice.refresh_from_db()
    assert invoice.state == Invoice.State.ON_HOLD
    with pytest.raises(TransitionNotAllowed):
        services.invoice_hold(invoice_id=invoice.pk, by=finance, reason="again")
    freeze_on(D(2027, 1, 25))
    # Days 2–4 only (on hold since the 5th): 1880 × 0.3% × 3.
    assert services.late_fee_accrued(invoice) == Decimal("16.92")
    services.invoice_release(invoice_id=invoice.pk, by=finance)
    invoice.refresh_from_db()
    assert invoice.state == Invoice.State.ISSUED
    freeze_on(D(2027, 1, 26))
    # The release day and the next count again: 3 + 2 days.
    assert services.late_fee_accrued(invoice) == Decimal("28.20")


def test_void_refused_once_paid_and_charges_return_to_unbilled(sub, finance, clock):
    freeze_on(D(2026, 12, 17))
    invoice = bill_quarter(sub, Q1)
    services.invoice_void(invoice_id=invoice.pk, by=finance, reason="重开")
    assert Charge.objects.filter(invoice__isnull=True, subscription=sub).count() == 10
    again = bill_quarter(sub, Q1)
    assert again.total == invoice.total
    pay(again, Decimal("10.00"))
    with pytest.raises(ValidationError):
        services.invoice_void(invoice_id=again.pk, by=finance, reason="x")


def test_parent_is_billed_for_its_branch_on_one_invoice(clock, manager):
    parent = ready_enterprise(manager)
    branch = ready_enterprise(manager)
    branch.parent = parent
    branch.save()
    services.billing_account_set_bill_to_parent(enterprise_id=branch.pk, value=True, by=manager)
    own = subscription_activated(manager, D(2026, 10, 1), enterprise=parent)
    theirs = subscription_activated(manager, D(2026, 10, 1), enterprise=branch)
    freeze_on(D(2026, 12, 17))
    invoice = bill_quarter(own, Q1)
    assert invoice.account.enterprise == parent
    assert {line.subscription_id for line in invoice.lines.all()} == {own.pk, theirs.pk}
    assert bill_quarter(theirs, Q1) is None
    assert Invoice.objects.count() == 1


def test_billing_run_is_idempotent_with_progress_and_summary(clock, manager):
    for _ in range(3):
        subscription_activated(manager, D(2026, 10, 1))
    freeze_on(D(2026, 12, 17))
    assert services.quarter_for_run(D(2026, 12, 17)) == Q1
    with committing():
        run = services.billing_run_create(quarter_start=Q1, by=manager)
    run.refresh_from_db()
    assert run.state == BillingRun.State.DONE
    assert (run.total_accounts, run.processed_accounts, run.invoices_created) == (3, 3, 3)
    assert run.amount_total == Decimal("7200.00")  # October to March, 6 × 400 each
    assert run.progress_percent == 100
    with committing():
        again = services.billing_run_create(quarter_start=Q1, by=manager)
    again.refresh_from_db()
    assert again.invoices_created == 0
    assert Invoice.objects.count() == 3
    assert all(i.pdf_sha256 for i in Invoice.objects.all())


def test_billing_run_keeps_the_others_work_when_one_account_fails(clock, manager, monkeypatch):
    subs = [subscription_activated(manager, D(2026, 10, 1)) for _ in range(3)]
    freeze_on(D(2026, 12, 17))
    real = services.recurring_charges

    def broken(subscription, account, months):
        if subscription.pk == subs[1].pk:
            raise RuntimeError("bad tariff")
        return real(subscription, account, months)

    monkeypatch.setattr(services, "recurring_charges", broken)
    with committing():
        run = services.billing_run_create(quarter_start=Q1, by=manager)
    run.refresh_from_db()
    assert run.state == BillingRun.State.DONE
    assert (run.processed_accounts, run.invoices_created) == (3, 2)
    assert [e["error"] for e in run.errors] == ["bad tariff"]
    # Nothing of the failed account was written; the others are numbered gaplessly.
    assert not Charge.objects.filter(subscription=subs[1]).exists()
    numbers = sorted(int(i.number[4:]) for i in Invoice.objects.all())
    assert numbers == [numbers[0], numbers[0] + 1]
    monkeypatch.setattr(services, "recurring_charges", real)
    with committing():
        again = services.billing_run_create(quarter_start=Q1, by=manager)
    again.refresh_from_db()
    assert again.invoices_created == 1
    assert Invoice.objects.count() == 3


def _snapshot(invoices) -> list:
    """What a billing run wrote for these invoices, comparable across two runs."""
    rows = []
    for invoice in sorted((i for i in invoices if i is not None), key=lambda i: i.number):
        invoice.refresh_from_db()
        rows.append(
            (
                invoice.account_id,
                invoice.number,
                invoice.state,
                invoice.issued_on,
                invoice.total,
                invoice.tax_total,
                invoice.late_fee_total,
                invoice.paid_principal,
                sorted(
                    (
                        c.kind,
                        c.subscription_id,
                        c.period_start,
                        c.amount,
                        c.tax_amount,
                        c.description,
                    )
                    for c in invoice.lines.all()
                ),
                sorted(
                    (s.from_state, s.to_state, s.reason)
                    for s in StateChange.objects.filter(object_id=invoice.pk, field="state")
                    if s.content_type.model == "invoice"
                ),
                sorted((a.principal, a.late_fee) for a in invoice.allocations.all()),
            )
        )
    return rows


def test_a_chunk_billed_together_matches_billing_each_account_alone(clock, manager, usage):
    """The run's fast path (a chunk of accounts in a few queries) writes the same invoices
    as billing each account on its own: credit on the account, a late fee on an overdue
    invoice, a branch billed to its parent, overage, an account with nothing new."""
    from django.db import transaction

    credit = subscription_activated(manager, D(2026, 10, 1))
    overdue = subscription_activated(manager, D(2026, 10, 1))
    parent = ready_enterprise(manager)
    branch = ready_enterprise(manager)
    branch.parent = parent
    branch.save()
    services.billing_account_set_bill_to_parent(enterprise_id=branch.pk, value=True, by=manager)
    own = subscription_activated(manager, D(2027, 2, 10), enterprise=parent)
    theirs = subscription_activated(manager, D(2027, 1, 20), enterprise=branch)
    freeze_on(D(2026, 12, 17))
    first = bill_quarter(credit, Q1)
    pay(first, first.total + Decimal("150.00"))
    bill_quarter(overdue, Q1)
    usage[(own.pk, D(2027, 2, 1))] = 12_000
    usage[(theirs.pk, D(2027, 2, 1))] = 30_000
    q2 = D(2027, 4, 1)
    freeze_on(D(2027, 3, 17))
    run = BillingRun.objects.create(period_start=q2, period_end=D(2027, 7, 1))
    accounts = services._payer_accounts(q2, D(2027, 7, 1))
    assert len(accounts) == 3

    class UndoError(Exception):
        pass

    try:
        with transaction.atomic():
            alone, alone_errors = services._bill_each(run, accounts)
            expected = _snapshot(invoice for _a, invoice in alone)
            raise UndoError
    except UndoError:
        pass
    assert not Invoice.objects.filter(period_start=q2).exists()
    with transaction.atomic():
        together, together_errors = services._bill_chunk_together(run, accounts)
    got = _snapshot(invoice for _a, invoice in together)
    assert alone_errors == together_errors == []
    assert [a.pk for a, _i in together] == [a.pk for a in accounts]
    assert len(got) == 3
    assert got == expected
    kinds = {line[0] for invoice in got for line in invoice[8]}
    assert {"late_fee", "overage", "port_fee", "package_fee"} <= kinds
    assert any(invoice[7] > 0 for invoice in got)  # the credit paid part of one invoice
    # Billing the chunk again writes nothing (one quarterly invoice per account).
    with transaction.atomic():
        again, _errors = services._bill_chunk_together(run, accounts)
    assert [invoice for _a, invoice in again] == [None, None, None]
    assert Invoice.objects.filter(period_start=q2).count() == 3


def test_a_chunk_that_fails_in_the_database_is_billed_account_by_account(
    clock, manager, monkeypatch
):
    """A database error while billing a chunk together rolls back the chunk's work to its
    savepoint and the run bills its accounts one by one: nothing is lost or doubled."""
    for _ in range(3):
        subscription_activated(manager, D(2026, 10, 1))
    freeze_on(D(2026, 12, 17))

    def broken(name, count):
        raise services.IntegrityError("counter row gone")

    monkeypatch.setattr(services, "sequence_reserve", broken)
    with committing():
        run = services.billing_run_create(quarter_start=Q1, by=manager)
    run.refresh_from_db()
    assert (run.processed_accounts, run.invoices_created, run.errors) == (3, 3, [])
    assert run.amount_total == Decimal("7200.00")
    numbers = sorted(int(i.number[4:]) for i in Invoice.objects.all())
    assert numbers == [numbers[0], numbers[0] + 1, numbers[0] + 2]
    assert Charge.objects.filter(invoice__isnull=True).count() == 0
