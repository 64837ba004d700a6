"""Billing records: accounts, rated charges, invoices, credit notes, payments, late-fee
waivers, dunning steps and billing runs (第9条, 第10条, 第14条).

Amounts are yuan `Decimal`s with fen precision (`core.money`). Every charge is rated
once per subscription, kind and period (database constraints), so a billing run can be
restarted without billing anything twice. Issued invoices never change; corrections are
credit notes.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_fsm import RETURN_VALUE, FSMField, FSMModelMixin, transition

from core import clock
from core.models import TimeStampedModel
from core.money import MoneyField


class BillingAccount(TimeStampedModel):
    """The account an enterprise's charges are booked to (TMF678 `billingAccount`).

    One per enterprise, created when it is first billed. A branch whose `bill_to_parent`
    is set has its charges invoiced to its parent enterprise's account (a parent may pay
    for its branches); unallocated payments on the account are its credit.
    """

    enterprise = models.OneToOneField(
        "customers.Enterprise",
        verbose_name=_("集团客户"),
        on_delete=models.PROTECT,
        related_name="billing_account",
    )
    number = models.CharField(_("账户编号"), max_length=20, unique=True)
    bill_to_parent = models.BooleanField(
        _("由上级集团统一付费"),
        default=False,
        help_text=_("勾选后，本集团的费用并入上级集团的账单"),
    )

    class Meta:
        verbose_name = _("账务账户")
        verbose_name_plural = _("账务账户")
        ordering = ["number"]

    def __str__(self) -> str:
        return f"{self.number}（{self.enterprise.name}）"


class Charge(models.Model):
    """One rated amount (TMF678 `appliedCustomerBillingRate`): a port fee, package fee or
    overage of one subscription for one period, a late fee of an invoice, or a refund
    of unused days at termination. `invoice` is set once it is billed (`isBilled`).

    Amounts are tax-inclusive by default (BILLING_PRICES_INCLUDE_TAX); `tax_amount` is
    the tax contained in (or added to) `amount`.
    """

    class Kind(models.TextChoices):
        PORT_FEE = "port_fee", _("端口费")
        PACKAGE_FEE = "package_fee", _("包月费")
        OVERAGE = "overage", _("超出条数费")
        LATE_FEE = "late_fee", _("滞纳金")
        REFUND = "refund", _("终止退费")

    account = models.ForeignKey(
        BillingAccount, verbose_name=_("账务账户"), on_delete=models.PROTECT, related_name="charges"
    )
    subscription = models.ForeignKey(
        "fulfillment.Subscription",
        verbose_name=_("业务实例"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="charges",
    )
    source_invoice = models.ForeignKey(
        "Invoice",
        verbose_name=_("滞纳金所属账单"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="late_fee_charges",
    )
    invoice = models.ForeignKey(
        "Invoice",
        verbose_name=_("账单"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="lines",
    )
    kind = models.CharField(_("费用类型"), max_length=20, choices=Kind.choices)
    period_start = models.DateField(_("计费起始日"))
    period_end = models.DateField(_("计费截止日"), help_text=_("不含当日"))
    quantity = models.DecimalField(_("数量"), max_digits=14, decimal_places=4, default=1)
    unit_price = MoneyField(_("单价"), default=Decimal("0.00"))
    amount = MoneyField(_("金额（含税）"))
    tax_rate = models.DecimalField(_("税率"), max_digits=5, decimal_places=4)
    tax_amount = MoneyField(_("税额"))
    description = models.CharField(_("说明"), max_length=200)
    rated_at = models.DateTimeField(_("批价时间"), default=clock.now)

    class Meta:
        verbose_name = _("费用明细")
        verbose_name_plural = _("费用明细")
        ordering = ["period_start", "subscription_id", "kind", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "kind", "period_start"],
                condition=Q(subscription__isnull=False),
                name="charge_once_per_subscription_kind_period",
            ),
            models.UniqueConstraint(
                fields=["source_invoice", "period_end"],
                condition=Q(kind="late_fee"),
                name="late_fee_once_per_invoice_and_day",
            ),
        ]
        indexes = [models.Index(fields=["account", "invoice"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.period_start}–{self.period_end} ¥{self.amount}"

    @property
    def is_billed(self) -> bool:
        return self.invoice_id is not None


class Invoice(FSMModelMixin, TimeStampedModel):
    """One bill of a billing account for one period (TMF678 `customerBill`).

    draft → issued → partially_paid → paid; draft or an unpaid issued invoice → void;
    issued or partially paid → on_hold while disputed → back where it was (released as
    is, or after a credit note). Numbered gaplessly per year when issued; an issued
    invoice never changes (credit notes correct it). Late fees accrue on the unpaid
    principal, `total - late_fee_total - credited`, from the day after `due_on`,
    excluding days on hold (`hold_periods`).
    """

    class State(models.TextChoices):
        DRAFT = "draft", _("草稿")
        ISSUED = "issued", _("已出账")
        PARTIALLY_PAID = "partially_paid", _("部分付款")
        PAID = "paid", _("已结清")
        ON_HOLD = "on_hold", _("争议挂起")
        VOID = "void", _("已作废")

    class Kind(models.TextChoices):
        QUARTERLY = "quarterly", _("季度预付账单")
        FINAL = "final", _("终止结算账单")
        ON_DEMAND = "on_demand", _("按需账单")

    OPEN_STATES = (State.ISSUED, State.PARTIALLY_PAID, State.ON_HOLD)
    CHASED_STATES = (State.ISSUED, State.PARTIALLY_PAID)

    account = models.ForeignKey(
        BillingAccount,
        verbose_name=_("账务账户"),
        on_delete=models.PROTECT,
        related_name="invoices",
    )
    kind = models.CharField(_("账单类型"), max_length=20, choices=Kind.choices)
    number = models.CharField(_("账单编号"), max_length=20, blank=True, db_index=True)
    state = FSMField(
        _("状态"), choices=State.choices, default=State.DRAFT, protected=True, db_index=True
    )
    period_start = models.DateField(_("账期起始日"))
    period_end = models.DateField(_("账期截止日"), help_text=_("不含当日"))
    issued_on = models.DateField(_("出账日期"), null=True, blank=True)
    due_on = models.DateField(_("缴费截止日"), db_index=True)
    total = MoneyField(_("合计（含税）"), default=Decimal("0.00"))
    tax_total = MoneyField(_("税额合计"), default=Decimal("0.00"))
    late_fee_total = MoneyField(_("其中滞纳金"), default=Decimal("0.00"))
    credited = MoneyField(_("已冲红"), default=Decimal("0.00"))
    paid_principal = MoneyField(_("已付本金"), default=Decimal("0.00"))
    paid_late_fee = MoneyField(_("已付滞纳金"), default=Decimal("0.00"))
    paid_on = models.DateField(_("结清日期"), null=True, blank=True)
    state_before_hold = models.CharField(_("挂起前状态"), max_length=20, blank=True)
    hold_reason = models.TextField(_("争议原因"), blank=True)
    hold_periods = models.JSONField(
        _("挂起期间"), default=list, blank=True, help_text=_("[[起始日, 截止日或空], ...]")
    )
    pdf = models.BinaryField(_("PDF"), null=True, blank=True, editable=False)
    pdf_sha256 = models.CharField(_("PDF 摘要（SHA-256）"), max_length=64, blank=True)
    run = models.ForeignKey(
        "BillingRun",
        verbose_name=_("出账批次"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="invoices",
    )
    tmf_extra = models.JSONField(_("TMF 附加属性"), default=dict, blank=True)

    class Meta:
        verbose_name = _("账单")
        verbose_name_plural = _("账单")
        ordering = ["-period_start", "number", "id"]
        permissions = [
            ("issue_invoice", _("出账（开具账单）")),
            ("run_billing", _("发起出账批次")),
            ("hold_invoice", _("挂起/释放争议账单")),
            ("export_invoices", _("导出账单")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "kind", "period_start"],
                condition=~Q(state="void") & ~Q(kind="on_demand"),
                name="invoice_one_per_account_kind_period",
            ),
            models.UniqueConstraint(
                fields=["number"], condition=~Q(number=""), name="invoice_number_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.number or _("草稿账单 #%(id)s") % {"id": self.pk}

    @property
    def principal(self) -> Decimal:
        """What the invoice charges before late fees, after credit notes."""
        return self.total - self.late_fee_total - self.credited

    @property
    def unpaid_principal(self) -> Decimal:
        return self.principal - self.paid_principal

    @property
    def unpaid_late_fee(self) -> Decimal:
        return self.late_fee_total - self.paid_late_fee

    @property
    def outstanding(self) -> Decimal:
        """The amount still to pay."""
        return self.unpaid_principal + self.unpaid_late_fee

    @transition(field=state, source=State.DRAFT, target=State.ISSUED)
    def issue(self, *, number, on):
        self.number = number
        self.issued_on = on

    @transition(field=state, source=[State.ISSUED, State.PARTIALLY_PAID], target=RETURN_VALUE())
    def settle(self, *, on):
        """After a payment, credit note or reversal: paid when nothing is left."""
        if self.outstanding <= 0:
            self.paid_on = on
            return self.State.PAID
        self.paid_on = None
        return (
            self.State.PARTIALLY_PAID
            if self.paid_principal + self.paid_late_fee > 0
            else (self.State.ISSUED)
        )

    @transition(field=state, source=State.PAID, target=RETURN_VALUE())
    def reopen(self):
        """A reversed payment leaves a paid invoice open again."""
        self.paid_on = None
        return (
            self.State.PARTIALLY_PAID
            if self.paid_principal + self.paid_late_fee > 0
            else (self.State.ISSUED)
        )

    @transition(field=state, source=[State.ISSUED, State.PARTIALLY_PAID], target=State.ON_HOLD)
    def hold(self, *, on, reason):
        self.state_before_hold = self.state
        self.hold_reason = reason
        self.hold_periods = [*self.hold_periods, [on.isoformat(), None]]

    @transition(field=state, source=State.ON_HOLD, target=RETURN_VALUE())
    def release(self, *, on):
        periods = [list(p) for p in self.hold_periods]
        if periods and periods[-1][1] is None:
            periods[-1][1] = on.isoformat()
        self.hold_periods = periods
        before = self.state_before_hold or self.State.ISSUED
        self.state_before_hold = ""
        if self.outstanding <= 0:
            self.paid_on = on
            return self.State.PAID
        return before

    @transition(field=state, source=[State.DRAFT, State.ISSUED], target=State.VOID)
    def void(self):
        pass


class CreditNote(TimeStampedModel):
    """A correction of an issued invoice (红字冲销): it lowers the principal from the start,
    so late fees are computed on the corrected amount. Any part beyond what is still
    unpaid becomes credit on the account. Numbered gaplessly per year."""

    invoice = models.ForeignKey(
        Invoice, verbose_name=_("原账单"), on_delete=models.PROTECT, related_name="credit_notes"
    )
    number = models.CharField(_("冲红单号"), max_length=20, unique=True)
    amount = MoneyField(_("冲红金额（含税）"))
    tax_amount = MoneyField(_("其中税额"))
    reason = models.TextField(_("原因"))
    issued_on = models.DateField(_("开具日期"))
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("开具人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("冲红单")
        verbose_name_plural = _("冲红单")
        ordering = ["-issued_on", "-id"]
        permissions = [("issue_credit_note", _("开具冲红单"))]

    def __str__(self) -> str:
        return f"{self.number} ¥{self.amount}"


class Payment(FSMModelMixin, TimeStampedModel):
    """Money received from an enterprise (第9条第2款: cash or bank entrustment), or the
    surplus of a credit note. Allocated to the oldest open invoices first; what is not
    allocated is credit, used on the next invoice. A bounced entrustment is reversed:
    its allocations are undone and the invoices open again."""

    class Method(models.TextChoices):
        CASH = "cash", _("现金")
        BANK_ENTRUSTMENT = "bank_entrustment", _("银行托收")
        TRANSFER = "transfer", _("银行转账")
        CREDIT_NOTE = "credit_note", _("冲红转余额")

    class State(models.TextChoices):
        RECEIVED = "received", _("已入账")
        REVERSED = "reversed", _("已冲正")

    account = models.ForeignKey(
        BillingAccount,
        verbose_name=_("账务账户"),
        on_delete=models.PROTECT,
        related_name="payments",
    )
    method = models.CharField(_("付款方式"), max_length=20, choices=Method.choices)
    amount = MoneyField(_("金额"))
    received_on = models.DateField(_("到账日期"))
    reference = models.CharField(_("凭证号/流水号"), max_length=60, blank=True)
    receipt_number = models.CharField(_("收据号"), max_length=20, unique=True)
    state = FSMField(
        _("状态"), choices=State.choices, default=State.RECEIVED, protected=True, db_index=True
    )
    reversal_reason = models.TextField(_("冲正原因"), blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("经办人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("收款")
        verbose_name_plural = _("收款")
        ordering = ["-received_on", "-id"]
        permissions = [("reverse_payment", _("冲正收款（托收退票）"))]

    def __str__(self) -> str:
        return f"{self.receipt_number} ¥{self.amount}"

    @transition(field=state, source=State.RECEIVED, target=State.REVERSED)
    def reverse(self, *, reason):
        self.reversal_reason = reason


class Allocation(models.Model):
    """Part of a payment applied to an invoice: principal and late fee separately, on the
    day it counts for late fees (the payment's day, or the invoice's issue day when
    earlier credit is applied to a new invoice)."""

    payment = models.ForeignKey(
        Payment, verbose_name=_("收款"), on_delete=models.CASCADE, related_name="allocations"
    )
    invoice = models.ForeignKey(
        Invoice, verbose_name=_("账单"), on_delete=models.PROTECT, related_name="allocations"
    )
    principal = MoneyField(_("本金"), default=Decimal("0.00"))
    late_fee = MoneyField(_("滞纳金"), default=Decimal("0.00"))
    on = models.DateField(_("核销日期"))
    reversed = models.BooleanField(_("已冲正"), default=False)

    class Meta:
        verbose_name = _("核销")
        verbose_name_plural = _("核销")
        ordering = ["on", "id"]

    def __str__(self) -> str:
        return f"{self.payment} → {self.invoice}: ¥{self.principal + self.late_fee}"


class LateFeeWaiver(models.Model):
    """Late fee of an invoice forgiven by finance, with the reason (a record that stays)."""

    invoice = models.ForeignKey(
        Invoice, verbose_name=_("账单"), on_delete=models.PROTECT, related_name="waivers"
    )
    amount = MoneyField(_("减免金额"))
    reason = models.TextField(_("原因"))
    at = models.DateTimeField(_("时间"), default=clock.now)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审批人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("滞纳金减免")
        verbose_name_plural = _("滞纳金减免")
        ordering = ["-at"]
        permissions = [("waive_late_fee", _("减免滞纳金"))]

    def __str__(self) -> str:
        return f"{self.invoice} −¥{self.amount}"


class DunningStep(models.Model):
    """One step of chasing an unpaid invoice (第14条), done at most once per invoice, in
    the order of `Step`. `outcome` says what was done (sent, skipped and why)."""

    class Step(models.TextChoices):
        REMINDER_BEFORE = "reminder_before", _("到期前提醒（短信）")
        REMINDER_AFTER = "reminder_after", _("逾期提醒（短信、邮件）")
        WRITTEN_DEMAND = "written_demand", _("书面催款函")
        SUSPENSION = "suspension", _("欠费暂停")
        TERMINATION = "termination", _("终止协议")

    ORDER = [
        Step.REMINDER_BEFORE,
        Step.REMINDER_AFTER,
        Step.WRITTEN_DEMAND,
        Step.SUSPENSION,
        Step.TERMINATION,
    ]

    invoice = models.ForeignKey(
        Invoice, verbose_name=_("账单"), on_delete=models.CASCADE, related_name="dunning_steps"
    )
    step = models.CharField(_("步骤"), max_length=20, choices=Step.choices)
    sequence = models.PositiveSmallIntegerField(_("顺序"))
    due_on = models.DateField(_("应执行日"))
    done_at = models.DateTimeField(_("执行时间"), default=clock.now)
    outcome = models.CharField(_("结果"), max_length=300)
    document = models.BinaryField(_("文书（PDF）"), null=True, blank=True, editable=False)
    suspended_subscription_ids = models.JSONField(_("暂停的业务实例"), default=list, blank=True)
    resumed_at = models.DateTimeField(_("恢复时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("催缴步骤")
        verbose_name_plural = _("催缴记录")
        ordering = ["invoice", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["invoice", "step"], name="dunning_step_once")
        ]

    def __str__(self) -> str:
        return f"{self.invoice} {self.get_step_display()}"


class BillingRun(FSMModelMixin, TimeStampedModel):
    """A billing job for one quarter (a Celery task), with its progress and summary.

    pending → running → done or failed; a failed or interrupted run may be started again
    and bills only what is not billed yet (charges and invoices are unique per
    subscription / account and period).
    """

    class State(models.TextChoices):
        PENDING = "pending", _("排队中")
        RUNNING = "running", _("进行中")
        DONE = "done", _("已完成")
        FAILED = "failed", _("失败")

    period_start = models.DateField(_("季度起始日"))
    period_end = models.DateField(_("季度截止日"), help_text=_("不含当日"))
    state = FSMField(
        _("状态"), choices=State.choices, default=State.PENDING, protected=True, db_index=True
    )
    total_accounts = models.PositiveIntegerField(_("账户总数"), default=0)
    processed_accounts = models.PositiveIntegerField(_("已处理账户"), default=0)
    invoices_created = models.PositiveIntegerField(_("新开账单"), default=0)
    amount_total = MoneyField(_("出账金额"), default=Decimal("0.00"))
    errors = models.JSONField(_("错误"), default=list, blank=True)
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("发起人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("出账批次")
        verbose_name_plural = _("出账批次")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.period_start:%Y}Q{(self.period_start.month - 1) // 3 + 1} #{self.pk}"

    @property
    def progress_percent(self) -> int:
        if not self.total_accounts:
            return 100 if self.state == self.State.DONE else 0
        return min(100, round(100 * self.processed_accounts / self.total_accounts))

    @transition(
        field=state, source=[State.PENDING, State.FAILED, State.RUNNING], target=State.RUNNING
    )
    def start(self, *, at, total):
        self.started_at = at
        self.finished_at = None
        self.total_accounts = total
        self.processed_accounts = 0
        self.errors = []

    @transition(field=state, source=State.RUNNING, target=State.DONE)
    def finish(self, *, at):
        self.finished_at = at

    @transition(field=state, source=[State.RUNNING, State.PENDING], target=State.FAILED)
    def fail(self, *, at, error):
        self.finished_at = at
        self.errors = [*self.errors, {"error": error}]


class BillingRequest(TimeStampedModel):
    """A TMF678 `customerBillOnDemand` request: accepted at once, processed by a task to
    done (with the bill) or rejected (with the reason, e.g. an unknown account)."""

    class State(models.TextChoices):
        IN_PROGRESS = "inProgress", _("处理中")
        DONE = "done", _("已完成")
        REJECTED = "rejected", _("已拒绝")

    billing_account_ref = models.CharField(_("账务账户编号"), max_length=40)
    enterprise_id = models.PositiveBigIntegerField(_("请求方企业"), null=True, blank=True)
    name = models.CharField(_("名称"), max_length=200, blank=True)
    description = models.TextField(_("说明"), blank=True)
    state = models.CharField(
        _("状态"), max_length=20, choices=State.choices, default=State.IN_PROGRESS
    )
    rejection_reason = models.TextField(_("拒绝原因"), blank=True)
    invoice = models.ForeignKey(
        Invoice, verbose_name=_("账单"), null=True, blank=True, on_delete=models.SET_NULL
    )
    last_update = models.DateTimeField(_("更新时间"), default=clock.now)

    class Meta:
        verbose_name = _("按需出账请求")
        verbose_name_plural = _("按需出账请求")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.billing_account_ref} {self.state}"
