"""Demo data for fulfillment, built through the services (run by `seed_demo`).

A pool of 1069 codes in Henan, MAS servers in Zhengzhou and Luoyang whose ISMG link is
the bundled simulator (FULFILLMENT_ISMG_HOST/PORT), completed add orders that give most
demo enterprises an active subscription with a CMPP account (each its own access IP),
plus the cases a manager meets: an order waiting for the enterprise, a rejected one
(the branch reuses its parent's IP and has no approved signature) and a change booked
for a later date. The accounts' secrets are stored encrypted for the sender and are
printed nowhere: a manager displays each once in the admin.
"""

import datetime as dt
import logging
from contextlib import contextmanager

from celery import current_app
from dateutil.relativedelta import relativedelta

from core import clock
from customers.models import Enterprise
from product_lifecycle.models import ProductOffering

from . import services
from .models import CmppAccount, MasServer, Order, ServiceCode, ServiceCodeBlock, Subscription

BLOCKS = (
    ("106903710000", "106903710199", 6, "郑州号段（2026年第一批）"),
    ("106903790000", "106903790099", 6, "洛阳号段（2026年第一批）"),
)
SERVERS = (
    ("郑州MAS-01", "郑州市", 64, 32),
    ("郑州MAS-02", "郑州市", 64, 16),
    ("洛阳MAS-01", "洛阳市", 32, 16),
)
TIERS = ("集团短信MAS 基础版", "集团短信MAS 标准版", "集团短信MAS 旗舰版")
INTERFACES = ("cmpp", "http", "webservice", "database")
# Enterprises of customers.demo that get an active subscription, with their tier.
ACTIVE = (
    ("郑州豫信物流有限公司", 1),
    ("河南中原智联科技有限公司", 2),
    ("洛阳牡丹城商贸有限公司", 0),
    ("开封宋都文化旅游集团有限公司", 0),
    ("新乡豫北医疗器械股份有限公司", 1),
    ("许昌瑞祥发制品有限公司", 0),
    ("南阳卧龙农业发展有限公司", 0),
    ("安阳殷都钢铁有限责任公司", 2),
    ("平顶山鹰城能源有限公司", 1),
    ("焦作怀川教育集团有限公司", 0),
)
PENDING = "信阳茶都农产品有限公司"
BRANCH = "郑州豫信物流有限公司洛阳分公司"
MARKER = "演示数据"


@contextmanager
def _tasks_inline():
    """Run the tasks the services queue right away, as the test suite does."""
    previous = current_app.conf.task_always_eager
    trace_log = logging.getLogger("celery.app.trace")
    level = trace_log.level
    current_app.conf.task_always_eager = True
    trace_log.setLevel(logging.WARNING)
    try:
        yield
    finally:
        current_app.conf.task_always_eager = previous
        trace_log.setLevel(level)


def _ip(index: int) -> str:
    return f"10.41.{index}.10"


def _inventory() -> None:
    if not ServiceCodeBlock.objects.exists():
        for first, last, extension, note in BLOCKS:
            services.service_code_block_add(
                first_code=first,
                last_code=last,
                extension_digits=extension,
                province="41",
                note=note,
                by=None,
            )
    for name, location, capacity, ports in SERVERS:
        if not MasServer.objects.filter(name=name).exists():
            services.mas_server_create(
                name=name,
                location=location,
                capacity=capacity,
                ports=ports,
                by=None,
                host=f"mas-{len(name)}.{location}.example.cn",
            )


def _add_order(enterprise: Enterprise, offering: ProductOffering, *, index: int, **kwargs) -> Order:
    contact = enterprise.contacts.filter(is_primary=True).first()
    return services.order_create(
        by=enterprise.account_manager,
        enterprise=enterprise.pk,
        description=MARKER,
        requested_start_at=kwargs.pop("start", clock.now()),
        items=[
            services.ItemRequest(
                action="add",
                offering=offering.pk,
                cmpp_version="2.0" if index % 4 == 3 else "3.0",
                interface_type=INTERFACES[index % len(INTERFACES)],
                access_ip=kwargs.pop("ip", _ip(index)),
                contact_id=contact.pk if contact else None,
            )
        ],
        **kwargs,
    )


def seed() -> list[str]:
    """Create or top up the demo inventory, orders and subscriptions; returns lines to print."""
    _inventory()
    tiers = [ProductOffering.objects.filter(name=name).first() for name in TIERS]
    if not all(tiers):
        return ["产品目录缺少演示产品，跳过业务开通演示数据"]
    with _tasks_inline():
        for index, (name, tier) in enumerate(ACTIVE, start=1):
            enterprise = Enterprise.objects.filter(name=name).first()
            if enterprise is None or enterprise.orders.filter(description=MARKER).exists():
                continue
            _add_order(enterprise, tiers[tier], index=index)

        pending = Enterprise.objects.filter(name=PENDING).first()
        if pending is not None and not pending.orders.filter(description=MARKER).exists():
            order = _add_order(
                pending, tiers[0], index=len(ACTIVE) + 1, start=clock.now() + dt.timedelta(days=7)
            )
            if order.state == Order.State.ACKNOWLEDGED:
                services.order_pend(
                    order_id=order.pk,
                    by=pending.account_manager,
                    reason="等待企业书面确认接入IP地址与开通时间（第3条）",
                )

        branch = Enterprise.objects.filter(name=BRANCH).first()
        if branch is not None and not branch.orders.filter(description=MARKER).exists():
            _add_order(branch, tiers[0], index=1, ip=_ip(1))  # the parent's IP: 第5条第6款

        first = Enterprise.objects.filter(name=ACTIVE[0][0]).first()
        subscription = (
            Subscription.objects.filter(enterprise=first, state=Subscription.State.ACTIVE).first()
            if first
            else None
        )
        if (
            subscription is not None
            and not subscription.order_items.filter(action="modify").exists()
        ):
            services.order_create(
                by=first.account_manager,
                enterprise=first.pk,
                description=MARKER,
                requested_start_at=clock.now() + relativedelta(months=2),
                items=[
                    services.ItemRequest(
                        action="modify", subscription=subscription.pk, offering=tiers[2].pk
                    )
                ],
            )

    codes = ServiceCode.objects.count()
    ports = sum(server.ports.count() for server in MasServer.objects.all())
    states = {state: Order.objects.filter(state=state).count() for state in Order.State.values}
    return [
        f"号码池 {codes} 个服务代码（河南 1069 号段），MAS 服务器 {MasServer.objects.count()} 台、端口 {ports} 个",
        f"在用业务 {Subscription.objects.filter(state='active').count()} 个，"
        f"CMPP 账号 {CmppAccount.objects.filter(state='active').count()} 个"
        "（共享密钥加密保存，可在后台“CMPP 账号”中显示一次）",
        f"订单：已完成 {states['completed']}，待客户补充 {states['pending']}，"
        f"已拒绝 {states['rejected']}，预约变更 {states['acknowledged']}",
    ]
