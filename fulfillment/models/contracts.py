"""The MAS service agreement of each subscription and its supplementary agreements."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, FSMModelMixin, transition

from core.models import TimeStampedModel

CONTRACT_PREFIX = "HA.ZZ.JT.DXMAS."
CONTRACT_NUMBER_DIGITS = 6


class Contract(FSMModelMixin, TimeStampedModel):
    """The agreement (协议编号 HA.ZZ.JT.DXMAS.<n>) behind one subscription.

    It takes effect when signed and runs one year from service activation (第17条):
    `term_start`..`expires_on` (inclusive) is the current year. Each year it renews
    itself unless a non-renewal notice was recorded at least one month before expiry, in
    which case it expires at the end of the term (and the subscription ends with it).
    Early termination needs one of the 第18条 reasons. Changes are supplementary
    agreements (补充协议, 第22条).

    active → active (renewed) | expired | terminated.
    """

    class State(models.TextChoices):
        ACTIVE = "active", _("履行中")
        EXPIRED = "expired", _("到期终止")
        TERMINATED = "terminated", _("提前终止")

    class TerminationReason(models.TextChoices):
        """第18条: the only grounds for ending the agreement early."""

        MUTUAL_AGREEMENT = "mutual_agreement", _("双方协商一致")
        BREACH = "breach", _("对方违约")
        FORCE_MAJEURE = "force_majeure", _("不可抗力")

    class Party(models.TextChoices):
        ENTERPRISE = "enterprise", _("甲方（集团客户）")
        OPERATOR = "operator", _("乙方（运营商）")

    number = models.CharField(_("合同编号"), max_length=40, unique=True)
    subscription = models.OneToOneField(
        "fulfillment.Subscription",
        verbose_name=_("业务实例"),
        on_delete=models.PROTECT,
        related_name="contract",
    )
    enterprise = models.ForeignKey(
        "customers.Enterprise",
        verbose_name=_("集团客户"),
        on_delete=models.PROTECT,
        related_name="contracts",
    )
    state = FSMField(
        _("状态"), choices=State.choices, default=State.ACTIVE, protected=True, db_index=True
    )
    signed_on = models.DateField(_("签订日期"))
    starts_on = models.DateField(_("起始日期"), help_text=_("业务开通之日（第17条）"))
    term_start = models.DateField(_("本期起始"))
    expires_on = models.DateField(_("本期到期"), db_index=True)
    renewals = models.PositiveSmallIntegerField(_("已续约次数"), default=0)
    non_renewal_noticed_on = models.DateField(_("不续约通知日期"), null=True, blank=True)
    non_renewal_party = models.CharField(
        _("通知方"), max_length=20, choices=Party.choices, blank=True
    )
    non_renewal_note = models.TextField(_("不续约说明"), blank=True)
    expiry_warned_for = models.DateField(
        _("已提醒的到期日"), null=True, blank=True, help_text=_("已就该到期日提醒客户经理")
    )
    ended_on = models.DateField(_("终止日期"), null=True, blank=True)
    termination_reason = models.CharField(
        _("终止原因（第18条）"), max_length=20, choices=TerminationReason.choices, blank=True
    )
    termination_detail = models.TextField(_("终止说明"), blank=True)

    class Meta:
        verbose_name = _("合同")
        verbose_name_plural = _("合同")
        ordering = ["-number"]
        permissions = [("download_contract_pdf", _("下载合同摘要 PDF"))]

    def __str__(self) -> str:
        return self.number

    @transition(field=state, source=State.ACTIVE, target=State.ACTIVE)
    def renew(self, *, term_start, expires_on):
        self.term_start = term_start
        self.expires_on = expires_on
        self.renewals += 1

    @transition(field=state, source=State.ACTIVE, target=State.EXPIRED)
    def expire(self):
        self.ended_on = self.expires_on

    @transition(field=state, source=State.ACTIVE, target=State.TERMINATED)
    def terminate(self, *, on, reason, detail):
        self.ended_on = on
        self.termination_reason = reason
        self.termination_detail = detail


class SupplementaryAgreement(TimeStampedModel):
    """A change of the agreement (补充协议, 第11条/第22条), produced by a modify order.

    `changes` lists what changed: [{"field": "licensed_rate", "label": ..., "before": ...,
    "after": ...}]. A change made with less than a month's notice records who approved it.
    """

    contract = models.ForeignKey(
        Contract,
        verbose_name=_("合同"),
        on_delete=models.PROTECT,
        related_name="supplements",
    )
    sequence = models.PositiveSmallIntegerField(_("序号"))
    number = models.CharField(_("补充协议编号"), max_length=50, unique=True)
    order = models.ForeignKey(
        "fulfillment.Order",
        verbose_name=_("变更订单"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="supplements",
    )
    signed_on = models.DateField(_("签订日期"))
    effective_on = models.DateField(_("生效日期"))
    summary = models.TextField(_("变更内容"))
    changes = models.JSONField(_("变更明细"), default=list, blank=True)
    notice_override_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("提前期特批人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("补充协议")
        verbose_name_plural = _("补充协议")
        ordering = ["contract", "sequence"]
        constraints = [
            models.UniqueConstraint(
                fields=["contract", "sequence"], name="supplement_unique_sequence"
            )
        ]

    def __str__(self) -> str:
        return self.number
