"""Demo data for billing (run by `seed_demo` after fulfillment and smsgw).

Bills the coming quarter for every demo enterprise with a live subscription through a
real billing run (invoices issued and numbered, PDFs stored), then shows what finance
meets: one invoice paid in cash, one partly collected by bank entrustment, one disputed
(on hold). Idempotent: a quarter already billed is skipped, payments are made once.
"""

from decimal import Decimal

from core import clock
from core.money import yuan
from fulfillment.models import Subscription

from . import rating, services
from .models import BillingRun, Invoice

MARKER = "演示"


def seed() -> list[str]:
    if not Subscription.objects.filter(state__in=Subscription.LIVE_STATES).exists():
        return ["billing: no live subscription to bill"]
    quarter = rating.next_quarter_start(clock.today())
    run = BillingRun.objects.filter(period_start=quarter, state=BillingRun.State.DONE).first()
    if run is None:
        run = BillingRun.objects.create(
            period_start=quarter, period_end=rating.quarter_end(quarter)
        )
        run = services.billing_run_execute(run_id=run.pk)
    for invoice in Invoice.objects.filter(state=Invoice.State.ISSUED):
        if not invoice.pdf_sha256:
            services.invoice_pdf_store(invoice_id=invoice.pk)
    invoices = list(
        Invoice.objects.filter(period_start=quarter, kind=Invoice.Kind.QUARTERLY).order_by("number")
    )
    lines = [
        f"billing: {quarter:%Y} Q{(quarter.month - 1) // 3 + 1} run — {len(invoices)} invoices, "
        f"¥{run.amount_total}"
    ]
    untouched = [
        i for i in invoices if i.state == Invoice.State.ISSUED and not i.allocations.exists()
    ]
    if len(untouched) == len(invoices) and len(invoices) >= 3:
        first, second, third = invoices[:3]
        services.payment_record(
            account_id=first.account_id,
            amount=first.total,
            method="cash",
            reference=f"{MARKER}现金缴费",
        )
        services.payment_record(
            account_id=second.account_id,
            amount=yuan(second.total * Decimal("0.5")),
            method="bank_entrustment",
            reference=f"{MARKER}托收-0001",
        )
        services.invoice_hold(
            invoice_id=third.pk, by=None, reason="企业对超出条数计费有异议（演示）"
        )
        lines.append(
            f"billing: {first.number} paid in cash, {second.number} half collected by bank "
            f"entrustment, {third.number} disputed (on hold)"
        )
    return lines
