"""Resource inventory (eTOM resource provisioning): service codes, MAS servers and ports.

Every code and port moves through a small state machine. Allocation happens only in
`fulfillment.services.inventory`, which locks the rows it hands out (SELECT … FOR UPDATE
SKIP LOCKED on PostgreSQL), so two orders never get the same code or port.
"""

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, FSMModelMixin, transition

from core.models import TimeStampedModel
from customers.regions import Province

SERVICE_CODE_RE = re.compile(r"^1069\d{4,12}$")
MAX_DIALLED_DIGITS = 20  # service code + extension (CMPP Dest_Id / Src_Id: 21 octets, 20 digits)


def validate_service_code(value: str) -> None:
    """A group-customer service code: 1069 followed by 4 to 12 digits (DOMAIN.md, 第2条)."""
    if not SERVICE_CODE_RE.match(value or ""):
        raise ValidationError(
            _("“%(value)s”不是集团客户服务代码（1069 开头，8 至 16 位数字）"),
            code="invalid_service_code",
            params={"value": value},
        )


def _default_ismg_host() -> str:
    return settings.FULFILLMENT_ISMG_HOST


def _default_ismg_port() -> int:
    return settings.FULFILLMENT_ISMG_PORT


class ServiceCodeBlock(TimeStampedModel):
    """A range of 1069 codes allocated to the province (号段), created by import or by hand.

    Creating a block creates one ServiceCode per number in it, all available.
    """

    first_code = models.CharField(_("起始代码"), max_length=16, validators=[validate_service_code])
    last_code = models.CharField(_("结束代码"), max_length=16, validators=[validate_service_code])
    extension_digits = models.PositiveSmallIntegerField(
        _("扩展位数"), help_text=_("服务代码后可由企业使用的扩展码位数；代码加扩展码不超过20位")
    )
    province = models.CharField(_("所属省份"), max_length=2, choices=Province.choices)
    note = models.CharField(_("备注"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("导入人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("服务代码号段")
        verbose_name_plural = _("服务代码号段")
        ordering = ["first_code"]

    def __str__(self) -> str:
        return f"{self.first_code}–{self.last_code}"

    @property
    def size(self) -> int:
        return int(self.last_code) - int(self.first_code) + 1


class ServiceCode(FSMModelMixin, TimeStampedModel):
    """An SMS service code (短信服务代码) with the extension space that comes with it.

    available → reserved (for an order item, until `reserved_until`) → assigned (to a
    subscription) → quarantined (after termination, until `quarantined_until`) → available;
    available or quarantined codes can be retired. A reservation that lapses, or an order
    that fails or is cancelled, puts the code back to available.
    """

    class State(models.TextChoices):
        AVAILABLE = "available", _("空闲")
        RESERVED = "reserved", _("已预留")
        ASSIGNED = "assigned", _("已分配")
        QUARANTINED = "quarantined", _("冷冻期")
        RETIRED = "retired", _("已停用")

    code = models.CharField(
        _("服务代码"), max_length=16, unique=True, validators=[validate_service_code]
    )
    extension_digits = models.PositiveSmallIntegerField(_("扩展位数"))
    province = models.CharField(
        _("所属省份"), max_length=2, choices=Province.choices, db_index=True
    )
    block = models.ForeignKey(
        ServiceCodeBlock,
        verbose_name=_("号段"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="codes",
    )
    state = FSMField(
        _("状态"), choices=State.choices, default=State.AVAILABLE, protected=True, db_index=True
    )
    reserved_until = models.DateTimeField(_("预留至"), null=True, blank=True)
    assigned_at = models.DateTimeField(_("分配时间"), null=True, blank=True)
    quarantined_until = models.DateTimeField(_("冷冻至"), null=True, blank=True)
    retired_at = models.DateTimeField(_("停用时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("服务代码")
        verbose_name_plural = _("服务代码")
        ordering = ["code"]
        indexes = [models.Index(fields=["state", "province", "code"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(extension_digits__lte=MAX_DIALLED_DIGITS - 8),
                name="service_code_extension_fits",
            )
        ]

    def __str__(self) -> str:
        return self.code

    def clean(self) -> None:
        super().clean()
        if self.code and len(self.code) + (self.extension_digits or 0) > MAX_DIALLED_DIGITS:
            raise ValidationError(
                {"extension_digits": _("服务代码加扩展码不能超过20位")}, code="too_long"
            )

    @property
    def extension_range(self) -> str:
        """The numbers the enterprise may use, e.g. 10690371001 + 0000–9999."""
        if not self.extension_digits:
            return self.code
        return f"{self.code} + {'0' * self.extension_digits}–{'9' * self.extension_digits}"

    @transition(field=state, source=State.AVAILABLE, target=State.RESERVED)
    def reserve(self, *, until):
        self.reserved_until = until

    @transition(field=state, source=State.RESERVED, target=State.AVAILABLE)
    def release(self):
        self.reserved_until = None

    @transition(field=state, source=State.RESERVED, target=State.ASSIGNED)
    def assign(self, *, at):
        self.reserved_until = None
        self.assigned_at = at

    @transition(field=state, source=State.ASSIGNED, target=State.QUARANTINED)
    def quarantine(self, *, until):
        self.quarantined_until = until

    @transition(field=state, source=State.QUARANTINED, target=State.AVAILABLE)
    def reinstate(self):
        self.quarantined_until = None
        self.assigned_at = None

    @transition(field=state, source=[State.AVAILABLE, State.QUARANTINED], target=State.RETIRED)
    def retire(self, *, at):
        self.retired_at = at
        self.quarantined_until = None


class MasServer(TimeStampedModel):
    """A Mobile Agent Server (MAS) of the operator, with its ISMG link and port capacity.

    `capacity` is the number of enterprise ports the server can carry; its ports are
    MasPort rows (never more than the capacity). The ISMG link address is where the
    CMPP accounts of its ports log in (defaults: FULFILLMENT_ISMG_HOST/PORT, the bundled
    simulator).
    """

    name = models.CharField(_("名称"), max_length=60, unique=True)
    location = models.CharField(_("所在地"), max_length=50, help_text=_("如 郑州市"))
    host = models.CharField(_("管理地址"), max_length=100, blank=True)
    ismg_host = models.CharField(_("ISMG 地址"), max_length=100, default=_default_ismg_host)
    ismg_port = models.PositiveIntegerField(
        _("ISMG 端口"),
        default=_default_ismg_port,
        validators=[MinValueValidator(1), MaxValueValidator(65535)],
    )
    capacity = models.PositiveSmallIntegerField(
        _("端口容量"), validators=[MinValueValidator(1)], help_text=_("可承载的企业端口数")
    )
    in_service = models.BooleanField(_("在用"), default=True)
    note = models.CharField(_("备注"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("MAS 服务器")
        verbose_name_plural = _("MAS 服务器")
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name}（{self.location}）"

    @property
    def ismg_address(self) -> str:
        return f"{self.ismg_host}:{self.ismg_port}"


class MasPort(FSMModelMixin, TimeStampedModel):
    """One enterprise port on a MAS server.

    available → reserved (for an order item, until `reserved_until`) → assigned (to a
    subscription) → available when the subscription ends (a port, unlike a code, is not
    remembered by anyone, so it needs no quarantine); available ports can be retired.
    """

    class State(models.TextChoices):
        AVAILABLE = "available", _("空闲")
        RESERVED = "reserved", _("已预留")
        ASSIGNED = "assigned", _("已分配")
        RETIRED = "retired", _("已停用")

    server = models.ForeignKey(
        MasServer, verbose_name=_("MAS 服务器"), on_delete=models.PROTECT, related_name="ports"
    )
    number = models.PositiveSmallIntegerField(_("端口号"))
    state = FSMField(
        _("状态"), choices=State.choices, default=State.AVAILABLE, protected=True, db_index=True
    )
    reserved_until = models.DateTimeField(_("预留至"), null=True, blank=True)
    assigned_at = models.DateTimeField(_("分配时间"), null=True, blank=True)
    retired_at = models.DateTimeField(_("停用时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("MAS 端口")
        verbose_name_plural = _("MAS 端口")
        ordering = ["server", "number"]
        constraints = [
            models.UniqueConstraint(fields=["server", "number"], name="mas_port_unique_number")
        ]

    def __str__(self) -> str:
        return f"{self.server.name}#{self.number}"

    @transition(field=state, source=State.AVAILABLE, target=State.RESERVED)
    def reserve(self, *, until):
        self.reserved_until = until

    @transition(field=state, source=State.RESERVED, target=State.AVAILABLE)
    def release(self):
        self.reserved_until = None

    @transition(field=state, source=State.RESERVED, target=State.ASSIGNED)
    def assign(self, *, at):
        self.reserved_until = None
        self.assigned_at = at

    @transition(field=state, source=State.ASSIGNED, target=State.AVAILABLE)
    def free(self):
        self.assigned_at = None

    @transition(field=state, source=State.AVAILABLE, target=State.RETIRED)
    def retire(self, *, at):
        self.retired_at = at
