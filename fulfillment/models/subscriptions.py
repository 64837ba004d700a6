"""Product instances (subscriptions) and the CMPP accounts provisioned for them."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, FSMModelMixin, transition

from core.models import TimeStampedModel

from .common import InterfaceType, TariffSnapshot


class Subscription(FSMModelMixin, TariffSnapshot, TimeStampedModel):
    """One activated 集团短信 MAS offering of an enterprise: a code, a port and an account.

    active → suspended (sending blocked; billing keeps running) → active; active or
    suspended → terminated (the code goes to quarantine, the port is freed, the account
    revoked, the contract ended). The tariff and options are those agreed at sale, copied
    here so catalog changes never alter them; a modify order changes them and records a
    supplementary agreement on the contract.
    """

    class State(models.TextChoices):
        ACTIVE = "active", _("在用")
        SUSPENDED = "suspended", _("暂停")
        TERMINATED = "terminated", _("已终止")

    LIVE_STATES = (State.ACTIVE, State.SUSPENDED)

    enterprise = models.ForeignKey(
        "customers.Enterprise",
        verbose_name=_("集团客户"),
        on_delete=models.PROTECT,
        related_name="subscriptions",
    )
    offering = models.ForeignKey(
        "product_lifecycle.ProductOffering",
        verbose_name=_("产品"),
        on_delete=models.PROTECT,
        related_name="subscriptions",
    )
    order = models.ForeignKey(
        "fulfillment.Order",
        verbose_name=_("开通订单"),
        on_delete=models.PROTECT,
        related_name="created_subscriptions",
    )
    state = FSMField(
        _("状态"), choices=State.choices, default=State.ACTIVE, protected=True, db_index=True
    )
    service_code = models.ForeignKey(
        "fulfillment.ServiceCode",
        verbose_name=_("服务代码"),
        on_delete=models.PROTECT,
        related_name="subscriptions",
    )
    port = models.ForeignKey(
        "fulfillment.MasPort",
        verbose_name=_("MAS 端口"),
        on_delete=models.PROTECT,
        related_name="subscriptions",
    )
    cmpp_version = models.CharField(_("CMPP 版本"), max_length=5)
    licensed_rate = models.PositiveIntegerField(_("许可速率（条/秒）"))
    max_links = models.PositiveSmallIntegerField(_("连接数"))
    interface_type = models.CharField(_("接口类型"), max_length=20, choices=InterfaceType.choices)
    access_ip = models.GenericIPAddressField(_("接入地址（IP）"))
    contact_name = models.CharField(_("联系人"), max_length=60, blank=True)
    contact_phone = models.CharField(_("联系电话"), max_length=30, blank=True)
    activated_at = models.DateTimeField(_("开通时间"))
    suspended_at = models.DateTimeField(_("暂停时间"), null=True, blank=True)
    suspension_reason = models.TextField(_("暂停原因"), blank=True)
    terminated_at = models.DateTimeField(_("终止时间"), null=True, blank=True)
    termination_reason = models.TextField(_("终止原因"), blank=True)

    class Meta:
        verbose_name = _("业务实例（订购）")
        verbose_name_plural = _("业务实例（订购）")
        ordering = ["-activated_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["service_code"],
                condition=~Q(state="terminated"),
                name="subscription_one_live_per_code",
            ),
            models.UniqueConstraint(
                fields=["port"],
                condition=~Q(state="terminated"),
                name="subscription_one_live_per_port",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.service_code.code}（{self.enterprise.name}）"

    @property
    def is_live(self) -> bool:
        return self.state in self.LIVE_STATES

    @transition(field=state, source=State.ACTIVE, target=State.SUSPENDED)
    def suspend(self, *, at, reason):
        self.suspended_at = at
        self.suspension_reason = reason

    @transition(field=state, source=State.SUSPENDED, target=State.ACTIVE)
    def resume(self):
        self.suspended_at = None
        self.suspension_reason = ""

    @transition(field=state, source=[State.ACTIVE, State.SUSPENDED], target=State.TERMINATED)
    def terminate(self, *, at, reason):
        self.terminated_at = at
        self.termination_reason = reason


class CmppAccount(FSMModelMixin, TimeStampedModel):
    """The CMPP account the smsgw sender logs in to the ISMG with, for one subscription.

    SP_Id (企业代码, six digits), the shared secret (stored encrypted with core.crypto,
    shown to staff exactly once), and the link parameters copied from the subscription so
    the sender reads one row: service code and extension digits, licensed rate, links,
    window, protocol version, ISMG address and the enterprise's access IP.

    provisioned (created during provisioning, not usable yet) → active ↔ suspended →
    revoked; a provisioned account of a failed order is revoked. At most one account that
    is not revoked exists per access IP (第5条第6款), enforced by the database.
    """

    class State(models.TextChoices):
        PROVISIONED = "provisioned", _("已创建")
        ACTIVE = "active", _("在用")
        SUSPENDED = "suspended", _("暂停")
        REVOKED = "revoked", _("已注销")

    order_item = models.ForeignKey(
        "fulfillment.OrderItem",
        verbose_name=_("开通订单项"),
        on_delete=models.PROTECT,
        related_name="accounts",
    )
    subscription = models.OneToOneField(
        Subscription,
        verbose_name=_("业务实例"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="account",
    )
    enterprise = models.ForeignKey(
        "customers.Enterprise",
        verbose_name=_("集团客户"),
        on_delete=models.PROTECT,
        related_name="cmpp_accounts",
    )
    state = FSMField(
        _("状态"), choices=State.choices, default=State.PROVISIONED, protected=True, db_index=True
    )
    sp_id = models.CharField(_("企业代码（SP_Id）"), max_length=6, unique=True)
    secret_encrypted = models.TextField(_("共享密钥（密文）"), editable=False)
    secret_revealed_at = models.DateTimeField(_("密钥显示时间"), null=True, blank=True)
    secret_revealed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("密钥查看人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    service_code = models.CharField(_("服务代码"), max_length=16)
    extension_digits = models.PositiveSmallIntegerField(_("扩展位数"))
    licensed_rate = models.PositiveIntegerField(_("许可速率（条/秒）"))
    max_links = models.PositiveSmallIntegerField(_("连接数"))
    window_size = models.PositiveSmallIntegerField(_("滑动窗口"), default=16)
    cmpp_version = models.CharField(_("CMPP 版本"), max_length=5)
    ismg_host = models.CharField(_("ISMG 地址"), max_length=100)
    ismg_port = models.PositiveIntegerField(_("ISMG 端口"))
    access_ip = models.GenericIPAddressField(_("接入地址（IP）"))

    class Meta:
        verbose_name = _("CMPP 账号")
        verbose_name_plural = _("CMPP 账号")
        ordering = ["sp_id"]
        permissions = [("reveal_secret", _("查看一次 CMPP 共享密钥"))]
        constraints = [
            models.UniqueConstraint(
                fields=["access_ip"],
                condition=~Q(state="revoked"),
                name="cmpp_account_one_live_per_ip",
                violation_error_message=_("第5条第6款：同一IP地址只能对应一个服务代码或账号"),
            )
        ]

    def __str__(self) -> str:
        return f"SP {self.sp_id}（{self.service_code}）"

    @property
    def secret_was_revealed(self) -> bool:
        return self.secret_revealed_at is not None

    @property
    def secret_status(self) -> str:
        """ "revealed" once the secret was shown to someone, else "hidden" (for the audit trail)."""
        return "revealed" if self.secret_revealed_at else "hidden"

    @transition(field=state, source=State.PROVISIONED, target=State.ACTIVE)
    def activate(self, *, subscription):
        self.subscription = subscription

    @transition(field=state, source=State.ACTIVE, target=State.SUSPENDED)
    def suspend(self):
        pass

    @transition(field=state, source=State.SUSPENDED, target=State.ACTIVE)
    def resume(self):
        pass

    @transition(
        field=state,
        source=[State.PROVISIONED, State.ACTIVE, State.SUSPENDED],
        target=State.REVOKED,
    )
    def revoke(self):
        pass
