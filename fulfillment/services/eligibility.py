"""Eligibility checks run when an order is submitted; each refusal names its rule.

`order_refusals(order)` reads and never writes. An empty list means the order may be
acknowledged; otherwise the order is rejected with every refusal stored on it, so the
enterprise learns all that is wrong at once, not one thing per attempt.

Rules (the `rule` of a refusal, and its stable `code`):
- 产品目录: the offering exists (unknown_offering), is launched (offering_not_launched),
  can be sold on its own and is a MAS product (offering_not_orderable);
- 第9条: it has a complete current tariff (tariff_incomplete);
- 集团客户: the enterprise exists (unknown_enterprise) and is active (enterprise_not_active);
- 第3条: an add item's written notice is complete (notice_incomplete), with a known
  interface type (interface_type_invalid) and a valid access IP (access_ip_invalid);
- 第2条: the CMPP version is one the offering offers (cmpp_version_not_offered);
- 第5条第5款: the service code is applied for in the enterprise's registered province
  (province_mismatch); a requested code exists and is free (requested_code_unavailable);
- 第5条第6款: no other live account or open order uses the access IP (access_ip_in_use);
- 第6条第4款: the enterprise has an approved signature (no_approved_signature);
- 第11条: a change takes effect at least one month after it is requested, unless a
  department head overrode this with a reason (notice_period_too_short);
- 业务实例: the subscription exists, is the enterprise's, is in a state the action
  applies to and has no other open order (unknown_subscription, subscription_state,
  subscription_busy); a modify item changes something (nothing_to_change).
"""

import datetime as dt
import ipaddress
from dataclasses import asdict, dataclass

from dateutil.relativedelta import relativedelta
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from core import clock
from customers.models import Enterprise
from customers.selectors import approved_signature
from product_lifecycle.models import ProductOffering
from product_lifecycle.selectors import offering_tariff

from ..models import CmppAccount, InterfaceType, Order, OrderItem, ServiceCode, Subscription

Action = OrderItem.Action

# Orders whose items still claim their access IP or their subscription.
CLAIMING_STATES = (
    Order.State.ACKNOWLEDGED,
    Order.State.IN_PROGRESS,
    Order.State.PENDING,
    Order.State.HELD,
    Order.State.ASSESSING_CANCELLATION,
)


@dataclass(frozen=True)
class Refusal:
    """Why an order cannot be accepted: the rule, a stable code, a message, the item id."""

    rule: str
    code: str
    message: str
    item: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


def normalized_ip(raw: str) -> str | None:
    """The canonical text of a usable unicast IP address, or None.

    Private addresses are fine (enterprises often connect over a private line);
    loopback, unspecified, multicast and link-local addresses are not addresses a MAS
    can be reached from.
    """
    try:
        address = ipaddress.ip_address((raw or "").strip())
    except ValueError:
        return None
    if address.is_loopback or address.is_unspecified or address.is_multicast:
        return None
    if address.is_link_local or address.is_reserved:
        return None
    return str(address)


def notice_deadline(requested_at: dt.datetime) -> dt.date:
    """The earliest effective date of a change requested on `requested_at` (第11条)."""
    return timezone.localdate(requested_at) + relativedelta(months=1)


def order_refusals(order: Order) -> list[Refusal]:
    """Every reason the order cannot be accepted now (empty when it can)."""
    refusals: list[Refusal] = []
    items = list(order.items.select_related("offering", "subscription", "contact").order_by("id"))
    refusals += _enterprise_refusals(order, items)
    seen_ips: dict[str, str] = {}
    for item in items:
        refusals += _item_refusals(order, item, seen_ips)
    return refusals


def _enterprise_refusals(order: Order, items: list[OrderItem]) -> list[Refusal]:
    enterprise = order.enterprise
    if enterprise is None:
        return [
            Refusal(
                "集团客户",
                "unknown_enterprise",
                _("未知的集团客户“%(ref)s”") % {"ref": order.enterprise_ref or "—"},
            )
        ]
    refusals = []
    needs_active = {Action.ADD, Action.MODIFY, Action.RESUME}
    if enterprise.status != Enterprise.Status.ACTIVE and any(
        item.action in needs_active for item in items
    ):
        refusals.append(
            Refusal(
                "集团客户",
                "enterprise_not_active",
                _("集团客户“%(name)s”不是在网状态（当前：%(status)s）")
                % {"name": enterprise.name, "status": enterprise.get_status_display()},
            )
        )
    if any(item.action == Action.ADD for item in items) and (
        approved_signature(enterprise.pk) is None
    ):
        refusals.append(
            Refusal(
                "第6条第4款",
                "no_approved_signature",
                _("集团客户“%(name)s”没有审核通过的短信签名") % {"name": enterprise.name},
            )
        )
    return refusals


def _item_refusals(order: Order, item: OrderItem, seen_ips: dict[str, str]) -> list[Refusal]:
    refusals: list[Refusal] = []

    def refuse(rule: str, code: str, message: str) -> None:
        refusals.append(Refusal(rule, code, message, item.item_id))

    if item.action == Action.NO_CHANGE:
        return refusals

    offering = item.offering
    if item.action in (Action.ADD, Action.MODIFY) and (item.offering_ref or offering):
        if offering is None:
            refuse(
                "产品目录",
                "unknown_offering",
                _("未知的产品“%(ref)s”") % {"ref": item.offering_ref},
            )
        else:
            _offering_refusals(offering, refuse)
    elif item.action == Action.ADD:
        refuse("产品目录", "unknown_offering", _("新装须指明订购的产品"))

    subscription = None
    if item.action != Action.ADD:
        subscription = _subscription_refusals(order, item, refuse)

    if item.action == Action.ADD:
        _notice_refusals(order, item, refuse)
        _province_refusals(order, item, refuse)
    if item.cmpp_version or item.action == Action.ADD:
        version_offering = offering or (subscription.offering if subscription else None)
        if version_offering is not None and item.cmpp_version not in (
            version_offering.cmpp_versions or []
        ):
            refuse(
                "第2条",
                "cmpp_version_not_offered",
                _("产品“%(name)s”不提供 CMPP %(version)s（可选：%(offered)s）")
                % {
                    "name": version_offering.name,
                    "version": item.cmpp_version or "—",
                    "offered": "、".join(version_offering.cmpp_versions or []) or "—",
                },
            )
    if item.access_ip and item.action in (Action.ADD, Action.MODIFY):
        _ip_refusals(order, item, subscription, seen_ips, refuse)
    if item.action == Action.MODIFY and subscription is not None:
        _change_refusals(order, item, subscription, refuse)
    return refusals


def _offering_refusals(offering: ProductOffering, refuse) -> None:
    if not offering.is_orderable:
        refuse(
            "产品目录",
            "offering_not_launched",
            _("产品“%(name)s”未上线（当前：%(status)s），不能订购")
            % {"name": offering.name, "status": offering.get_lifecycle_status_display()},
        )
        return
    if not offering.is_sellable or not offering.licensed_rate or not offering.max_links:
        refuse(
            "产品目录",
            "offering_not_orderable",
            _("产品“%(name)s”不是可单独订购的集团短信 MAS 产品") % {"name": offering.name},
        )
        return
    try:
        offering_tariff(offering.pk, at=clock.now())
    except ValidationError as exc:
        refuse("第9条", "tariff_incomplete", "；".join(exc.messages))


def _subscription_refusals(order: Order, item: OrderItem, refuse) -> Subscription | None:
    subscription = item.subscription
    if subscription is None or (
        order.enterprise_id is not None and subscription.enterprise_id != order.enterprise_id
    ):
        refuse(
            "业务实例",
            "unknown_subscription",
            _("未知的业务实例“%(ref)s”") % {"ref": item.subscription_ref or "—"},
        )
        return None
    allowed = {
        Action.MODIFY: Subscription.LIVE_STATES,
        Action.DELETE: Subscription.LIVE_STATES,
        Action.SUSPEND: (Subscription.State.ACTIVE,),
        Action.RESUME: (Subscription.State.SUSPENDED,),
    }[item.action]
    if subscription.state not in allowed:
        refuse(
            "业务实例",
            "subscription_state",
            _("业务实例 %(sub)s 当前为“%(state)s”，不能%(action)s")
            % {
                "sub": subscription.service_code.code,
                "state": subscription.get_state_display(),
                "action": item.get_action_display(),
            },
        )
    busy = (
        OrderItem.objects.filter(subscription=subscription, order__state__in=CLAIMING_STATES)
        .exclude(order=order)
        .values_list("order_id", flat=True)
        .first()
    )
    if busy:
        refuse(
            "业务实例",
            "subscription_busy",
            _("业务实例 %(sub)s 已有在途订单 #%(order)s")
            % {"sub": subscription.service_code.code, "order": busy},
        )
    return subscription


def _notice_refusals(order: Order, item: OrderItem, refuse) -> None:
    missing = []
    if not item.interface_type:
        missing.append(_("接口类型"))
    if not item.access_ip:
        missing.append(_("接入地址"))
    if not (item.contact_name or (item.contact and item.contact.name)):
        missing.append(_("联系人"))
    if order.requested_start_at is None:
        missing.append(_("开通时间"))
    if missing:
        refuse(
            "第3条",
            "notice_incomplete",
            _("开通业务的书面通知须写明：%(missing)s") % {"missing": "、".join(missing)},
        )
    if item.interface_type and item.interface_type not in InterfaceType.values:
        refuse(
            "第3条",
            "interface_type_invalid",
            _("未知的接口类型“%(value)s”（可选：%(choices)s）")
            % {"value": item.interface_type, "choices": "、".join(InterfaceType.values)},
        )
    if item.contact and order.enterprise_id and item.contact.enterprise_id != order.enterprise_id:
        refuse("第3条", "notice_incomplete", _("联系人不属于该集团客户"))


def _province_refusals(order: Order, item: OrderItem, refuse) -> None:
    enterprise = order.enterprise
    province = item.code_province
    if item.requested_code:
        code = ServiceCode.objects.filter(code=item.requested_code).first()
        if code is None or code.state != ServiceCode.State.AVAILABLE:
            refuse(
                "号码资源",
                "requested_code_unavailable",
                _("指定的服务代码 %(code)s 不在号码池中或不空闲") % {"code": item.requested_code},
            )
        else:
            province = code.province
    if enterprise is not None and province != enterprise.province:
        refuse(
            "第5条第5款",
            "province_mismatch",
            _(
                "服务代码须在企业注册地所在省份申请：企业注册于%(registered)s，申请的是%(requested)s的服务代码"
            )
            % {
                "registered": enterprise.get_province_display(),
                "requested": dict(ServiceCode._meta.get_field("province").choices).get(
                    province, province
                ),
            },
        )


def _ip_refusals(order, item, subscription, seen_ips: dict[str, str], refuse) -> None:
    address = normalized_ip(item.access_ip)
    if address is None:
        refuse(
            "第3条",
            "access_ip_invalid",
            _("接入地址“%(value)s”不是有效的 IP 地址") % {"value": item.access_ip},
        )
        return
    if subscription is not None and address == subscription.access_ip:
        return
    in_use = _ip_holder(address, order)
    if address in seen_ips:
        in_use = _("本订单的第 %(item)s 项") % {"item": seen_ips[address]}
    seen_ips[address] = item.item_id
    if in_use:
        refuse(
            "第5条第6款",
            "access_ip_in_use",
            _("同一 IP 地址只能对应一个服务代码或账号：%(ip)s 已用于%(holder)s")
            % {"ip": address, "holder": in_use},
        )


def _ip_holder(address: str, order: Order) -> str:
    """A description of what already uses `address`, or ""."""
    account = (
        CmppAccount.objects.exclude(state=CmppAccount.State.REVOKED)
        .filter(access_ip=address)
        .first()
    )
    if account is not None:
        return _("服务代码 %(code)s") % {"code": account.service_code}
    other = (
        OrderItem.objects.filter(
            access_ip=address,
            action__in=[Action.ADD, Action.MODIFY],
            order__state__in=CLAIMING_STATES,
        )
        .exclude(order=order)
        .values_list("order_id", flat=True)
        .first()
    )
    if other:
        return _("在途订单 #%(order)s") % {"order": other}
    return ""


def _change_refusals(order: Order, item: OrderItem, subscription: Subscription, refuse) -> None:
    changes = change_list(item, subscription)
    if not changes:
        refuse("业务实例", "nothing_to_change", _("变更未指明任何与现状不同的内容"))
    if order.notice_override_at is not None:
        return
    now = clock.now()
    earliest = notice_deadline(now)
    if order.requested_start_at is None or timezone.localdate(order.requested_start_at) < earliest:
        refuse(
            "第11条",
            "notice_period_too_short",
            _("业务变更须至少提前一个月书面提出：最早可于 %(date)s 生效（部门负责人可特批）")
            % {"date": earliest.isoformat()},
        )


def change_list(item: OrderItem, subscription: Subscription) -> list[dict]:
    """What a modify item changes on the subscription: [{field, label, before, after}]."""
    changes = []

    def compare(field: str, label: str, before, after, shown_before=None, shown_after=None):
        if after in (None, "") or after == before:
            return
        changes.append(
            {
                "field": field,
                "label": str(label),
                "before": str(shown_before if shown_before is not None else before),
                "after": str(shown_after if shown_after is not None else after),
            }
        )

    if item.offering_id and item.offering_id != subscription.offering_id:
        compare(
            "offering",
            _("产品"),
            subscription.offering_id,
            item.offering_id,
            subscription.offering.name,
            item.offering.name,
        )
    compare("cmpp_version", _("CMPP 版本"), subscription.cmpp_version, item.cmpp_version)
    compare(
        "access_ip",
        _("接入地址"),
        subscription.access_ip,
        normalized_ip(item.access_ip) or item.access_ip,
    )
    compare(
        "interface_type",
        _("接口类型"),
        subscription.interface_type,
        item.interface_type,
        subscription.get_interface_type_display(),
        item.get_interface_type_display(),
    )
    return changes
