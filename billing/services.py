"""Write services of billing: rating, invoices, credit notes, payments, late fees, dunning
and billing runs. Views, API views, admin actions and tasks call these; nothing else
changes billing state.

Rules (DOMAIN.md 7–10): monthly port and package fees are billed a quarter in advance
(第10条), the invoice issued BILLING_LEAD_DAYS before the quarter and due on its first day;
overage of a month is rated after the month closes and billed on the next invoice; late
payment costs BILLING_LATE_FEE_RATE of the unpaid principal per day (第14条第1款).
"""

import datetime as dt
import hashlib
import logging
from collections import defaultdict
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Case, Count, IntegerField, Max, Q, Sum, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from core import clock
from core.models import EventSubscription, User
from core.money import ZERO, yuan
from core.services import state_change_record, state_changes_record
from customers.models import Enterprise
from fulfillment import services as fulfillment_services
from fulfillment.models import Subscription
from fulfillment.services.common import sequence_next, sequence_reserve

from . import rating, usage
from .models import (
    Allocation,
    BillingAccount,
    BillingRequest,
    BillingRun,
    Charge,
    CreditNote,
    DunningStep,
    Invoice,
    LateFeeWaiver,
    Payment,
)

logger = logging.getLogger(__name__)

TMF_API = "customerBillManagement"


# ---------------------------------------------------------------- settings
def tax_rate() -> Decimal:
    return Decimal(str(settings.BILLING_TAX_RATE))


def late_fee_rate() -> Decimal:
    return Decimal(str(settings.BILLING_LATE_FEE_RATE))


def _local_date(value: dt.datetime | None) -> dt.date | None:
    return timezone.localdate(value) if value is not None else None


def _tax(amount: Decimal) -> Decimal:
    return rating.tax_of(amount, tax_rate(), inclusive=settings.BILLING_PRICES_INCLUDE_TAX)


# ---------------------------------------------------------------- accounts
def billing_account_for(enterprise: Enterprise) -> BillingAccount:
    """The enterprise's billing account, created on first use (number BA + 8 digits)."""
    account = BillingAccount.objects.filter(enterprise=enterprise).first()
    if account is not None:
        return account
    try:
        with transaction.atomic():
            return BillingAccount.objects.create(
                enterprise=enterprise, number=f"BA{enterprise.pk:08d}"
            )
    except IntegrityError:
        return BillingAccount.objects.get(enterprise=enterprise)


def payer_account(enterprise: Enterprise) -> BillingAccount:
    """The account that pays for `enterprise`: its parent's when it is billed to the parent."""
    account = billing_account_for(enterprise)
    if account.bill_to_parent and enterprise.parent_id:
        return billing_account_for(enterprise.parent)
    return account


@transaction.atomic
def billing_account_set_bill_to_parent(*, enterprise_id: int, value: bool, by: User | None):
    """Have a branch billed to its parent (or to itself again)."""
    enterprise = Enterprise.objects.get(pk=enterprise_id)
    if value and not enterprise.parent_id:
        raise ValidationError(_("该集团没有上级集团，不能由上级统一付费"))
    account = billing_account_for(enterprise)
    account.bill_to_parent = value
    account.save(update_fields=["bill_to_parent"])
    return account


def enterprises_billed_to(account: BillingAccount) -> list[int]:
    """Ids of the enterprises whose charges go on `account`'s invoices."""
    ids = [account.enterprise_id]
    ids += list(
        BillingAccount.objects.filter(
            bill_to_parent=True, enterprise__parent_id=account.enterprise_id
        ).values_list("enterprise_id", flat=True)
    )
    return ids


# ---------------------------------------------------------------- rating
def _new_charge(
    account, subscription, kind, month, end, *, quantity, unit_price, amount, text, rate, now
):
    """An unsaved charge; `rate` (tax_rate()) and `now` are read once by the caller, as a
    billing run makes tens of thousands of these."""
    return Charge(
        account=account,
        subscription=subscription,
        kind=kind,
        period_start=month,
        period_end=end,
        quantity=quantity,
        unit_price=unit_price,
        amount=amount,
        tax_rate=rate,
        tax_amount=rating.tax_of(amount, rate, inclusive=settings.BILLING_PRICES_INCLUDE_TAX),
        description=text,
        rated_at=now,
    )


def recurring_charges(
    subscription: Subscription, account: BillingAccount, months: list[dt.date]
) -> list[Charge]:
    """Unsaved port and package fee charges of `subscription` for `months`, prorated by
    live days in the first and last month (a bundle's price is one package line)."""
    tariff = subscription.tariff
    if tariff is None:
        return []
    activated = _local_date(subscription.activated_at)
    terminated = _local_date(subscription.terminated_at)
    code = subscription.service_code.code
    rate, now = tax_rate(), clock.now()
    charges = []
    for month in months:
        days, month_days = rating.live_days(month, activated, terminated)
        if days == 0:
            continue
        end = rating.next_month(month)
        label = f"{month:%Y-%m}"
        note = (
            ""
            if days == month_days
            else _("（按 %(d)s/%(m)s 天折算）")
            % {
                "d": days,
                "m": month_days,
            }
        )
        parts = (
            [(Charge.Kind.PACKAGE_FEE, tariff.bundle_price, _("套餐费"))]
            if tariff.bundle_price is not None
            else [
                (Charge.Kind.PORT_FEE, tariff.port_fee, _("独立短信端口费")),
                (
                    Charge.Kind.PACKAGE_FEE,
                    tariff.package_fee,
                    _("下行短信包月费（含 %(n)s 条）") % {"n": tariff.included_messages},
                ),
            ]
        )
        for kind, monthly, name in parts:
            amount = rating.prorate(monthly, days, month_days)
            if amount == 0 and monthly == 0:
                continue
            charges.append(
                _new_charge(
                    account,
                    subscription,
                    kind,
                    month,
                    end,
                    quantity=Decimal(days) / Decimal(month_days),
                    unit_price=monthly,
                    amount=amount,
                    text=f"{code} {label} {name}{note}",
                    rate=rate,
                    now=now,
                )
            )
    return charges


def overage_charges(
    subscription: Subscription, account: BillingAccount, month: dt.date, used: int
) -> list[Charge]:
    """The unsaved overage charge of `subscription` for a closed `month` with `used`
    billed segments (one segment is one message), or [] when within the allowance."""
    tariff = subscription.tariff
    if tariff is None:
        return []
    days, month_days = rating.live_days(
        month, _local_date(subscription.activated_at), _local_date(subscription.terminated_at)
    )
    if days == 0:
        return []
    allowed = rating.allowance(tariff.included_messages, days, month_days)
    extra, amount = rating.overage(used=used, allowed=allowed, price=tariff.overage_price)
    if extra == 0:
        return []
    text = _(
        "%(code)s %(month)s 超出包月条数 %(n)s 条（用量 %(used)s 条，包月 %(allowed)s 条；"
        "每个计费短信分段计为一条）"
    ) % {
        "code": subscription.service_code.code,
        "month": f"{month:%Y-%m}",
        "n": extra,
        "used": used,
        "allowed": allowed,
    }
    return [
        _new_charge(
            account,
            subscription,
            Charge.Kind.OVERAGE,
            month,
            rating.next_month(month),
            quantity=Decimal(extra),
            unit_price=tariff.overage_price,
            amount=amount,
            text=text[:200],
            rate=tax_rate(),
            now=clock.now(),
        )
    ]


def _save_new(charges: list[Charge]) -> list[Charge]:
    """Save the charges not rated yet (same subscription, kind and period); idempotent."""
    if not charges:
        return []
    keys = {(c.subscription_id, c.kind, c.period_start) for c in charges}
    existing = set(
        Charge.objects.filter(
            subscription_id__in={k[0] for k in keys},
            period_start__in={k[2] for k in keys},
        ).values_list("subscription_id", "kind", "period_start")
    )
    fresh = [c for c in charges if (c.subscription_id, c.kind, c.period_start) not in existing]
    Charge.objects.bulk_create(fresh)
    return fresh


def _subscriptions_of(enterprise_ids, start: dt.date, end: dt.date):
    """Subscriptions of these enterprises live on some day of [start, end)."""
    from fulfillment.selectors import subscriptions_active_in_period

    return (
        subscriptions_active_in_period(start, end - dt.timedelta(days=1))
        .filter(enterprise_id__in=enterprise_ids)
        .select_related("service_code", "enterprise")
        .order_by("id")
    )


def overage_unsaved(
    subscriptions, months: list[dt.date], *, today: dt.date, account: BillingAccount | None = None
) -> list[Charge]:
    """Unsaved overage charges of the closed `months` for `subscriptions` (open months are
    skipped), reading their usage in one query; `account` when all pay to one account."""
    closed = [m for m in months if rating.next_month(m) <= today]
    subscriptions = list(subscriptions)
    if not closed or not subscriptions:
        return []
    used = usage.billable_segments_by_month(
        [s.pk for s in subscriptions], closed[0], rating.next_month(closed[-1])
    )
    accounts: dict[int, BillingAccount] = {}
    batch = []
    for subscription in subscriptions:
        payer = account or accounts.get(subscription.enterprise_id)
        if payer is None:
            payer = accounts[subscription.enterprise_id] = payer_account(subscription.enterprise)
        batch += _overage_of(subscription, payer, closed, used)
    return batch


def _overage_of(subscription, account, closed: list[dt.date], used: dict) -> list[Charge]:
    """Unsaved overage charges of one subscription for the `closed` months, from usage
    read beforehand (`usage.billable_segments_by_month`)."""
    batch = []
    for month in closed:
        batch += overage_charges(
            subscription, account, month, used.get((subscription.pk, month), 0)
        )
    return batch


def overage_rate_subscriptions(
    subscriptions, months: list[dt.date], *, today: dt.date, account: BillingAccount | None = None
):
    """Rate and save the overage of the closed `months` (see `overage_unsaved`)."""
    return _save_new(overage_unsaved(subscriptions, months, today=today, account=account))


@transaction.atomic
def overage_rate_month(*, month: dt.date) -> int:
    """Rate every subscription's overage for a closed month (beat: on the 1st)."""
    month = rating.month_start(month)
    subscriptions = _subscriptions_of(
        Enterprise.objects.values("pk"), month, rating.next_month(month)
    )
    return len(overage_rate_subscriptions(subscriptions, [month], today=clock.today()))


# ---------------------------------------------------------------- late fees
def _principal_payments(invoice: Invoice) -> list[rating.PrincipalPayment]:
    return [
        rating.PrincipalPayment(on=a.on, principal=a.principal)
        for a in invoice.allocations.filter(reversed=False, principal__gt=0)
    ]


def _holds(invoice: Invoice) -> list[tuple[dt.date, dt.date | None]]:
    return [
        (dt.date.fromisoformat(start), dt.date.fromisoformat(end) if end else None)
        for start, end in invoice.hold_periods
    ]


def late_fee_accrued(invoice: Invoice, *, until: dt.date | None = None) -> Decimal:
    """The late fee the invoice's principal has earned up to `until` (default today, or
    the day it was paid), before waivers and whatever was billed already."""
    if invoice.state in (Invoice.State.DRAFT, Invoice.State.VOID):
        return ZERO
    until = until or clock.today()
    if invoice.paid_on and invoice.paid_on < until:
        until = invoice.paid_on
    return rating.late_fee(
        principal=invoice.principal,
        due_on=invoice.due_on,
        until=until,
        payments=_principal_payments(invoice),
        rate=late_fee_rate(),
        holds=_holds(invoice),
    )


def late_fee_unbilled(invoice: Invoice, *, until: dt.date | None = None) -> Decimal:
    """Accrued late fee not yet billed on a later invoice nor waived."""
    billed = invoice.late_fee_charges.aggregate(s=Sum("amount"))["s"] or ZERO
    waived = invoice.waivers.aggregate(s=Sum("amount"))["s"] or ZERO
    return max(ZERO, late_fee_accrued(invoice, until=until) - billed - waived)


def _late_fee_charges(account: BillingAccount, until: dt.date) -> list[Charge]:
    """Late fee lines for each of the account's invoices whose fee grew since last billed."""
    charges = []
    candidates = account.invoices.filter(due_on__lt=until).exclude(
        state__in=[Invoice.State.DRAFT, Invoice.State.VOID]
    )
    for invoice in candidates:
        fee_until = min(until, invoice.paid_on) if invoice.paid_on else until
        if invoice.late_fee_charges.filter(period_end=fee_until).exists():
            continue
        amount = late_fee_unbilled(invoice, until=fee_until)
        if amount <= 0:
            continue
        charges.append(
            Charge(
                account=account,
                source_invoice=invoice,
                kind=Charge.Kind.LATE_FEE,
                period_start=invoice.due_on + dt.timedelta(days=1),
                period_end=fee_until,
                quantity=Decimal(1),
                unit_price=amount,
                amount=amount,
                tax_rate=Decimal("0"),
                tax_amount=ZERO,
                description=_(
                    "账单 %(number)s 滞纳金（%(start)s 至 %(end)s，每日 %(rate)s%%，不计复利）"
                )
                % {
                    "number": invoice.number,
                    "start": invoice.due_on + dt.timedelta(days=1),
                    "end": fee_until,
                    "rate": (late_fee_rate() * 100).normalize(),
                },
            )
        )
    return charges


@transaction.atomic
def late_fee_waive(*, invoice_id: int, amount: Decimal, reason: str, by: User) -> LateFeeWaiver:
    """Forgive (part of) an invoice's unbilled late fee; needs billing.waive_late_fee and a
    reason, and leaves a record. A fee already billed is corrected by a credit note."""
    if not by.has_perm("billing.waive_late_fee"):
        raise PermissionDenied(_("减免滞纳金须有财务减免权限"))
    if not reason.strip():
        raise ValidationError(_("减免滞纳金须说明原因"))
    invoice = Invoice.objects.select_for_update().get(pk=invoice_id)
    amount = yuan(amount)
    available = late_fee_unbilled(invoice)
    if amount <= 0 or amount > available:
        raise ValidationError(
            _("减免金额须大于 0 且不超过未计入账单的滞纳金 ¥%(a)s；已计入账单的请开具冲红单")
            % {"a": available}
        )
    return LateFeeWaiver.objects.create(invoice=invoice, amount=amount, reason=reason, by=by)


# ---------------------------------------------------------------- invoices
def _publish(invoice: Invoice, event_type: str) -> None:
    from core.tmf.events import publish

    def document():
        from .api.serializers import CustomerBillSerializer

        return CustomerBillSerializer(invoice).data

    enterprise_ids: set[int] = set()

    def audience(sub) -> bool:
        # Read the billed enterprises only when some hub subscription is asked about
        # (publish returns before that when nobody listens: one query saved per invoice).
        if sub.enterprise_id is None:
            return True
        if not enterprise_ids:
            enterprise_ids.update(enterprises_billed_to(invoice.account))
        return sub.enterprise_id in enterprise_ids

    publish(api=TMF_API, event_type=event_type, resource=document, audience=audience)


def _line_sums(charges) -> dict:
    return charges.aggregate(
        count=Count("id"),
        total=Sum("amount"),
        tax=Sum("tax_amount"),
        late=Sum("amount", filter=Q(kind=Charge.Kind.LATE_FEE)),
    )


def _totals(invoice: Invoice, agg: dict) -> None:
    """Set the invoice's totals from the sums of its lines (`_line_sums`)."""
    late = agg["late"]
    total = agg["total"] or ZERO
    tax = agg["tax"] or ZERO
    if not settings.BILLING_PRICES_INCLUDE_TAX:
        total += tax
    invoice.total = total
    invoice.tax_total = tax
    invoice.late_fee_total = late or ZERO


def invoice_build(
    *,
    account: BillingAccount,
    kind: str,
    period_start: dt.date,
    period_end: dt.date,
    due_on: dt.date,
    run: BillingRun | None = None,
    subscription_ids: list[int] | None = None,
    by: User | None = None,
) -> Invoice | None:
    """Put the account's unbilled charges (of `subscription_ids` only, when given) up to
    `period_end` on a new invoice and issue it; None when there is nothing to bill.
    Late fees and refunds go on it too."""
    today = clock.today()
    late = _late_fee_charges(account, today)
    if late:
        Charge.objects.bulk_create(late)
    unbilled = account.charges.filter(invoice__isnull=True, period_start__lt=period_end)
    if subscription_ids is not None:
        unbilled = unbilled.filter(
            Q(subscription_id__in=subscription_ids) | Q(subscription__isnull=True)
        )
    # One aggregate both tells whether there is anything to bill and gives the totals
    # (re-summed in the rare case that lines were added in between).
    sums = _line_sums(unbilled)
    if not sums["count"]:
        return None
    invoice = Invoice.objects.create(
        account=account,
        kind=kind,
        period_start=period_start,
        period_end=period_end,
        due_on=due_on,
        run=run,
    )
    if unbilled.update(invoice=invoice) != sums["count"]:
        sums = _line_sums(invoice.lines.all())
    _totals(invoice, sums)
    invoice.save()
    return invoice_issue(invoice_id=invoice.pk, by=by)


@transaction.atomic(savepoint=False)  # no savepoint: invoice_build holds the transaction
def invoice_issue(*, invoice_id: int, by: User | None) -> Invoice:
    """Issue a draft: the next gapless number of the year, credit on the account applied,
    the CustomerBillCreateEvent published and the PDF rendered once, after commit."""
    invoice = Invoice.objects.select_for_update().get(pk=invoice_id)
    today = clock.today()
    year = today.year
    before = invoice.state
    number = f"{year}{sequence_next(f'invoice-{year}'):07d}"
    invoice.issue(number=number, on=today)
    invoice.save()
    state_change_record(obj=invoice, before=before, by=by, reason=_("出账"))
    _apply_credit(invoice)
    if invoice.state == Invoice.State.ISSUED and invoice.outstanding <= 0:
        invoice.settle(on=today)  # nothing to pay (e.g. a final bill that is all refund)
        invoice.save()
    _publish(invoice, "CustomerBillCreateEvent")
    from .tasks import invoice_pdf_render_task

    transaction.on_commit(lambda: invoice_pdf_render_task.delay(invoice.pk))
    return invoice


def _state_changed(invoice: Invoice, before: str, by: User | None, reason: str = "") -> None:
    if invoice.state != before:
        state_change_record(obj=invoice, before=before, by=by, reason=reason)
        _publish(invoice, "CustomerBillStateChangeEvent")


@transaction.atomic
def invoice_hold(*, invoice_id: int, by: User | None, reason: str) -> Invoice:
    """Put an issued invoice on hold while disputed: dunning and late fees pause."""
    if not reason.strip():
        raise ValidationError(_("挂起须说明争议原因"))
    invoice = Invoice.objects.select_for_update().get(pk=invoice_id)
    before = invoice.state
    invoice.hold(on=clock.today(), reason=reason)
    invoice.save()
    _state_changed(invoice, before, by, reason)
    return invoice


@transaction.atomic
def invoice_release(*, invoice_id: int, by: User | None, reason: str = "") -> Invoice:
    """Settle a dispute as is: the invoice is chased again, late fees resume."""
    invoice = Invoice.objects.select_for_update().get(pk=invoice_id)
    before = invoice.state
    invoice.release(on=clock.today())
    invoice.save()
    _state_changed(invoice, before, by, reason or _("争议已解决"))
    return invoice


@transaction.atomic
def invoice_void(*, invoice_id: int, by: User | None, reason: str) -> Invoice:
    """Void a draft, or an issued invoice nobody paid anything on; its charges become
    unbilled again so that a corrected invoice can bill them."""
    if not reason.strip():
        raise ValidationError(_("作废须说明原因"))
    invoice = Invoice.objects.select_for_update().get(pk=invoice_id)
    if invoice.allocations.filter(reversed=False).exists():
        raise ValidationError(_("已有付款的账单不能作废，请开具冲红单"))
    before = invoice.state
    invoice.void()
    invoice.save()
    invoice.lines.update(invoice=None)
    _state_changed(invoice, before, by, reason)
    return invoice


@transaction.atomic
def credit_note_issue(
    *, invoice_id: int, amount: Decimal, reason: str, by: User | None, release: bool = True
) -> CreditNote:
    """Correct an issued invoice by `amount` (tax-inclusive). The part beyond what is still
    unpaid becomes credit on the account. A disputed invoice is released (the dispute is
    settled by the correction) unless `release` is False."""
    if not reason.strip():
        raise ValidationError(_("冲红须说明原因"))
    invoice = Invoice.objects.select_for_update().get(pk=invoice_id)
    if invoice.state in (Invoice.State.DRAFT, Invoice.State.VOID):
        raise ValidationError(_("只有已出账的账单可以冲红"))
    amount = yuan(amount)
    if amount <= 0 or amount > invoice.principal:
        raise ValidationError(
            _("冲红金额须大于 0 且不超过账单本金 ¥%(p)s") % {"p": invoice.principal}
        )
    today = clock.today()
    note = CreditNote.objects.create(
        invoice=invoice,
        number=f"CN{today.year}{sequence_next(f'credit-note-{today.year}'):06d}",
        amount=amount,
        tax_amount=_tax(amount),
        reason=reason,
        issued_on=today,
        by=by,
    )
    surplus = max(ZERO, amount - invoice.unpaid_principal)
    invoice.credited += amount
    if surplus:
        # Paid principal beyond the corrected principal is given back as credit.
        invoice.paid_principal -= surplus
        _payment_create(
            account=invoice.account,
            method=Payment.Method.CREDIT_NOTE,
            amount=surplus,
            on=today,
            reference=note.number,
            by=by,
            allocate=False,
        )
    before = invoice.state
    if invoice.state == Invoice.State.ON_HOLD:
        if release:
            invoice.release(on=today)
    elif invoice.state in Invoice.CHASED_STATES:
        invoice.settle(on=today)
    invoice.save()
    _state_changed(invoice, before, by, _("冲红 %(n)s") % {"n": note.number})
    if invoice.state == Invoice.State.PAID:
        _resume_if_settled(invoice.account, by)
    return note


# ---------------------------------------------------------------- payments
def account_credit(account: BillingAccount) -> Decimal:
    """Money received on the account and not allocated to any invoice."""
    received = (
        account.payments.filter(state=Payment.State.RECEIVED).aggregate(s=Sum("amount"))["s"]
        or ZERO
    )
    allocated = Allocation.objects.filter(
        payment__account=account, payment__state=Payment.State.RECEIVED, reversed=False
    ).aggregate(p=Sum("principal"), f=Sum("late_fee"))
    return received - (allocated["p"] or ZERO) - (allocated["f"] or ZERO)


def _payment_remaining(payment: Payment) -> Decimal:
    agg = payment.allocations.filter(reversed=False).aggregate(
        p=Sum("principal"), f=Sum("late_fee")
    )
    return payment.amount - (agg["p"] or ZERO) - (agg["f"] or ZERO)


def _allocate_to(invoice: Invoice, payment: Payment, available: Decimal, on: dt.date) -> Decimal:
    """Apply up to `available` of `payment` to `invoice` (principal before late fee unless
    configured otherwise); returns what was applied. Saves the invoice."""
    order = ["principal", "late_fee"]
    if not settings.BILLING_ALLOCATE_PRINCIPAL_FIRST:
        order.reverse()
    parts = {"principal": ZERO, "late_fee": ZERO}
    left = available
    for part in order:
        open_amount = invoice.unpaid_principal if part == "principal" else invoice.unpaid_late_fee
        take = min(left, max(open_amount, ZERO))
        parts[part] = take
        left -= take
    applied = parts["principal"] + parts["late_fee"]
    if applied <= 0:
        return ZERO
    Allocation.objects.create(
        payment=payment,
        invoice=invoice,
        principal=parts["principal"],
        late_fee=parts["late_fee"],
        on=on,
    )
    invoice.paid_principal += parts["principal"]
    invoice.paid_late_fee += parts["late_fee"]
    before = invoice.state
    invoice.settle(on=on)
    invoice.save()
    _state_changed(invoice, before, payment.by, _("收款 %(r)s") % {"r": payment.receipt_number})
    return applied


def _apply_credit(invoice: Invoice) -> None:
    """Use the account's credit (oldest payments first) on a newly issued invoice."""
    payments = invoice.account.payments.filter(state=Payment.State.RECEIVED).order_by(
        "received_on", "id"
    )
    for payment in payments:
        if invoice.outstanding <= 0:
            break
        remaining = _payment_remaining(payment)
        if remaining > 0:
            _allocate_to(invoice, payment, remaining, invoice.issued_on)


def _payment_create(*, account, method, amount, on, reference, by, allocate=True) -> Payment:
    payment = Payment.objects.create(
        account=account,
        method=method,
        amount=amount,
        received_on=on,
        reference=reference,
        receipt_number=f"R{on.year}{sequence_next(f'receipt-{on.year}'):07d}",
        by=by,
    )
    if allocate:
        left = amount
        open_invoices = (
            Invoice.objects.select_for_update()
            .filter(account=account, state__in=Invoice.CHASED_STATES)
            .order_by("due_on", "id")
        )
        for invoice in open_invoices:
            if left <= 0:
                break
            left -= _allocate_to(invoice, payment, left, on)
    return payment


@transaction.atomic
def payment_record(
    *,
    account_id: int,
    amount: Decimal,
    method: str = Payment.Method.CASH,
    received_on: dt.date | None = None,
    reference: str = "",
    by: User | None = None,
) -> Payment:
    """Record money received (第9条第2款) and allocate it to the oldest open invoices
    first; the rest stays on the account as credit. Paying every overdue amount lifts a
    dunning suspension."""
    amount = yuan(amount)
    if amount <= 0:
        raise ValidationError(_("收款金额须大于 0"))
    allowed = (Payment.Method.CASH, Payment.Method.BANK_ENTRUSTMENT, Payment.Method.TRANSFER)
    if method not in allowed:
        raise ValidationError(_("付款方式须为现金、银行托收或银行转账"))
    received_on = received_on or clock.today()
    if received_on > clock.today():
        raise ValidationError(_("到账日期不能晚于今天"))
    account = BillingAccount.objects.select_for_update().get(pk=account_id)
    payment = _payment_create(
        account=account,
        method=method,
        amount=amount,
        on=received_on,
        reference=reference,
        by=by,
    )
    _resume_if_settled(account, by)
    return payment


@transaction.atomic
def payment_reverse(*, payment_id: int, reason: str, by: User | None) -> Payment:
    """Reverse a payment (a bounced bank entrustment): its allocations are undone, the
    invoices it paid are open again (and chased, with late fees from the due date)."""
    if not reason.strip():
        raise ValidationError(_("冲正须说明原因"))
    payment = Payment.objects.select_for_update().get(pk=payment_id)
    before = payment.state
    payment.reverse(reason=reason)
    payment.save()
    state_change_record(obj=payment, before=before, by=by, reason=reason)
    today = clock.today()
    for allocation in payment.allocations.filter(reversed=False).select_related("invoice"):
        invoice = Invoice.objects.select_for_update().get(pk=allocation.invoice_id)
        invoice.paid_principal -= allocation.principal
        invoice.paid_late_fee -= allocation.late_fee
        allocation.reversed = True
        allocation.save(update_fields=["reversed"])
        before_invoice = invoice.state
        if invoice.state == Invoice.State.PAID:
            invoice.reopen()
        elif invoice.state in Invoice.CHASED_STATES:
            invoice.settle(on=today)
        invoice.save()
        _state_changed(invoice, before_invoice, by, _("收款冲正：%(r)s") % {"r": reason})
    return payment


# ---------------------------------------------------------------- quarterly billing
LOOKBACK_DAYS = 185


def quarter_for_run(today: dt.date) -> dt.date:
    """The quarter a run on `today` bills: the next one once within the lead time."""
    upcoming = rating.next_quarter_start(today)
    if (upcoming - today).days <= settings.BILLING_LEAD_DAYS:
        return upcoming
    return rating.quarter_start(today)


def bill_account_for_quarter(
    *, account: BillingAccount, quarter_start: dt.date, run: BillingRun | None = None
) -> Invoice | None:
    """Rate and invoice one payer account for a quarter, in one transaction; idempotent:
    a quarter already invoiced (not void) is skipped, charges are never rated twice."""
    quarter_end = rating.quarter_end(quarter_start)
    with transaction.atomic():
        account = BillingAccount.objects.select_for_update().get(pk=account.pk)
        if (
            account.invoices.filter(kind=Invoice.Kind.QUARTERLY, period_start=quarter_start)
            .exclude(state=Invoice.State.VOID)
            .exists()
        ):
            return None
        today = clock.today()
        enterprise_ids = enterprises_billed_to(account)
        # Months of this quarter, and earlier months not billed yet (a subscription that
        # started during the previous quarter pays its first months on this invoice).
        lookback = rating.month_start(quarter_start - dt.timedelta(days=LOOKBACK_DAYS))
        subscriptions = list(_subscriptions_of(enterprise_ids, lookback, quarter_end))
        months = rating.months_of(lookback, quarter_end)
        charges = []
        for subscription in subscriptions:
            charges += recurring_charges(subscription, account, months)
        # Overage of closed months not rated yet (the monthly job may not have run).
        charges += overage_unsaved(subscriptions, months, today=today, account=account)
        # Charges rated before are skipped by the unique constraint on (subscription,
        # kind, period) rather than read first: one query less per account.
        Charge.objects.bulk_create(charges, ignore_conflicts=True)
        return invoice_build(
            account=account,
            kind=Invoice.Kind.QUARTERLY,
            period_start=quarter_start,
            period_end=quarter_end,
            due_on=quarter_start,
            run=run,
        )


@transaction.atomic
def billing_run_create(*, quarter_start: dt.date, by: User | None) -> BillingRun:
    """Queue a billing run for the quarter beginning `quarter_start` (one at a time)."""
    if quarter_start != rating.quarter_start(quarter_start):
        raise ValidationError(_("季度须从 1、4、7、10 月的 1 日开始"))
    busy = BillingRun.objects.filter(
        period_start=quarter_start, state__in=[BillingRun.State.PENDING, BillingRun.State.RUNNING]
    ).first()
    if busy is not None:
        return busy
    run = BillingRun.objects.create(
        period_start=quarter_start, period_end=rating.quarter_end(quarter_start), by=by
    )
    from .tasks import billing_run_task

    transaction.on_commit(lambda: billing_run_task.delay(run.pk))
    return run


def _payer_accounts(quarter_start: dt.date, quarter_end: dt.date) -> list[BillingAccount]:
    """Every account that pays for some subscription live in the quarter."""
    from fulfillment.selectors import subscriptions_active_in_period

    enterprise_ids = set(
        subscriptions_active_in_period(quarter_start, quarter_end - dt.timedelta(days=1))
        .values_list("enterprise_id", flat=True)
        .distinct()
    )
    parent_of = dict(
        Enterprise.objects.filter(pk__in=enterprise_ids).values_list("pk", "parent_id")
    )
    accounts = _accounts_of(set(parent_of) | {p for p in parent_of.values() if p})
    payers = {}
    for enterprise_id, parent_id in parent_of.items():
        account = accounts[enterprise_id]
        if account.bill_to_parent and parent_id:
            account = accounts[parent_id]
        payers[account.pk] = account
    return [payers[k] for k in sorted(payers)]


def _accounts_of(enterprise_ids: set[int]) -> dict[int, BillingAccount]:
    """The billing accounts of these enterprises by enterprise id, the missing ones
    created (as `billing_account_for`, in two queries and one insert for all)."""
    accounts = {
        a.enterprise_id: a for a in BillingAccount.objects.filter(enterprise_id__in=enterprise_ids)
    }
    missing = sorted(enterprise_ids - set(accounts))
    if missing:
        BillingAccount.objects.bulk_create(
            [BillingAccount(enterprise_id=pk, number=f"BA{pk:08d}") for pk in missing],
            ignore_conflicts=True,
        )
        accounts.update(
            (a.enterprise_id, a) for a in BillingAccount.objects.filter(enterprise_id__in=missing)
        )
    return accounts


RUN_CHUNK = 50


def _bill_chunk(run: BillingRun, chunk: list[BillingAccount]) -> tuple[list, list[dict]]:
    """Bill `chunk` in one transaction: all its accounts at once (`_bill_chunk_together`),
    or, when that fails in the database, account by account, each in its own savepoint so
    one account's error rolls back only that account. Returns (account, invoice) pairs
    and the errors."""
    with transaction.atomic():
        try:
            with transaction.atomic():
                return _bill_chunk_together(run, chunk)
        except Exception:  # retried account by account below, which reports the culprit
            logger.exception("billing run %s: chunk billed together failed, one by one", run.pk)
        return _bill_each(run, chunk)


def _bill_each(run: BillingRun, chunk: list[BillingAccount]) -> tuple[list, list[dict]]:
    """Bill each account of `chunk` in its own savepoint of the caller's transaction."""
    results = []
    errors: list[dict] = []
    for account in chunk:
        try:
            invoice = bill_account_for_quarter(
                account=account, quarter_start=run.period_start, run=run
            )
        except Exception as exc:  # one account's failure is reported, not fatal
            logger.exception("billing run %s: account %s failed", run.pk, account.number)
            errors.append({"account": account.number, "error": str(exc)[:300]})
            invoice = None
        results.append((account, invoice))
    return results, errors


class _NotTogetherError(Exception):
    """A chunk that cannot be billed in one go (an enterprise billed to two of its
    accounts): it is billed account by account instead."""


def _bill_chunk_together(run: BillingRun, chunk: list[BillingAccount]) -> tuple[list, list[dict]]:
    """Bill a chunk of payer accounts for the run's quarter with a few queries for the
    whole chunk instead of ~25 per account: the same result as `bill_account_for_quarter`
    for each account (idempotent per account and quarter; charges never rated twice;
    gapless numbers, state records, credit, events and PDFs as `invoice_issue` does).

    Accounts are locked together; subscriptions, usage, unbilled sums and existing
    invoices are read for the chunk; charges, invoices and state records are inserted in
    bulk; the chunk's invoice numbers are reserved with one counter update. An account
    whose charges cannot be rated is reported and left out (nothing of it is written);
    a database error raises, and the caller bills the chunk account by account."""
    quarter_start = run.period_start
    quarter_end = rating.quarter_end(quarter_start)
    today = clock.today()
    ids = [account.pk for account in chunk]
    locked = {
        account.pk: account
        for account in BillingAccount.objects.select_for_update().filter(pk__in=ids).order_by("pk")
    }
    invoiced = set(
        Invoice.objects.filter(
            account_id__in=ids, kind=Invoice.Kind.QUARTERLY, period_start=quarter_start
        )
        .exclude(state=Invoice.State.VOID)
        .values_list("account_id", flat=True)
    )
    todo = [locked[pk] for pk in ids if pk in locked and pk not in invoiced]
    invoices: dict[int, Invoice] = {}
    errors: list[dict] = []
    if todo:
        invoices = _invoice_chunk(run, todo, quarter_start, quarter_end, today, errors)
    return [(account, invoices.get(account.pk)) for account in chunk], errors


def _invoice_chunk(run, todo, quarter_start, quarter_end, today, errors) -> dict[int, Invoice]:
    """Rate and invoice the locked, not yet invoiced accounts `todo` (`_bill_chunk_together`)."""
    payer_of: dict[int, BillingAccount] = {account.enterprise_id: account for account in todo}
    branches = BillingAccount.objects.filter(
        bill_to_parent=True, enterprise__parent_id__in=list(payer_of)
    ).values_list("enterprise_id", "enterprise__parent_id")
    for enterprise_id, parent_id in branches:
        if enterprise_id in payer_of:
            raise _NotTogetherError(enterprise_id)
        payer_of[enterprise_id] = payer_of[parent_id]
    # Months of this quarter, and earlier months not billed yet (as bill_account_for_quarter).
    lookback = rating.month_start(quarter_start - dt.timedelta(days=LOOKBACK_DAYS))
    months = rating.months_of(lookback, quarter_end)
    closed = [m for m in months if rating.next_month(m) <= today]
    subscriptions: dict[int, list] = defaultdict(list)
    for subscription in _subscriptions_of(list(payer_of), lookback, quarter_end):
        subscriptions[payer_of[subscription.enterprise_id].pk].append(subscription)
    used = {}
    if closed and subscriptions:
        used = usage.billable_segments_by_month(
            [s.pk for subs in subscriptions.values() for s in subs],
            closed[0],
            rating.next_month(closed[-1]),
        )
    charges = []
    rated = []
    for account in todo:
        try:
            mine = []
            for subscription in subscriptions.get(account.pk, ()):
                mine += recurring_charges(subscription, account, months)
            for subscription in subscriptions.get(account.pk, ()):
                mine += _overage_of(subscription, account, closed, used)
        except Exception as exc:  # one account's failure is reported, not fatal
            logger.exception("billing run %s: account %s failed", run.pk, account.number)
            errors.append({"account": account.number, "error": str(exc)[:300]})
            continue
        charges += mine
        rated.append(account)
    _insert_new_charges(charges)
    rated_ids = [account.pk for account in rated]
    overdue = set(
        Invoice.objects.filter(account_id__in=rated_ids, due_on__lt=today)
        .exclude(state__in=[Invoice.State.DRAFT, Invoice.State.VOID])
        .values_list("account_id", flat=True)
    )
    late = []
    for account in rated:
        if account.pk in overdue:
            late += _late_fee_charges(account, today)
    if late:
        Charge.objects.bulk_create(late)
    unbilled = Charge.objects.filter(
        account_id__in=rated_ids, invoice__isnull=True, period_start__lt=quarter_end
    )
    sums = {
        row["account_id"]: row
        for row in unbilled.values("account_id").annotate(
            count=Count("id"),
            total=Sum("amount"),
            tax=Sum("tax_amount"),
            late=Sum("amount", filter=Q(kind=Charge.Kind.LATE_FEE)),
        )
    }
    billable = [account for account in rated if sums.get(account.pk, {}).get("count")]
    if not billable:
        return {}
    year = today.year
    first = sequence_reserve(f"invoice-{year}", len(billable))
    drafts = []
    for offset, account in enumerate(billable):
        invoice = Invoice(
            account=account,
            kind=Invoice.Kind.QUARTERLY,
            period_start=quarter_start,
            period_end=quarter_end,
            due_on=quarter_start,
            run=run,
        )
        _totals(invoice, sums[account.pk])
        invoice.issue(number=f"{year}{first + offset:07d}", on=today)
        drafts.append(invoice)
    issued = Invoice.objects.bulk_create(drafts)
    by_account = {invoice.account_id: invoice for invoice in issued}
    count = unbilled.filter(account_id__in=list(by_account)).update(
        invoice_id=Case(
            *[When(account_id=a, then=Value(invoice.pk)) for a, invoice in by_account.items()],
            output_field=IntegerField(),
        )
    )
    if count != sum(sums[a]["count"] for a in by_account):
        # Lines added in between (the monthly overage job): re-sum from the invoices.
        for invoice in issued:
            _totals(invoice, _line_sums(invoice.lines.all()))
            invoice.save(update_fields=["total", "tax_total", "late_fee_total"])
    state_changes_record(objs=issued, before=Invoice.State.DRAFT, by=None, reason=_("出账"))
    with_credit = set(
        Payment.objects.filter(account_id__in=list(by_account), state=Payment.State.RECEIVED)
        .values_list("account_id", flat=True)
        .distinct()
    )
    for invoice in issued:
        if invoice.account_id in with_credit:
            _apply_credit(invoice)
        if invoice.state == Invoice.State.ISSUED and invoice.outstanding <= 0:
            invoice.settle(on=today)  # nothing to pay
            invoice.save()
    if EventSubscription.objects.filter(api=TMF_API).exists():
        for invoice in issued:
            _publish(invoice, "CustomerBillCreateEvent")
    from .tasks import invoice_pdf_render_task

    pks = [invoice.pk for invoice in issued]

    def render():
        for pk in pks:
            invoice_pdf_render_task.delay(pk)

    transaction.on_commit(render)
    return by_account


_COPIED_CHARGE_FIELDS = (
    "account",
    "subscription",
    "kind",
    "period_start",
    "period_end",
    "quantity",
    "unit_price",
    "amount",
    "tax_rate",
    "tax_amount",
    "description",
    "rated_at",
)


def _insert_new_charges(charges: list[Charge]) -> None:
    """Insert unsaved rated charges, skipping those rated before: the unique constraint on
    (subscription, kind, period) decides rather than reading them first.

    On PostgreSQL they are COPied into a temporary table and moved over with one INSERT …
    ON CONFLICT DO NOTHING: building Django's multi-row INSERT (every value prepared per
    field) was most of a billing run's time. Elsewhere, and outside a transaction (the
    staging table empties at each commit): `bulk_create(ignore_conflicts)`."""
    if not charges:
        return
    if connection.vendor != "postgresql" or not connection.in_atomic_block:
        Charge.objects.bulk_create(charges, ignore_conflicts=True, batch_size=2000)
        return
    fields = [Charge._meta.get_field(name) for name in _COPIED_CHARGE_FIELDS]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    attnames = [f.attname for f in fields]
    table = connection.ops.quote_name(Charge._meta.db_table)
    staging = "billing_charge_staging"
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {staging} ON COMMIT DELETE ROWS AS "  # noqa: S608
            f"SELECT {columns} FROM {table} WITH NO DATA"
        )
        with cursor.cursor.copy(f"COPY {staging} ({columns}) FROM STDIN") as copy:
            for charge in charges:
                copy.write_row([getattr(charge, name) for name in attnames])
        cursor.execute(
            f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {staging} "  # noqa: S608
            "ON CONFLICT DO NOTHING"
        )
        cursor.execute(f"TRUNCATE {staging}")


def _bill_one_by_one(run: BillingRun, chunk: list[BillingAccount]) -> tuple[list, list[dict]]:
    """Fallback when a whole chunk failed to commit: each account in its own transaction,
    so the others' work is kept (billing an account is idempotent)."""
    results = []
    errors: list[dict] = []
    for account in chunk:
        with transaction.atomic():
            part, failed = _bill_each(run, [account])
        results += part
        errors += failed
    return results, errors


def billing_run_execute(
    *, run_id: int, progress_every: int = RUN_CHUNK, chunk_size: int = RUN_CHUNK
) -> BillingRun:
    """Carry out a billing run: payer accounts in chunks of `chunk_size` per transaction
    (a savepoint per account), progress saved as it goes, errors collected per account
    (the rest still billed)."""
    with transaction.atomic():
        run = BillingRun.objects.select_for_update().get(pk=run_id)
        if run.state == BillingRun.State.DONE:
            return run
        accounts = _payer_accounts(run.period_start, run.period_end)
        run.start(at=clock.now(), total=len(accounts))
        run.save()
    errors: list[dict] = []
    created = 0
    amount = ZERO
    step = max(1, min(chunk_size, progress_every))
    processed = 0
    for offset in range(0, len(accounts), step):
        chunk = accounts[offset : offset + step]
        try:
            results, failed = _bill_chunk(run, chunk)
        except Exception:  # the chunk's commit failed: retry its accounts one by one
            logger.exception("billing run %s: chunk at %s failed, retrying", run.pk, offset)
            results, failed = _bill_one_by_one(run, chunk)
        errors += failed
        for _account, invoice in results:
            if invoice is not None:
                created += 1
                amount += invoice.total
        processed += len(chunk)
        BillingRun.objects.filter(pk=run.pk).update(
            processed_accounts=processed,
            invoices_created=created,
            amount_total=amount,
            errors=errors,
        )
    with transaction.atomic():
        run = BillingRun.objects.select_for_update().get(pk=run_id)
        run.processed_accounts = len(accounts)
        run.invoices_created = created
        run.amount_total = amount
        run.errors = errors
        run.finish(at=clock.now())
        run.save()
    return run


@transaction.atomic
def billing_run_fail(*, run_id: int, error: str) -> BillingRun:
    run = BillingRun.objects.select_for_update().get(pk=run_id)
    if run.state in (BillingRun.State.PENDING, BillingRun.State.RUNNING):
        run.fail(at=clock.now(), error=error[:500])
        run.save()
    return run


def quarterly_run_due(*, by: User | None = None) -> BillingRun | None:
    """Start the quarter's run once its lead time has come (beat: daily)."""
    today = clock.today()
    quarter = rating.next_quarter_start(today)
    if (quarter - today).days > settings.BILLING_LEAD_DAYS:
        return None
    if BillingRun.objects.filter(period_start=quarter, state=BillingRun.State.DONE).exists():
        return None
    return billing_run_create(quarter_start=quarter, by=by)


# ---------------------------------------------------------------- termination
def subscription_terminated(subscription: Subscription, by: User | None = None) -> Invoice | None:
    """Final invoice at termination: the open month's overage, a refund of the advance
    paid for days after termination, and anything else unbilled of this subscription."""
    today = clock.today()
    account = payer_account(subscription.enterprise)
    terminated = _local_date(subscription.terminated_at) or today
    month = rating.month_start(terminated)
    with transaction.atomic():
        used = usage.billable_segments(
            subscription_id=subscription.pk, start=month, end=rating.next_month(month)
        )
        _save_new(overage_charges(subscription, account, month, used))
        refunds: dict[dt.date, list] = {}
        billed = Charge.objects.filter(
            subscription=subscription,
            kind__in=[Charge.Kind.PORT_FEE, Charge.Kind.PACKAGE_FEE],
            invoice__isnull=False,
            period_end__gt=terminated,
        ).exclude(invoice__state=Invoice.State.VOID)
        for charge in billed:
            unused_from = max(terminated, charge.period_start)
            month_days = rating.days_in_month(charge.period_start)
            days = (charge.period_end - unused_from).days
            refund = min(rating.prorate(charge.unit_price, days, month_days), charge.amount)
            if refund > 0:
                entry = refunds.setdefault(unused_from, [charge.period_end, days, ZERO])
                entry[2] += refund
        new_refunds = [
            Charge(
                account=account,
                subscription=subscription,
                kind=Charge.Kind.REFUND,
                period_start=start,
                period_end=end,
                quantity=Decimal(days),
                unit_price=-amount,
                amount=-amount,
                tax_rate=tax_rate(),
                tax_amount=-_tax(amount),
                description=_("%(code)s %(start)s 起终止后 %(d)s 天已预收费用退还")
                % {"code": subscription.service_code.code, "start": start, "d": days},
            )
            for start, (end, days, amount) in sorted(refunds.items())
        ]
        _save_new(new_refunds)
        unbilled = account.charges.filter(invoice__isnull=True, subscription=subscription)
        last_end = unbilled.aggregate(m=Max("period_end"))["m"]
        if last_end is None:
            return None
        invoice = invoice_build(
            account=account,
            kind=Invoice.Kind.FINAL,
            period_start=month,
            period_end=max(last_end, rating.next_month(month)),
            due_on=today + dt.timedelta(days=15),
            subscription_ids=[subscription.pk],
            by=by,
        )
        if invoice is not None and invoice.total < 0:
            # A refund larger than the charges: the difference pays open invoices first,
            # the rest stays as credit on the account.
            _payment_create(
                account=account,
                method=Payment.Method.CREDIT_NOTE,
                amount=-invoice.total,
                on=today,
                reference=invoice.number,
                by=by,
            )
        return invoice


# ---------------------------------------------------------------- on-demand bills (TMF678)
@transaction.atomic
def billing_request_create(
    *, billing_account_ref: str, enterprise_id: int | None, name: str = "", description: str = ""
) -> BillingRequest:
    """Accept a TMF678 customerBillOnDemand; it is processed after commit."""
    request = BillingRequest.objects.create(
        billing_account_ref=billing_account_ref[:40],
        enterprise_id=enterprise_id,
        name=name[:200],
        description=description,
    )
    from .tasks import billing_request_process_task

    transaction.on_commit(lambda: billing_request_process_task.delay(request.pk))
    return request


def billing_request_process(*, request_id: int) -> BillingRequest:
    """Bill everything unbilled on the account now (overage of closed months included),
    or reject the request with the reason."""
    request = BillingRequest.objects.get(pk=request_id)
    if request.state != BillingRequest.State.IN_PROGRESS:
        return request
    account = BillingAccount.objects.filter(number=request.billing_account_ref).first()
    if (
        account is not None
        and request.enterprise_id is not None
        and request.enterprise_id not in enterprises_billed_to(account)
    ):
        account = None
    with transaction.atomic():
        request = BillingRequest.objects.select_for_update().get(pk=request_id)
        if account is None:
            request.state = BillingRequest.State.REJECTED
            request.rejection_reason = _("未知的账务账户：%(ref)s") % {
                "ref": request.billing_account_ref
            }
        else:
            today = clock.today()
            past = list(
                _subscriptions_of(
                    enterprises_billed_to(account), today - dt.timedelta(days=185), today
                )
            )
            overage_rate_subscriptions(
                past, rating.months_of(today - dt.timedelta(days=185), today), today=today
            )
            invoice = invoice_build(
                account=account,
                kind=Invoice.Kind.ON_DEMAND,
                period_start=rating.month_start(today),
                period_end=today,
                due_on=today + dt.timedelta(days=15),
            )
            if invoice is None:
                request.state = BillingRequest.State.REJECTED
                request.rejection_reason = _("该账户没有未出账的费用")
            else:
                request.state = BillingRequest.State.DONE
                request.invoice = invoice
        request.last_update = clock.now()
        request.save()
    return request


# ---------------------------------------------------------------- PDFs
@transaction.atomic
def invoice_pdf_store(*, invoice_id: int) -> Invoice:
    """Render the invoice PDF once and keep it with its SHA-256 (never re-rendered)."""
    invoice = Invoice.objects.select_for_update().get(pk=invoice_id)
    if invoice.pdf_sha256 or invoice.state == Invoice.State.DRAFT:
        return invoice
    from .pdf import invoice_pdf

    data = invoice_pdf(invoice)
    invoice.pdf = data
    invoice.pdf_sha256 = hashlib.sha256(data).hexdigest()
    invoice.save(update_fields=["pdf", "pdf_sha256"])
    return invoice


# ---------------------------------------------------------------- dunning
def dunning_schedule(invoice: Invoice, *, demand_on: dt.date | None = None) -> dict[str, dt.date]:
    """The day each dunning step becomes due for `invoice` (第14条). Good credit delays
    suspension; termination comes 30 days after the due date or once a written demand
    went unanswered for BILLING_DEMAND_RESPONSE_DAYS, whichever is first."""
    due = invoice.due_on
    enterprise = invoice.account.enterprise
    suspension = settings.BILLING_SUSPENSION_DAYS
    if enterprise.good_credit:
        suspension += settings.BILLING_GOOD_CREDIT_GRACE_DAYS
    termination = due + dt.timedelta(days=settings.BILLING_TERMINATION_DAYS)
    if demand_on is not None:
        termination = min(
            termination, demand_on + dt.timedelta(days=settings.BILLING_DEMAND_RESPONSE_DAYS)
        )
    schedule = {
        DunningStep.Step.REMINDER_BEFORE: due
        - dt.timedelta(days=settings.BILLING_REMINDER_BEFORE_DAYS),
        DunningStep.Step.REMINDER_AFTER: due
        + dt.timedelta(days=settings.BILLING_REMINDER_AFTER_DAYS),
        DunningStep.Step.WRITTEN_DEMAND: due
        + dt.timedelta(days=settings.BILLING_WRITTEN_DEMAND_DAYS),
        DunningStep.Step.SUSPENSION: due + dt.timedelta(days=suspension),
        DunningStep.Step.TERMINATION: max(termination, due + dt.timedelta(days=suspension)),
    }
    return schedule


def _billing_contact(enterprise: Enterprise):
    contact = enterprise.billing_contact
    if contact is None:
        contact = enterprise.contacts.filter(is_primary=True).first()
    return contact


def _live_subscriptions(invoice: Invoice):
    return Subscription.objects.filter(
        enterprise_id__in=enterprises_billed_to(invoice.account),
        state__in=Subscription.LIVE_STATES,
    ).order_by("id")


def _do_step(invoice: Invoice, step: str, due_on: dt.date, today: dt.date) -> DunningStep:
    from . import notify

    enterprise = invoice.account.enterprise
    record = DunningStep(
        invoice=invoice,
        step=step,
        sequence=DunningStep.ORDER.index(step) + 1,
        due_on=due_on,
        done_at=clock.now(),
    )
    amount = invoice.outstanding
    if step == DunningStep.Step.REMINDER_BEFORE:
        if today > invoice.due_on:
            record.outcome = _("已过缴费截止日，到期前提醒不再发送")
        else:
            text = _(
                "【中国移动】尊敬的%(name)s：您的集团短信账单 %(number)s 应缴 %(amount)s 元，"
                "请于 %(due)s 前缴清。"
            ) % {
                "name": enterprise.name,
                "number": invoice.number,
                "amount": amount,
                "due": invoice.due_on,
            }
            record.outcome = notify.remind(enterprise, _billing_contact(enterprise), text, step)
    elif step == DunningStep.Step.REMINDER_AFTER:
        text = _(
            "【中国移动】尊敬的%(name)s：您的集团短信账单 %(number)s 已逾期，欠费 %(amount)s 元，"
            "自 %(start)s 起每日按欠费本金的 0.3%% 计收滞纳金，请尽快缴清。"
        ) % {
            "name": enterprise.name,
            "number": invoice.number,
            "amount": amount,
            "start": invoice.due_on + dt.timedelta(days=1),
        }
        record.outcome = notify.remind(
            enterprise, _billing_contact(enterprise), text, step, email=True
        )
    elif step == DunningStep.Step.WRITTEN_DEMAND:
        from .pdf import demand_letter_pdf

        record.document = demand_letter_pdf(invoice, on=today)
        record.outcome = _("已生成书面催款函（%(amount)s 元，限 %(days)s 日内缴清）") % {
            "amount": amount,
            "days": settings.BILLING_DEMAND_RESPONSE_DAYS,
        }
    elif step == DunningStep.Step.SUSPENSION:
        suspended = []
        for subscription in _live_subscriptions(invoice).filter(state=Subscription.State.ACTIVE):
            fulfillment_services.subscription_suspend(
                subscription_id=subscription.pk,
                by=None,
                reason=_("欠费暂停：账单 %(n)s 逾期未缴") % {"n": invoice.number},
            )
            suspended.append(subscription.pk)
        record.suspended_subscription_ids = suspended
        record.outcome = _("已暂停 %(n)s 个业务实例") % {"n": len(suspended)}
    elif step == DunningStep.Step.TERMINATION:
        ended = 0
        for subscription in _live_subscriptions(invoice):
            fulfillment_services.subscription_terminate(
                subscription_id=subscription.pk,
                by=None,
                reason=_("第14条：欠费逾期未缴（账单 %(n)s），终止协议，欠款继续追缴")
                % {"n": invoice.number},
                contract_reason="breach",
            )
            ended += 1
        record.outcome = _("已终止 %(n)s 个业务实例，欠款继续追缴") % {"n": ended}
    record.save()
    return record


def dunning_invoice(*, invoice_id: int, today: dt.date | None = None) -> list[DunningStep]:
    """Take every dunning step of one invoice that is due and not done, in order, each in
    its own transaction. A job that ran late catches up in order; a step whose day has
    not come stops the sequence."""
    today = today or clock.today()
    done_steps = []
    for step in DunningStep.ORDER:
        with transaction.atomic():
            invoice = (
                Invoice.objects.select_for_update()
                .select_related("account__enterprise")
                .get(pk=invoice_id)
            )
            if invoice.state not in Invoice.CHASED_STATES or invoice.outstanding <= 0:
                break
            done = {s.step: s for s in invoice.dunning_steps.all()}
            if step in done:
                continue
            demand = done.get(DunningStep.Step.WRITTEN_DEMAND)
            schedule = dunning_schedule(
                invoice, demand_on=timezone.localdate(demand.done_at) if demand else None
            )
            if schedule[step] > today:
                break
            done_steps.append(_do_step(invoice, step, schedule[step], today))
    return done_steps


def dunning_run(*, today: dt.date | None = None) -> dict:
    """The daily dunning job: every chased invoice with something outstanding."""
    today = today or clock.today()
    horizon = today + dt.timedelta(days=settings.BILLING_REMINDER_BEFORE_DAYS)
    ids = list(
        Invoice.objects.filter(state__in=Invoice.CHASED_STATES, due_on__lte=horizon)
        .order_by("due_on", "id")
        .values_list("pk", flat=True)
    )
    counts: dict[str, int] = defaultdict(int)
    for invoice_id in ids:
        try:
            for step in dunning_invoice(invoice_id=invoice_id, today=today):
                counts[step.step] += 1
        except Exception:  # one invoice's failure must not stop the others
            logger.exception("dunning failed for invoice %s", invoice_id)
            counts["errors"] += 1
    return dict(counts)


def _resume_if_settled(account: BillingAccount, by: User | None) -> list[int]:
    """Lift dunning suspensions once none of the account's suspended-for invoices is
    still unpaid (payment in full lifts the suspension automatically)."""
    steps = DunningStep.objects.filter(
        invoice__account=account, step=DunningStep.Step.SUSPENSION, resumed_at__isnull=True
    ).select_related("invoice")
    steps = list(steps)
    if not steps:
        return []
    overdue = Invoice.objects.filter(
        account=account, state__in=Invoice.CHASED_STATES, due_on__lt=clock.today()
    ).exists()
    if overdue:
        return []
    resumed = []
    for step in steps:
        if DunningStep.objects.filter(
            invoice=step.invoice, step=DunningStep.Step.TERMINATION
        ).exists():
            continue
        for subscription_id in step.suspended_subscription_ids:
            subscription = Subscription.objects.get(pk=subscription_id)
            if subscription.state == Subscription.State.SUSPENDED:
                fulfillment_services.subscription_resume(
                    subscription_id=subscription_id,
                    by=by,
                    reason=_("欠费已缴清，自动恢复（账单 %(n)s）") % {"n": step.invoice.number},
                )
                resumed.append(subscription_id)
        step.resumed_at = clock.now()
        step.save(update_fields=["resumed_at"])
    return resumed
