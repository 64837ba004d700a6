"""The enterprise file: who the customer is, who to talk to, who it may send to, how it signs."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, FSMModelMixin, transition
from simple_history.models import HistoricalRecords
from stdnum.cn import uscc

from core import clock
from core.models import TimeStampedModel
from core.roles import Role

from .regions import Province


def validate_credit_code(value: str) -> None:
    """Refuse a unified social credit code (统一社会信用代码) whose check digit is wrong."""
    if value and not uscc.is_valid(value):
        raise ValidationError(
            _("“%(value)s”不是有效的统一社会信用代码（18位，校验位不符）"),
            code="invalid_credit_code",
            params={"value": value},
        )


class Enterprise(FSMModelMixin, TimeStampedModel):
    """An enterprise (group) customer, 甲方 of the MAS agreement.

    A prospect may be recorded with little more than its name (e.g. created over TMF629);
    the credit code, region, industry, manager and a primary contact become mandatory
    when it is activated (`customers.services.enterprise_activate`).
    """

    class Status(models.TextChoices):
        PROSPECT = "prospect", _("潜在客户")
        ACTIVE = "active", _("在网")
        SUSPENDED = "suspended", _("暂停")
        CLOSED = "closed", _("已销户")

    class Grade(models.TextChoices):
        A = "A", _("A类")
        B = "B", _("B类")
        C = "C", _("C类")

    class Industry(models.TextChoices):
        GOVERNMENT = "government", _("党政机关")
        FINANCE = "finance", _("金融保险")
        MANUFACTURING = "manufacturing", _("工业制造")
        EDUCATION = "education", _("教育")
        HEALTHCARE = "healthcare", _("医疗卫生")
        LOGISTICS = "logistics", _("交通物流")
        RETAIL = "retail", _("商贸零售")
        ENERGY = "energy", _("能源电力")
        AGRICULTURE = "agriculture", _("农业")
        REAL_ESTATE = "real_estate", _("房地产")
        SERVICES = "services", _("服务业")
        OTHER = "other", _("其他")

    class PaymentMethod(models.TextChoices):
        CASH = "cash", _("现金")
        BANK_ENTRUSTMENT = "bank_entrustment", _("银行托收")

    name = models.CharField(_("企业名称"), max_length=200, db_index=True)
    credit_code = models.CharField(
        _("统一社会信用代码"),
        max_length=18,
        blank=True,
        validators=[validate_credit_code],
    )
    brands = models.CharField(
        _("品牌/商标"),
        max_length=200,
        blank=True,
        help_text=_("注册商标或常用简称，以逗号分隔；用于核对短信签名"),
    )
    province = models.CharField(
        _("注册省份"), max_length=2, choices=Province.choices, default=Province.HENAN
    )
    city = models.CharField(_("城市"), max_length=50, blank=True)
    address = models.CharField(_("地址"), max_length=200, blank=True)
    industry = models.CharField(
        _("行业"), max_length=20, choices=Industry.choices, default=Industry.OTHER
    )
    grade = models.CharField(_("客户等级"), max_length=1, choices=Grade.choices, default=Grade.C)
    status = FSMField(
        _("状态"), choices=Status.choices, default=Status.PROSPECT, protected=True, db_index=True
    )
    account_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("客户经理"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="managed_enterprises",
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级集团"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="branches",
    )
    billing_contact = models.ForeignKey(
        "Contact",
        verbose_name=_("账务联系人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    payment_method = models.CharField(
        _("付款方式"), max_length=20, choices=PaymentMethod.choices, default=PaymentMethod.CASH
    )
    bank_name = models.CharField(_("开户银行"), max_length=100, blank=True)
    bank_account_name = models.CharField(_("账户名称"), max_length=200, blank=True)
    bank_account_number = models.CharField(_("银行账号"), max_length=40, blank=True)
    good_credit = models.BooleanField(
        _("信用良好"), default=False, help_text=_("由客户经理设定，可延缓欠费停机")
    )
    notes = models.TextField(_("备注"), blank=True)
    activated_at = models.DateTimeField(_("入网时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("销户时间"), null=True, blank=True)
    # What TMF629 keeps beside the file (customers.api.serializers): specification
    # attributes the file does not model and references to parties/accounts this system
    # does not hold, as given; and the client's spelling of the status with the status it
    # was given for (core.tmf.states).
    tmf_extra = models.JSONField(_("TMF 附加属性"), default=dict, blank=True)
    tmf_status = models.CharField(_("TMF 状态文字"), max_length=60, blank=True)
    tmf_status_for = models.CharField(_("TMF 状态文字对应状态"), max_length=20, blank=True)

    history = HistoricalRecords(excluded_fields=["updated_at", "tmf_status", "tmf_status_for"])

    class Meta:
        verbose_name = _("集团客户")
        verbose_name_plural = _("集团客户")
        ordering = ["name"]
        permissions = [("view_all_enterprises", _("查看全部集团客户（部门负责人）"))]
        constraints = [
            models.UniqueConstraint(
                fields=["credit_code"],
                condition=~Q(credit_code=""),
                name="enterprise_credit_code_unique",
                violation_error_message=_("该统一社会信用代码已登记"),
            )
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        """Bank entrustment needs the bank, account name and account number (第9条第2款)."""
        super().clean()
        if self.credit_code:
            self.credit_code = self.credit_code.strip().upper()
        if self.payment_method == self.PaymentMethod.BANK_ENTRUSTMENT:
            missing = {
                "bank_name": self.bank_name,
                "bank_account_name": self.bank_account_name,
                "bank_account_number": self.bank_account_number,
            }
            errors = {
                field: _("银行托收须填写开户银行、账户名称和银行账号")
                for field, value in missing.items()
                if not value.strip()
            }
            if errors:
                raise ValidationError(errors)
        if self.parent_id and self.parent_id == self.pk:
            raise ValidationError({"parent": _("上级集团不能是自身")})

    @transition(field=status, source=Status.PROSPECT, target=Status.ACTIVE)
    def activate(self, *, at):
        self.activated_at = at

    @transition(field=status, source=Status.ACTIVE, target=Status.SUSPENDED)
    def suspend(self):
        pass

    @transition(field=status, source=Status.SUSPENDED, target=Status.ACTIVE)
    def resume(self):
        pass

    @transition(
        field=status,
        source=[Status.PROSPECT, Status.ACTIVE, Status.SUSPENDED],
        target=Status.CLOSED,
    )
    def close(self, *, at):
        self.closed_at = at


class Contact(TimeStampedModel):
    """A named contact person of an enterprise (集团联系人); one may be primary."""

    enterprise = models.ForeignKey(
        Enterprise, verbose_name=_("集团客户"), on_delete=models.CASCADE, related_name="contacts"
    )
    name = models.CharField(_("姓名"), max_length=60)
    role = models.CharField(_("职务"), max_length=60, blank=True)
    mobile = models.CharField(_("手机号码"), max_length=20, help_text=_("保存为11位手机号码"))
    email = models.EmailField(_("电子邮箱"), blank=True)
    is_primary = models.BooleanField(_("主要联系人"), default=False)

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("联系人")
        verbose_name_plural = _("联系人")
        ordering = ["-is_primary", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["enterprise"],
                condition=Q(is_primary=True),
                name="contact_one_primary_per_enterprise",
                violation_error_message=_("每个集团客户只能有一位主要联系人"),
            )
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.enterprise.name}）" if self.enterprise_id else self.name

    def clean(self) -> None:
        """Normalise the mobile number to its 11-digit form or refuse it."""
        from core.phone import normalize_mobile

        super().clean()
        if self.mobile:
            try:
                self.mobile = normalize_mobile(self.mobile)
            except ValidationError as exc:
                raise ValidationError({"mobile": exc.messages}) from exc


class RegisteredRecipient(models.Model):
    """A number the enterprise may send to (注册客户名单, 第4条), with the recipient's consent.

    A number that opted out stays on the list with `opted_out_at` set, so the refusal
    can be explained and the consent history is kept.
    """

    enterprise = models.ForeignKey(
        Enterprise,
        verbose_name=_("集团客户"),
        on_delete=models.CASCADE,
        related_name="recipients",
    )
    msisdn = models.CharField(_("手机号码"), max_length=11)
    name = models.CharField(_("姓名"), max_length=60, blank=True)
    group_label = models.CharField(_("分组"), max_length=60, blank=True, db_index=True)
    consent_source = models.CharField(_("同意方式"), max_length=100)
    consented_at = models.DateTimeField(_("同意时间"))
    opted_out_at = models.DateTimeField(_("退订时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("登记时间"), default=clock.now, editable=False)

    class Meta:
        verbose_name = _("注册接收号码")
        verbose_name_plural = _("注册客户名单")
        ordering = ["enterprise", "msisdn"]
        constraints = [
            models.UniqueConstraint(
                fields=["enterprise", "msisdn"],
                name="recipient_unique_per_enterprise",
                violation_error_message=_("该号码已在本企业的注册客户名单中"),
            )
        ]

    def __str__(self) -> str:
        from core.phone import mask_mobile

        return mask_mobile(self.msisdn)

    @property
    def is_opted_out(self) -> bool:
        return self.opted_out_at is not None


class Signature(FSMModelMixin, TimeStampedModel):
    """An SMS signature such as 【郑州宇通】 (第6条第4款), appended to every message.

    Only approved signatures are usable. On submission the system records how the text
    matches the enterprise's registered name or brands (`match_evidence`); a manager
    approves, and must give documentary evidence when the text does not plausibly match.
    """

    class State(models.TextChoices):
        SUBMITTED = "submitted", _("待审核")
        APPROVED = "approved", _("已通过")
        REJECTED = "rejected", _("已驳回")

    enterprise = models.ForeignKey(
        Enterprise,
        verbose_name=_("集团客户"),
        on_delete=models.CASCADE,
        related_name="signatures",
    )
    text = models.CharField(_("签名"), max_length=22)
    state = FSMField(_("审核状态"), choices=State.choices, default=State.SUBMITTED, protected=True)
    matches_registered_name = models.BooleanField(_("与登记名称相符"), default=False)
    match_evidence = models.TextField(_("系统核对结果"), blank=True)
    review_evidence = models.TextField(
        _("审核依据"), blank=True, help_text=_("如商标注册证号、授权书编号")
    )
    rejection_reason = models.TextField(_("驳回原因"), blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("申请人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审核人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("审核时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("短信签名")
        verbose_name_plural = _("短信签名")
        ordering = ["-created_at"]
        permissions = [("review_signature", _("审核短信签名"))]
        constraints = [
            models.UniqueConstraint(
                fields=["enterprise", "text"],
                condition=~Q(state="rejected"),
                name="signature_unique_live_text",
                violation_error_message=_("该签名已申请或已通过"),
            )
        ]

    def __str__(self) -> str:
        return self.text

    @transition(field=state, source=State.SUBMITTED, target=State.APPROVED)
    def approve(self, *, by, at, evidence):
        self.reviewed_by = by
        self.reviewed_at = at
        self.review_evidence = evidence

    @transition(field=state, source=State.SUBMITTED, target=State.REJECTED)
    def reject(self, *, by, at, reason):
        self.reviewed_by = by
        self.reviewed_at = at
        self.rejection_reason = reason


class ChurnWarning(FSMModelMixin, TimeStampedModel):
    """An early-warning (预警) that an enterprise may be leaving, on its manager's worklist.

    Raised by the daily usage analysis (smsgw); at most one live warning per enterprise
    and kind. The manager acknowledges it with the action taken, then closes it.
    """

    class Kind(models.TextChoices):
        NO_USAGE = "no_usage", _("连续无发送")
        VOLUME_DROP = "volume_drop", _("发送量骤降")

    class State(models.TextChoices):
        OPEN = "open", _("待处理")
        ACKNOWLEDGED = "acknowledged", _("已跟进")
        CLOSED = "closed", _("已关闭")

    enterprise = models.ForeignKey(
        Enterprise,
        verbose_name=_("集团客户"),
        on_delete=models.CASCADE,
        related_name="churn_warnings",
    )
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("客户经理"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="churn_warnings",
    )
    kind = models.CharField(_("预警类型"), max_length=20, choices=Kind.choices)
    detail = models.TextField(_("预警内容"))
    raised_on = models.DateField(_("预警日期"))
    state = FSMField(_("状态"), choices=State.choices, default=State.OPEN, protected=True)
    action_taken = models.TextField(_("跟进措施"), blank=True)
    acknowledged_at = models.DateTimeField(_("跟进时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("关闭时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("离网预警")
        verbose_name_plural = _("离网预警")
        ordering = ["-raised_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["enterprise", "kind"],
                condition=Q(state__in=["open", "acknowledged"]),
                name="churn_warning_one_live_per_kind",
            )
        ]

    def __str__(self) -> str:
        return f"{self.enterprise} · {self.get_kind_display()}"

    @transition(field=state, source=State.OPEN, target=State.ACKNOWLEDGED)
    def acknowledge(self, *, at, action_taken):
        self.acknowledged_at = at
        self.action_taken = action_taken

    @transition(field=state, source=[State.OPEN, State.ACKNOWLEDGED], target=State.CLOSED)
    def close(self, *, at):
        self.closed_at = at


class EnterpriseMembership(models.Model):
    """Ties an enterprise user (portal login or API owner) to exactly one enterprise."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("用户"),
        on_delete=models.CASCADE,
        related_name="membership",
    )
    enterprise = models.ForeignKey(
        Enterprise,
        verbose_name=_("集团客户"),
        on_delete=models.CASCADE,
        related_name="memberships",
    )

    class Meta:
        verbose_name = _("企业用户")
        verbose_name_plural = _("企业用户")

    def __str__(self) -> str:
        return f"{self.user} @ {self.enterprise}"


class ApiToken(TimeStampedModel):
    """A credential for a system calling the APIs (`Authorization: Bearer <token>`).

    A token acts as one user in one role: staff integrations (a role such as
    customer_manager or department_head, no enterprise) or an enterprise's application
    (enterprise_admin / enterprise_operator, tied to that enterprise, which is then all
    it can see). The permissions used are the user's, narrowed to the role's group; a
    superuser's token may have no role (full access). Only the SHA-256 digest of the
    token is stored: the token itself is shown once, when it is issued
    (`customers.services.api_token_issue`). Revoked or expired tokens authenticate no
    one. It lives in `customers` because an enterprise token refers to an Enterprise and
    `core` must not import this app; the TMF layer reaches it through
    `customers.api.auth` (REST_FRAMEWORK and TMF_REQUEST_ENTERPRISE settings), and the
    enterprise SMS API (`/api/`) uses the same tokens.
    """

    name = models.CharField(_("用途"), max_length=100)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("所属用户"),
        on_delete=models.CASCADE,
        related_name="api_tokens",
    )
    role = models.CharField(_("角色"), max_length=30, choices=Role.choices, blank=True)
    enterprise = models.ForeignKey(
        Enterprise,
        verbose_name=_("集团客户"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="api_tokens",
    )
    prefix = models.CharField(_("令牌前缀"), max_length=16, db_index=True, editable=False)
    digest = models.CharField(_("摘要"), max_length=64, unique=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("签发人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    expires_at = models.DateTimeField(_("到期时间"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("最近使用"), null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("吊销时间"), null=True, blank=True, editable=False)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("吊销人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )

    class Meta:
        verbose_name = _("接口令牌")
        verbose_name_plural = _("接口令牌")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_usable(self) -> bool:
        """Not revoked and not expired."""
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or self.expires_at > clock.now()
