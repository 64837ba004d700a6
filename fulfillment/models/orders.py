"""Product orders shaped after TMF622, their items and the recorded provisioning steps.

An order is always created when it is syntactically valid, even when it names an
offering or an enterprise this system does not know (the raw references are kept in
`*_ref` so an API can echo them); the eligibility checks then acknowledge it or reject
it with reasons stored on the order (`rejection_reasons`).
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_fsm import RETURN_VALUE, FSMField, FSMModelMixin, transition

from core import clock
from core.models import TimeStampedModel
from customers.regions import Province

from .common import InterfaceType, TariffSnapshot


def _default_province() -> str:
    return settings.FULFILLMENT_PROVINCE


class Order(FSMModelMixin, TimeStampedModel):
    """A product order (TMF622 productOrder) for one enterprise.

    States follow TMF622 plus `draft` for a manager still preparing it:
    draft → acknowledged (eligibility passed) | rejected (reasons stored);
    acknowledged → inProgress (provisioning, when the requested start has come) →
    completed | failed | partial (some items done, some failed);
    acknowledged/inProgress ↔ pending (waiting for the enterprise) / held (held by us);
    cancellation: assessingCancellation → pendingCancellation → cancelled, or back to
    the state it came from when the cancellation is refused. A draft can be abandoned.
    """

    class State(models.TextChoices):
        DRAFT = "draft", _("草稿")
        ACKNOWLEDGED = "acknowledged", _("已受理")
        REJECTED = "rejected", _("已拒绝")
        IN_PROGRESS = "inProgress", _("开通中")
        PENDING = "pending", _("待客户补充")
        HELD = "held", _("已挂起")
        COMPLETED = "completed", _("已完成")
        FAILED = "failed", _("失败")
        PARTIAL = "partial", _("部分完成")
        ASSESSING_CANCELLATION = "assessingCancellation", _("撤单评估中")
        PENDING_CANCELLATION = "pendingCancellation", _("撤单处理中")
        CANCELLED = "cancelled", _("已撤销")

    FINAL_STATES = (State.REJECTED, State.COMPLETED, State.FAILED, State.PARTIAL, State.CANCELLED)
    OPEN_STATES = (
        State.DRAFT,
        State.ACKNOWLEDGED,
        State.IN_PROGRESS,
        State.PENDING,
        State.HELD,
        State.ASSESSING_CANCELLATION,
        State.PENDING_CANCELLATION,
    )

    class Channel(models.TextChoices):
        ADMIN = "admin", _("管理后台")
        TMF = "tmf", _("TMF622 接口")
        PORTAL = "portal", _("自助门户")
        SYSTEM = "system", _("系统")

    enterprise = models.ForeignKey(
        "customers.Enterprise",
        verbose_name=_("集团客户"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="orders",
    )
    enterprise_ref = models.CharField(
        _("客户引用"), max_length=100, blank=True, help_text=_("下单时给出的客户标识（原样保存）")
    )
    state = FSMField(
        _("状态"), choices=State.choices, default=State.DRAFT, protected=True, db_index=True
    )
    state_before_cancellation = models.CharField(
        _("撤单前状态"), max_length=30, choices=State.choices, blank=True
    )
    channel = models.CharField(
        _("受理渠道"), max_length=10, choices=Channel.choices, default=Channel.ADMIN
    )
    order_date = models.DateTimeField(_("下单时间"), default=clock.now)
    requested_start_at = models.DateTimeField(
        _("要求生效时间"),
        null=True,
        blank=True,
        help_text=_("新装为开通时间（第3条），变更为生效时间（第11条）；空为尽快"),
    )
    requested_completion_at = models.DateTimeField(_("要求完成时间"), null=True, blank=True)
    description = models.TextField(_("说明"), blank=True)
    external_id = models.CharField(_("外部编号"), max_length=100, blank=True)
    priority = models.CharField(_("优先级"), max_length=10, blank=True)
    category = models.CharField(_("类别"), max_length=60, blank=True)
    extra = models.JSONField(
        _("接口附加信息"),
        default=dict,
        blank=True,
        help_text=_("接口收到并需原样返回的信息（如 TMF622 note、relatedParty），业务不读取"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("下单人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True)
    started_at = models.DateTimeField(_("开始开通时间"), null=True, blank=True)
    completed_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)
    cancellation_reason = models.TextField(_("撤单原因"), blank=True)
    rejection_reasons = models.JSONField(
        _("拒绝原因"),
        default=list,
        blank=True,
        help_text=_(
            '每条形如 {"rule": "第5条第5款", "code": "...", "message": "...", "item": "1"}'
        ),
    )
    notice_override_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("提前期特批人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    notice_override_reason = models.TextField(_("提前期特批理由"), blank=True)
    notice_override_at = models.DateTimeField(_("特批时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("订单")
        verbose_name_plural = _("订单")
        ordering = ["-order_date", "-id"]
        indexes = [models.Index(fields=["state", "requested_start_at"])]
        permissions = [
            ("override_notice_period", _("特批变更提前期（第11条，部门负责人）")),
        ]

    def __str__(self) -> str:
        return _("订单 #%(id)s") % {"id": self.pk}

    @property
    def is_final(self) -> bool:
        return self.state in self.FINAL_STATES

    @property
    def tmf_extra(self) -> dict:
        """What the TMF622 API keeps as given (core.tmf.serializers' `tmf_extra` shape)."""
        return self.extra

    @property
    def rejection_text(self) -> str:
        return "；".join(f"{r['rule']}：{r['message']}" for r in self.rejection_reasons or [])

    @transition(field=state, source=State.DRAFT, target=State.ACKNOWLEDGED)
    def acknowledge(self, *, at):
        self.submitted_at = at
        self.rejection_reasons = []

    @transition(field=state, source=State.DRAFT, target=State.REJECTED)
    def reject(self, *, at, reasons):
        self.submitted_at = at
        self.rejection_reasons = reasons

    @transition(field=state, source=State.DRAFT, target=State.CANCELLED)
    def abandon(self, *, at, reason):
        self.cancelled_at = at
        self.cancellation_reason = reason

    @transition(field=state, source=State.ACKNOWLEDGED, target=State.IN_PROGRESS)
    def start(self, *, at):
        self.started_at = at

    @transition(field=state, source=[State.ACKNOWLEDGED, State.IN_PROGRESS], target=State.PENDING)
    def pend(self):
        pass

    @transition(
        field=state,
        source=[State.ACKNOWLEDGED, State.IN_PROGRESS, State.PENDING],
        target=State.HELD,
    )
    def hold(self):
        pass

    @transition(
        field=state,
        source=[State.PENDING, State.HELD],
        target=RETURN_VALUE(State.ACKNOWLEDGED, State.IN_PROGRESS),
    )
    def proceed(self):
        """Back to work: in progress if provisioning had started, else acknowledged."""
        return self.State.IN_PROGRESS if self.started_at else self.State.ACKNOWLEDGED

    @transition(
        field=state, source=[State.IN_PROGRESS, State.PENDING, State.HELD], target=State.COMPLETED
    )
    def complete(self, *, at):
        self.completed_at = at

    @transition(
        field=state, source=[State.IN_PROGRESS, State.PENDING, State.HELD], target=State.PARTIAL
    )
    def complete_partially(self, *, at):
        self.completed_at = at

    @transition(
        field=state, source=[State.IN_PROGRESS, State.PENDING, State.HELD], target=State.FAILED
    )
    def fail(self, *, at):
        self.completed_at = at

    @transition(
        field=state,
        source=[State.ACKNOWLEDGED, State.IN_PROGRESS, State.PENDING, State.HELD],
        target=State.ASSESSING_CANCELLATION,
    )
    def request_cancellation(self, *, reason):
        self.state_before_cancellation = self.state
        self.cancellation_reason = reason

    @transition(field=state, source=State.ASSESSING_CANCELLATION, target=State.PENDING_CANCELLATION)
    def accept_cancellation(self):
        pass

    @transition(
        field=state,
        source=State.ASSESSING_CANCELLATION,
        target=RETURN_VALUE(State.ACKNOWLEDGED, State.IN_PROGRESS, State.PENDING, State.HELD),
    )
    def refuse_cancellation(self):
        """Back to the state the order was in when the cancellation was asked for."""
        previous = self.state_before_cancellation
        self.state_before_cancellation = ""
        return previous

    @transition(field=state, source=State.PENDING_CANCELLATION, target=State.CANCELLED)
    def finish_cancellation(self, *, at):
        self.cancelled_at = at


class OrderItem(FSMModelMixin, TariffSnapshot, TimeStampedModel):
    """One item of an order (TMF622 productOrderItem): what to do to which product.

    `noChange` (TMF622, e.g. an untouched product listed with others) does nothing.
    `add` creates a subscription and carries the written notice of 第3条 (interface type,
    access address, contact person; the activation time is the order's requested start)
    and the CMPP version; `modify` changes a subscription (new offering, CMPP version,
    access address or interface type) and needs one month's notice (第11条); `suspend`,
    `resume` and `delete` (terminate) act on a subscription. The tariff is copied from the
    catalog when the order is acknowledged, so what was sold is what is billed.
    """

    class Action(models.TextChoices):
        ADD = "add", _("新装")
        MODIFY = "modify", _("变更")
        DELETE = "delete", _("拆机（终止）")
        SUSPEND = "suspend", _("暂停")
        RESUME = "resume", _("恢复")
        NO_CHANGE = "noChange", _("不变")

    class State(models.TextChoices):
        ACKNOWLEDGED = "acknowledged", _("已受理")
        REJECTED = "rejected", _("已拒绝")
        IN_PROGRESS = "inProgress", _("开通中")
        COMPLETED = "completed", _("已完成")
        FAILED = "failed", _("失败")
        CANCELLED = "cancelled", _("已撤销")

    order = models.ForeignKey(
        Order, verbose_name=_("订单"), on_delete=models.CASCADE, related_name="items"
    )
    item_id = models.CharField(_("项编号"), max_length=40, help_text=_("订单内的编号，如 1"))
    action = models.CharField(_("操作"), max_length=10, choices=Action.choices)
    state = FSMField(_("状态"), choices=State.choices, default=State.ACKNOWLEDGED, protected=True)
    offering = models.ForeignKey(
        "product_lifecycle.ProductOffering",
        verbose_name=_("产品"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="order_items",
    )
    offering_ref = models.CharField(_("产品引用"), max_length=100, blank=True)
    subscription = models.ForeignKey(
        "fulfillment.Subscription",
        verbose_name=_("业务实例"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="order_items",
    )
    subscription_ref = models.CharField(_("业务实例引用"), max_length=100, blank=True)
    cmpp_version = models.CharField(_("CMPP 版本"), max_length=5, blank=True)
    interface_type = models.CharField(_("接口类型"), max_length=20, blank=True)
    access_ip = models.CharField(_("接入地址（IP）"), max_length=64, blank=True)
    contact = models.ForeignKey(
        "customers.Contact",
        verbose_name=_("联系人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    contact_name = models.CharField(_("联系人姓名"), max_length=60, blank=True)
    contact_phone = models.CharField(_("联系电话"), max_length=30, blank=True)
    code_province = models.CharField(
        _("服务代码申请省份"),
        max_length=2,
        choices=Province.choices,
        default=_default_province,
        help_text=_("第5条第5款：须为企业注册地所在省份"),
    )
    requested_code = models.CharField(
        _("指定服务代码"), max_length=16, blank=True, help_text=_("空为由号码池分配")
    )
    service_code = models.ForeignKey(
        "fulfillment.ServiceCode",
        verbose_name=_("服务代码"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="order_items",
    )
    port = models.ForeignKey(
        "fulfillment.MasPort",
        verbose_name=_("MAS 端口"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="order_items",
    )
    completed_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("订单项")
        verbose_name_plural = _("订单项")
        ordering = ["order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["order", "item_id"], name="order_item_unique_id")
        ]

    def __str__(self) -> str:
        return f"{self.order} · {self.item_id} {self.get_action_display()}"

    def get_interface_type_display(self) -> str:
        try:
            return str(InterfaceType(self.interface_type).label)
        except ValueError:
            return self.interface_type

    @transition(field=state, source=State.ACKNOWLEDGED, target=State.REJECTED)
    def reject(self):
        pass

    @transition(field=state, source=State.ACKNOWLEDGED, target=State.IN_PROGRESS)
    def start(self):
        pass

    @transition(field=state, source=State.IN_PROGRESS, target=State.COMPLETED)
    def complete(self, *, at):
        self.completed_at = at

    @transition(field=state, source=[State.ACKNOWLEDGED, State.IN_PROGRESS], target=State.FAILED)
    def fail(self, *, at):
        self.completed_at = at

    @transition(field=state, source=[State.ACKNOWLEDGED, State.IN_PROGRESS], target=State.CANCELLED)
    def cancel(self, *, at):
        self.completed_at = at


class ProvisioningStep(FSMModelMixin, models.Model):
    """One provisioning step of an order item, with its outcome, attempts and last error.

    An add item runs reserve_code → reserve_port → create_account → activate; a modify item
    apply_change; suspend, resume and delete items one step each. A step is pending until
    it succeeds or fails for good; a step whose reservation lapsed while its order waited
    is reopened. `duration_ms` is the wall time of the successful attempt; the times are
    the project clock's.
    """

    class Kind(models.TextChoices):
        RESERVE_CODE = "reserve_code", _("预留服务代码")
        RESERVE_PORT = "reserve_port", _("预留MAS端口")
        CREATE_ACCOUNT = "create_account", _("创建CMPP账号")
        ACTIVATE = "activate", _("激活业务")
        APPLY_CHANGE = "apply_change", _("执行变更")
        SUSPEND = "suspend", _("暂停业务")
        RESUME = "resume", _("恢复业务")
        TERMINATE = "terminate", _("终止业务")

    class State(models.TextChoices):
        PENDING = "pending", _("待执行")
        SUCCEEDED = "succeeded", _("成功")
        FAILED = "failed", _("失败")
        CANCELLED = "cancelled", _("已取消")

    item = models.ForeignKey(
        OrderItem, verbose_name=_("订单项"), on_delete=models.CASCADE, related_name="steps"
    )
    kind = models.CharField(_("步骤"), max_length=20, choices=Kind.choices)
    position = models.PositiveSmallIntegerField(_("顺序"))
    state = FSMField(_("结果"), choices=State.choices, default=State.PENDING, protected=True)
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    last_error = models.TextField(_("最近错误"), blank=True)
    detail = models.CharField(_("执行结果"), max_length=200, blank=True)
    queued_at = models.DateTimeField(_("排队时间"), null=True, blank=True)
    started_at = models.DateTimeField(_("首次执行"), null=True, blank=True)
    finished_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    duration_ms = models.PositiveIntegerField(_("耗时（毫秒）"), null=True, blank=True)

    class Meta:
        verbose_name = _("开通步骤")
        verbose_name_plural = _("开通步骤")
        ordering = ["item", "position"]
        constraints = [
            models.UniqueConstraint(fields=["item", "position"], name="step_unique_position")
        ]

    def __str__(self) -> str:
        return f"{self.item} · {self.get_kind_display()}"

    @transition(field=state, source=State.PENDING, target=State.SUCCEEDED)
    def succeed(self, *, at, detail, duration_ms):
        self.finished_at = at
        self.detail = detail[:200]
        self.duration_ms = duration_ms
        self.last_error = ""

    @transition(field=state, source=State.PENDING, target=State.FAILED)
    def fail(self, *, at, error):
        self.finished_at = at
        self.last_error = error

    @transition(field=state, source=State.SUCCEEDED, target=State.PENDING)
    def reopen(self, *, why):
        self.detail = why[:200]
        self.finished_at = None
        self.duration_ms = None

    @transition(field=state, source=State.PENDING, target=State.CANCELLED)
    def cancel(self, *, at):
        self.finished_at = at


class CancellationRequest(FSMModelMixin, TimeStampedModel):
    """A request to cancel an order (TMF622 cancelProductOrder) and how it was decided.

    States use TMF's TaskStateType: acknowledged (received) → inProgress (accepted, the
    order's reservations are being released) → done; terminatedWithError when refused
    (`refusal_reason` says why, e.g. an item is already completed). A request naming an
    order this system does not hold (or the caller may not see) is kept, with the
    reference in `order_ref` and no order, and refused at once: an interface never
    learns more from it than "no such order".
    """

    class State(models.TextChoices):
        ACKNOWLEDGED = "acknowledged", _("已受理")
        IN_PROGRESS = "inProgress", _("处理中")
        DONE = "done", _("已撤单")
        TERMINATED_WITH_ERROR = "terminatedWithError", _("不予撤单")

    order = models.ForeignKey(
        Order,
        verbose_name=_("订单"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="cancellations",
    )
    order_ref = models.CharField(
        _("订单引用"),
        max_length=100,
        blank=True,
        help_text=_("申请中给出的订单标识（原样保存；无此订单时申请不予受理）"),
    )
    state = FSMField(_("状态"), choices=State.choices, default=State.ACKNOWLEDGED, protected=True)
    reason = models.TextField(_("撤单原因"), blank=True)
    requested_at = models.DateTimeField(_("申请时间"), default=clock.now)
    requested_cancellation_at = models.DateTimeField(_("要求撤单时间"), null=True, blank=True)
    effective_at = models.DateTimeField(_("撤单生效时间"), null=True, blank=True)
    refusal_reason = models.TextField(_("不予撤单原因"), blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("申请人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("撤单申请")
        verbose_name_plural = _("撤单申请")
        ordering = ["-requested_at", "-id"]

    def __str__(self) -> str:
        return _("撤单申请 #%(id)s（%(order)s）") % {"id": self.pk, "order": self.order}

    @transition(field=state, source=State.ACKNOWLEDGED, target=State.IN_PROGRESS)
    def accept(self):
        pass

    @transition(field=state, source=State.ACKNOWLEDGED, target=State.TERMINATED_WITH_ERROR)
    def refuse(self, *, reason):
        self.refusal_reason = reason

    @transition(field=state, source=State.IN_PROGRESS, target=State.DONE)
    def finish(self, *, at):
        self.effective_at = at
