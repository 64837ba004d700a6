"""The product catalog (eTOM Product Lifecycle Management), shaped after TMF620.

A product specification says what is technically delivered (集团短信 MAS: a service
code, a MAS port and an ISMG link); a product offering is what is sold, with a
lifecycle (in study → in design → in test → launched → retired) and versioned prices.
Only launched offerings can be ordered; a retired offering keeps its subscriptions.
"""

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, FSMModelMixin, transition

from core.models import TimeStampedModel
from core.money import MoneyField


class CmppVersion(models.TextChoices):
    """The link protocol agreed per subscription (第2条)."""

    V20 = "2.0", "CMPP 2.0"
    V30 = "3.0", "CMPP 3.0"


class Catalog(TimeStampedModel):
    """A catalog: a published collection of categories (TMF620 `catalog`)."""

    name = models.CharField(_("名称"), max_length=100)
    description = models.TextField(_("说明"), blank=True)
    catalog_type = models.CharField(_("目录类型"), max_length=50, blank=True)
    version = models.CharField(_("版本"), max_length=20, blank=True)
    lifecycle_status = models.CharField(_("生命周期状态"), max_length=40, default="Active")
    valid_from = models.DateTimeField(_("生效时间"), null=True, blank=True)
    valid_to = models.DateTimeField(_("失效时间"), null=True, blank=True)
    categories = models.ManyToManyField(
        "Category", verbose_name=_("分类"), blank=True, related_name="catalogs"
    )
    tmf_extra = models.JSONField(
        _("TMF 附加属性"),
        default=dict,
        blank=True,
        help_text=_("TMF620 中本系统未建模的属性及未知引用，按原样保存"),
    )

    class Meta:
        verbose_name = _("产品目录")
        verbose_name_plural = _("产品目录")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Category(TimeStampedModel):
    """A category of offerings, possibly nested (TMF620 `category`)."""

    name = models.CharField(_("名称"), max_length=100)
    description = models.TextField(_("说明"), blank=True)
    version = models.CharField(_("版本"), max_length=20, blank=True)
    lifecycle_status = models.CharField(_("生命周期状态"), max_length=40, default="Active")
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级分类"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="subcategories",
    )
    valid_from = models.DateTimeField(_("生效时间"), null=True, blank=True)
    valid_to = models.DateTimeField(_("失效时间"), null=True, blank=True)
    tmf_extra = models.JSONField(
        _("TMF 附加属性"),
        default=dict,
        blank=True,
        help_text=_("TMF620 中本系统未建模的属性及未知引用，按原样保存"),
    )

    class Meta:
        verbose_name = _("产品分类")
        verbose_name_plural = _("产品分类")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_root(self) -> bool:
        return self.parent_id is None


class ProductSpecification(TimeStampedModel):
    """What is technically delivered, e.g. 集团短信 MAS (TMF620 `productSpecification`).

    `characteristics` lists the characteristic specifications in TMF form, e.g.
    `[{"name": "cmppVersion", "valueType": "string", "productSpecCharacteristicValue": [...]}]`.
    """

    name = models.CharField(_("名称"), max_length=100)
    description = models.TextField(_("说明"), blank=True)
    brand = models.CharField(_("品牌"), max_length=60, blank=True)
    product_number = models.CharField(_("产品编号"), max_length=40, blank=True)
    version = models.CharField(_("版本"), max_length=20, blank=True)
    lifecycle_status = models.CharField(_("生命周期状态"), max_length=40, default="In study")
    is_bundle = models.BooleanField(_("组合规格"), default=False)
    characteristics = models.JSONField(_("特征"), default=list, blank=True)
    valid_from = models.DateTimeField(_("生效时间"), null=True, blank=True)
    valid_to = models.DateTimeField(_("失效时间"), null=True, blank=True)
    tmf_extra = models.JSONField(
        _("TMF 附加属性"),
        default=dict,
        blank=True,
        help_text=_("TMF620 中本系统未建模的属性及未知引用，按原样保存"),
    )

    class Meta:
        verbose_name = _("产品规格")
        verbose_name_plural = _("产品规格")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ProductOffering(FSMModelMixin, TimeStampedModel):
    """What is sold: a specification with options and prices, or a bundle of offerings.

    The options a subscription is sold with (CMPP versions offered, licensed rate in
    messages per second, number of links) are the offering's; prices are versioned rows
    in ProductOfferingPrice.
    """

    class Lifecycle(models.TextChoices):
        # TMF620 leaves lifecycleStatus open; these are the values it recommends.
        IN_STUDY = "In study", _("研究中")
        IN_DESIGN = "In design", _("设计中")
        IN_TEST = "In test", _("测试中")
        LAUNCHED = "Launched", _("已上线")
        RETIRED = "Retired", _("已退市")

    name = models.CharField(_("名称"), max_length=100)
    description = models.TextField(_("说明"), blank=True)
    version = models.CharField(_("版本"), max_length=20, blank=True)
    lifecycle_status = FSMField(
        _("生命周期状态"),
        max_length=20,
        choices=Lifecycle.choices,
        default=Lifecycle.IN_STUDY,
        protected=True,
        db_index=True,
    )
    status_reason = models.CharField(_("状态原因"), max_length=200, blank=True)
    specification = models.ForeignKey(
        ProductSpecification,
        verbose_name=_("产品规格"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="offerings",
    )
    categories = models.ManyToManyField(
        Category, verbose_name=_("分类"), blank=True, related_name="offerings"
    )
    is_bundle = models.BooleanField(_("一体化套餐"), default=False)
    is_sellable = models.BooleanField(_("可单独销售"), default=True)
    bundled_offerings = models.ManyToManyField(
        "self",
        verbose_name=_("套餐内产品"),
        through="BundledOffering",
        through_fields=("bundle", "component"),
        symmetrical=False,
        blank=True,
        related_name="bundles",
    )
    cmpp_versions = models.JSONField(
        _("可选CMPP版本"), default=list, blank=True, help_text=_('如 ["2.0", "3.0"]')
    )
    licensed_rate = models.PositiveIntegerField(
        _("许可速率（条/秒）"), null=True, blank=True, validators=[MinValueValidator(1)]
    )
    max_links = models.PositiveSmallIntegerField(
        _("连接数"), null=True, blank=True, validators=[MinValueValidator(1)]
    )
    valid_from = models.DateTimeField(_("生效时间"), null=True, blank=True)
    valid_to = models.DateTimeField(_("失效时间"), null=True, blank=True)
    launched_at = models.DateTimeField(_("上线时间"), null=True, blank=True)
    retired_at = models.DateTimeField(_("退市时间"), null=True, blank=True)
    tmf_extra = models.JSONField(
        _("TMF 附加属性"),
        default=dict,
        blank=True,
        help_text=_("TMF620 中本系统未建模的属性及未知引用，按原样保存"),
    )
    # The TMF620 client's spelling of lifecycleStatus and the state it named (core.tmf.states).
    tmf_lifecycle_status = models.CharField(_("TMF 状态文字"), max_length=60, blank=True)
    tmf_lifecycle_status_for = models.CharField(
        _("TMF 状态文字对应状态"), max_length=20, blank=True
    )

    class Meta:
        verbose_name = _("产品（销售品）")
        verbose_name_plural = _("产品（销售品）")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        super().clean()
        unknown = set(self.cmpp_versions or []) - set(CmppVersion.values)
        if unknown:
            raise ValidationError({"cmpp_versions": _("CMPP 版本只能是 2.0 或 3.0")})

    @property
    def is_orderable(self) -> bool:
        return self.lifecycle_status == self.Lifecycle.LAUNCHED

    @transition(field=lifecycle_status, source=Lifecycle.IN_STUDY, target=Lifecycle.IN_DESIGN)
    def design(self):
        pass

    @transition(
        field=lifecycle_status,
        source=[Lifecycle.IN_DESIGN],
        target=Lifecycle.IN_TEST,
    )
    def test(self):
        pass

    @transition(field=lifecycle_status, source=Lifecycle.IN_TEST, target=Lifecycle.IN_DESIGN)
    def redesign(self):
        pass

    @transition(field=lifecycle_status, source=Lifecycle.IN_TEST, target=Lifecycle.LAUNCHED)
    def launch(self, *, at):
        self.launched_at = at

    @transition(field=lifecycle_status, source=Lifecycle.LAUNCHED, target=Lifecycle.RETIRED)
    def retire(self, *, at):
        self.retired_at = at


class BundledOffering(models.Model):
    """One offering inside a bundle (一体化套餐), e.g. SMS MAS within an informatisation pack."""

    bundle = models.ForeignKey(
        ProductOffering, on_delete=models.CASCADE, related_name="bundle_items"
    )
    component = models.ForeignKey(
        ProductOffering,
        verbose_name=_("套餐内产品"),
        on_delete=models.PROTECT,
        related_name="bundled_in",
    )
    quantity = models.PositiveSmallIntegerField(_("数量"), default=1)

    class Meta:
        verbose_name = _("套餐内产品")
        verbose_name_plural = _("套餐内产品")
        constraints = [
            models.UniqueConstraint(fields=["bundle", "component"], name="bundle_component_unique"),
            models.CheckConstraint(
                condition=~Q(bundle=models.F("component")), name="bundle_not_itself"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.bundle} ⊃ {self.component}"


class ProductOfferingPrice(TimeStampedModel):
    """One price component of an offering, valid for a period (TMF620 `productOfferingPrice`).

    Components (第9条): the independent SMS port fee per month, the package fee per month
    with its included downlink messages, the overage price per message beyond them, and
    for a bundle its bundle price. Rows are never rewritten once in effect: a change is a
    new row from a later date (`product_lifecycle.services.offering_price_revise`), so a
    price already sold stays what it was. Amounts are yuan, tax-inclusive.
    """

    class Component(models.TextChoices):
        PORT_FEE = "port_fee", _("独立短信端口费（元/月）")
        PACKAGE_FEE = "package_fee", _("下行短信包月费（元/月）")
        OVERAGE = "overage", _("超出部分单价（元/条）")
        BUNDLE = "bundle", _("套餐价（元/月）")

    COMPONENT_PRICE_TYPES = {
        Component.PORT_FEE: "recurring",
        Component.PACKAGE_FEE: "recurring",
        Component.OVERAGE: "usage",
        Component.BUNDLE: "recurring",
    }

    offering = models.ForeignKey(
        ProductOffering,
        verbose_name=_("产品"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="prices",
    )
    name = models.CharField(_("名称"), max_length=100)
    description = models.TextField(_("说明"), blank=True)
    component = models.CharField(
        _("价格组成"), max_length=20, choices=Component.choices, blank=True
    )
    price_type = models.CharField(_("价格类型"), max_length=20, default="recurring")
    recurring_period = models.CharField(_("周期"), max_length=20, blank=True, default="month")
    # Empty only for a price recorded over TMF620 without one; it cannot be attached to
    # an offering until it has an amount (services._offering_prices_set).
    amount = MoneyField(
        _("金额（元，含税）"), null=True, blank=True, validators=[MinValueValidator(0)]
    )
    currency = models.CharField(_("币种"), max_length=3, default="CNY")
    included_quantity = models.PositiveIntegerField(
        _("包含条数"), null=True, blank=True, help_text=_("包月费包含的下行短信条数")
    )
    unit_of_measure = models.CharField(_("计量单位"), max_length=20, blank=True)
    lifecycle_status = models.CharField(_("生命周期状态"), max_length=40, default="Active")
    version = models.CharField(_("版本"), max_length=20, blank=True)
    valid_from = models.DateTimeField(_("生效时间"))
    valid_to = models.DateTimeField(_("失效时间"), null=True, blank=True)
    tmf_extra = models.JSONField(
        _("TMF 附加属性"),
        default=dict,
        blank=True,
        help_text=_("TMF620 中本系统未建模的属性及未知引用，按原样保存"),
    )

    class Meta:
        verbose_name = _("产品价格")
        verbose_name_plural = _("产品价格")
        ordering = ["offering", "component", "-valid_from"]
        indexes = [models.Index(fields=["offering", "component", "valid_from"])]

    def __str__(self) -> str:
        return f"{self.name} ¥{self.amount}"

    def clean(self) -> None:
        super().clean()
        if self.valid_to and self.valid_to <= self.valid_from:
            raise ValidationError({"valid_to": _("失效时间必须晚于生效时间")})
        if self.component == self.Component.PACKAGE_FEE and not self.included_quantity:
            raise ValidationError({"included_quantity": _("包月费必须注明包含的短信条数")})
