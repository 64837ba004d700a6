"""Read queries of billing: scoping, search, ageing, statements and exports."""

import datetime as dt
import io
import zipfile
from decimal import Decimal

from django.db.models import Q, QuerySet, Sum

from core import clock
from core.models import User
from core.money import ZERO
from customers.selectors import enterprises_visible_to

from .models import BillingAccount, BillingRun, DunningStep, Invoice, Payment

AGEING_BUCKETS = (("0-30", 0, 30), ("31-60", 31, 60), ("61-90", 61, 90), ("90+", 91, None))


def invoices_visible_to(user: User) -> QuerySet[Invoice]:
    """Issued invoices a staff user may see: finance all, managers their enterprises'."""
    invoices = Invoice.objects.select_related("account__enterprise")
    if user.is_superuser or user.has_perm("billing.run_billing"):
        return invoices
    return invoices.filter(account__enterprise__in=enterprises_visible_to(user))


def invoices_of_enterprise(enterprise_id: int) -> QuerySet[Invoice]:
    """Invoices an enterprise pays (its own account's; a branch billed to its parent sees
    its charges on the parent's invoices only through the parent). Drafts and void
    invoices are internal."""
    return (
        Invoice.objects.filter(account__enterprise_id=enterprise_id)
        .exclude(state__in=[Invoice.State.DRAFT, Invoice.State.VOID])
        .select_related("account__enterprise")
    )


def invoice_search(
    queryset: QuerySet[Invoice],
    *,
    text: str = "",
    state: str = "",
    period: str = "",
    overdue: bool = False,
) -> QuerySet[Invoice]:
    """Filter invoices by number / enterprise / account text, state, quarter (YYYY-Qn)."""
    if text:
        queryset = queryset.filter(
            Q(number__icontains=text)
            | Q(account__enterprise__name__icontains=text)
            | Q(account__number__icontains=text)
        )
    if state:
        queryset = queryset.filter(state=state)
    if period:
        try:
            year, quarter = period.upper().split("-Q")
            start = dt.date(int(year), 3 * (int(quarter) - 1) + 1, 1)
        except (ValueError, TypeError):
            return queryset.none()
        queryset = queryset.filter(period_start=start)
    if overdue:
        queryset = queryset.filter(state__in=Invoice.CHASED_STATES, due_on__lt=clock.today())
    return queryset.order_by("-issued_on", "-number")


def ageing(queryset: QuerySet[Invoice] | None = None, *, today: dt.date | None = None) -> dict:
    """Accounts receivable by days past due (0-30, 31-60, 61-90, 90+) and per enterprise.

    Not yet due amounts are shown separately as "current"; held (disputed) invoices are
    included in their bucket and counted as disputed too."""
    today = today or clock.today()
    queryset = queryset if queryset is not None else Invoice.objects.all()
    open_invoices = queryset.filter(state__in=Invoice.OPEN_STATES).select_related(
        "account__enterprise"
    )
    totals = {"current": ZERO, **{name: ZERO for name, _lo, _hi in AGEING_BUCKETS}}
    rows: dict[int, dict] = {}
    disputed = ZERO
    for invoice in open_invoices:
        amount = invoice.outstanding
        if amount <= 0:
            continue
        days = (today - invoice.due_on).days
        bucket = "current"
        if days > 0:
            bucket = next(
                name for name, lo, hi in AGEING_BUCKETS if days >= lo and (hi is None or days <= hi)
            )
        totals[bucket] += amount
        if invoice.state == Invoice.State.ON_HOLD:
            disputed += amount
        row = rows.setdefault(
            invoice.account_id,
            {
                "account": invoice.account,
                "enterprise": invoice.account.enterprise,
                "total": ZERO,
                **{key: ZERO for key in totals},
            },
        )
        row[bucket] += amount
        row["total"] += amount
    grand = sum(totals.values(), ZERO)
    chart = []
    for index, (key, value) in enumerate(totals.items()):
        percent = int(value * 100 / grand) if grand else 0
        chart.append(
            {
                "label": key,
                "amount": value,
                "percent": percent,
                "y": 10 + index * 36,
                "width": max(1, percent * 4) if value else 0,
            }
        )
    for row in rows.values():
        row["cells"] = [row[key] for key in totals]
    return {
        "today": today,
        "totals": totals,
        "grand_total": grand,
        "disputed": disputed,
        "chart": chart,
        "rows": sorted(rows.values(), key=lambda r: -r["total"]),
    }


def invoices_zip(queryset: QuerySet[Invoice]) -> bytes:
    """The stored PDFs of the invoices as one zip (rendering any not stored yet)."""
    from . import services

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for invoice in queryset.exclude(state__in=[Invoice.State.DRAFT]).order_by("number"):
            if not invoice.pdf_sha256:
                invoice = services.invoice_pdf_store(invoice_id=invoice.pk)
            archive.writestr(f"{invoice.number}.pdf", bytes(invoice.pdf))
    return buffer.getvalue()


def enterprise_statement(enterprise_id: int) -> dict:
    """What the portal shows: next invoice, overdue amount, late fee accrued so far, credit."""
    from . import services

    invoices = invoices_of_enterprise(enterprise_id)
    today = clock.today()
    open_invoices = [i for i in invoices if i.state in Invoice.OPEN_STATES]
    overdue = [i for i in open_invoices if i.due_on < today and i.state != Invoice.State.ON_HOLD]
    account = BillingAccount.objects.filter(enterprise_id=enterprise_id).first()
    return {
        "next_invoice": min(
            (i for i in open_invoices if i.due_on >= today), key=lambda i: i.due_on, default=None
        ),
        "overdue": overdue,
        "overdue_amount": sum((i.outstanding for i in overdue), ZERO),
        "late_fee_accrued": sum((services.late_fee_unbilled(i) for i in overdue), ZERO),
        "credit": services.account_credit(account) if account else ZERO,
    }


def payments_of_invoice(invoice: Invoice) -> QuerySet:
    return invoice.allocations.select_related("payment").order_by("on", "id")


def run_progress(run: BillingRun) -> dict:
    """A billing run's progress for the polling page."""
    return {
        "id": run.pk,
        "state": run.state,
        "stateLabel": str(run.get_state_display()),
        "percent": run.progress_percent,
        "processed": run.processed_accounts,
        "total": run.total_accounts,
        "invoices": run.invoices_created,
        "amount": str(run.amount_total),
        "errors": run.errors,
        "finished": run.state in (BillingRun.State.DONE, BillingRun.State.FAILED),
    }


def entrustment_due(*, due_by: dt.date) -> QuerySet[Invoice]:
    """Open invoices of bank-entrustment enterprises due by `due_by` (the collection file)."""
    return (
        Invoice.objects.filter(
            state__in=Invoice.CHASED_STATES,
            due_on__lte=due_by,
            account__enterprise__payment_method="bank_entrustment",
        )
        .select_related("account__enterprise")
        .order_by("due_on", "number")
    )


def dunning_of(invoice: Invoice) -> QuerySet[DunningStep]:
    return invoice.dunning_steps.order_by("sequence")


def received_total(queryset: QuerySet[Payment]) -> Decimal:
    return queryset.filter(state=Payment.State.RECEIVED).aggregate(s=Sum("amount"))["s"] or ZERO
