"""Pieces shared by the fulfillment models: gapless counters, the sold tariff, interface types."""

from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _

from core.money import MoneyField
from product_lifecycle.selectors import Tariff


class InterfaceType(models.TextChoices):
    """How the enterprise's applications reach the MAS (接口类型, 第3条 written notice)."""

    CMPP = "cmpp", _("CMPP 直连接口")
    HTTP = "http", _("HTTP 接口")
    WEBSERVICE = "webservice", _("Web Service 接口")
    DATABASE = "database", _("数据库接口")


class Sequence(models.Model):
    """A named gapless counter (contract numbers, enterprise codes).

    `fulfillment.services.common.sequence_next` locks the row, increments it and returns
    the value inside the caller's transaction, so a rolled-back caller leaves no gap and
    two concurrent callers never get the same value. The rows are created by a migration.
    """

    name = models.CharField(_("名称"), max_length=40, primary_key=True)
    last_value = models.PositiveBigIntegerField(_("当前值"), default=0)

    class Meta:
        verbose_name = _("编号序列")
        verbose_name_plural = _("编号序列")

    def __str__(self) -> str:
        return f"{self.name}={self.last_value}"


class TariffSnapshot(models.Model):
    """The tariff as sold (第9条): amounts and price ids copied from the catalog at sale.

    Copied, not referenced, so that a later price revision never changes what an
    enterprise agreed to pay. `tariff` rebuilds the catalog's Tariff value.
    """

    port_fee = MoneyField(_("端口费（元/月）"), null=True, blank=True)
    package_fee = MoneyField(_("包月费（元/月）"), null=True, blank=True)
    included_messages = models.PositiveIntegerField(_("包月条数"), null=True, blank=True)
    overage_price = MoneyField(_("超出单价（元/条）"), null=True, blank=True)
    bundle_price = MoneyField(_("套餐价（元/月）"), null=True, blank=True)
    price_ids = models.JSONField(_("价格编号"), default=list, blank=True)
    tariff_at = models.DateTimeField(_("定价时间"), null=True, blank=True)

    class Meta:
        abstract = True

    def tariff_store(self, tariff: Tariff, *, at) -> None:
        """Copy a catalog tariff into this record."""
        self.port_fee = tariff.port_fee
        self.package_fee = tariff.package_fee
        self.included_messages = tariff.included_messages
        self.overage_price = tariff.overage_price
        self.bundle_price = tariff.bundle_price
        self.price_ids = list(tariff.price_ids)
        self.tariff_at = at

    def tariff_copy_from(self, other: "TariffSnapshot") -> None:
        """Take over another record's stored tariff (order item → subscription)."""
        for name in (
            "port_fee",
            "package_fee",
            "included_messages",
            "overage_price",
            "bundle_price",
            "price_ids",
            "tariff_at",
        ):
            setattr(self, name, getattr(other, name))

    @property
    def tariff(self) -> Tariff | None:
        """The stored tariff, or None when none was stored yet."""
        if self.tariff_at is None:
            return None
        return Tariff(
            port_fee=self.port_fee if self.port_fee is not None else Decimal("0.00"),
            package_fee=self.package_fee if self.package_fee is not None else Decimal("0.00"),
            included_messages=self.included_messages or 0,
            overage_price=(
                self.overage_price if self.overage_price is not None else Decimal("0.00")
            ),
            bundle_price=self.bundle_price,
            price_ids=tuple(self.price_ids or ()),
        )
