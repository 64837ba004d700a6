"""Demo data for assurance, built through the services (run by `seed_demo`).

Tickets in every situation the NOC meets, with clocks set back in time so the queue
shows them all: a breached local-line fault nobody took, one at 80 % being worked on,
a fresh backbone fault, one waiting for the enterprise (clock paused), one resolved
awaiting the enterprise's answer, a closed one and one on the enterprise's own
equipment (not covered). Also a shift lead to escalate to, a business calendar, and a
maintenance window announced three days ahead (its notices go out through the worker)
plus a draft one. Idempotent: nothing is added once the demo tickets exist.
"""

import datetime as dt

from core import clock
from core.models import User
from customers.models import Enterprise
from fulfillment.models import MasServer, Subscription

from . import services
from .models import BusinessCalendar, CalendarDay, EscalationContact, MaintenanceWindow, Ticket

MARKER = "demo"
H = dt.timedelta(hours=1)
# (enterprise, hours ago, fault class, ticket type, severity, title, what happens next)
TICKETS = (
    ("洛阳牡丹城商贸有限公司", 7, "local_line", "connectivity", "critical", "网关无法登录", "none"),
    ("郑州豫信物流有限公司", 5, "local_line", "delivery", "major", "状态报告大量超时", "claim"),
    (
        "河南中原智联科技有限公司",
        2,
        "backbone",
        "connectivity",
        "major",
        "部分号段发送失败",
        "none",
    ),
    ("开封宋都文化旅游集团有限公司", 3, "local_line", "mo", "minor", "收不到上行回复", "pend"),
    ("新乡豫北医疗器械股份有限公司", 4, "mas", "performance", "minor", "发送速率偏低", "resolve"),
    ("安阳殷都钢铁有限责任公司", 30, "local_line", "connectivity", "major", "链路闪断", "close"),
    ("平顶山鹰城能源有限公司", 1, "enterprise_side", "other", "minor", "企业防火墙拦截", "claim"),
)


def _subscription(name: str) -> Subscription | None:
    return (
        Subscription.objects.filter(enterprise__name=name, state=Subscription.State.ACTIVE)
        .order_by("pk")
        .first()
    )


def _tickets(noc: User) -> int:
    real_now = clock.now()
    created = 0
    try:
        for name, hours, fault_class, ticket_type, severity, title, then in TICKETS:
            subscription = _subscription(name)
            if subscription is None:
                continue
            clock.freeze(real_now - hours * H)
            ticket = services.ticket_create(
                by=None,
                description=f"{title}，请尽快处理。",
                ticket_type=ticket_type,
                severity=severity,
                channel=Ticket.Channel.PORTAL,
                name=title,
                subscription_ids=[subscription.pk],
                fault_class_code=fault_class,
                reporter_name="企业管理员",
                external_id=f"{MARKER}-{created + 1}",
            )
            created += 1
            if then == "none":
                continue
            clock.advance(minutes=20)
            services.ticket_claim(ticket_id=ticket.pk, by=noc)
            services.ticket_note_add(
                ticket_id=ticket.pk, by=noc, text="已受理，正在排查。", public=True
            )
            if then == "pend":
                clock.advance(minutes=40)
                services.ticket_pend(ticket_id=ticket.pk, by=noc, reason="请提供客户端日志")
            elif then in ("resolve", "close"):
                clock.advance(hours=2)
                services.ticket_resolve(
                    ticket_id=ticket.pk, by=noc, resolution="已调整端口配置，请确认。"
                )
                if then == "close":
                    clock.advance(hours=1)
                    services.ticket_accept_resolution(ticket_id=ticket.pk, by=None)
    finally:
        clock.unfreeze()
    services.sla_check_due()
    return created


def _maintenance(noc: User) -> int:
    if MaintenanceWindow.objects.exists():
        return 0
    now = clock.now().replace(minute=0, second=0, microsecond=0)
    server = MasServer.objects.filter(name="郑州MAS-02").first()
    other = MasServer.objects.filter(name="洛阳MAS-01").first()
    count = 0
    if server is not None:
        window = services.maintenance_create(
            by=noc,
            title="郑州MAS-02 设备割接",
            kind=MaintenanceWindow.Kind.CUTOVER,
            starts_at=now + 72 * H,
            ends_at=now + 74 * H,
            description="更换交换机，期间短信业务中断约 30 分钟。",
            server_ids=[server.pk],
        )
        services.maintenance_announce(window_id=window.pk, by=noc)
        count += 1
    if other is not None:
        services.maintenance_create(
            by=noc,
            title="洛阳MAS-01 线路维护",
            kind=MaintenanceWindow.Kind.LINE_MAINTENANCE,
            starts_at=now + 24 * 7 * H,
            ends_at=now + 24 * 7 * H + 3 * H,
            server_ids=[other.pk],
        )
        count += 1
    return count


def seed() -> list[str]:
    """Create the demo escalation contact, calendar, tickets and maintenance windows."""
    if not EscalationContact.objects.exists():
        EscalationContact.objects.create(
            level=1, name="网络维护值班长", email="noc-lead@mas.example.cn", mobile="13803710001"
        )
    calendar, made = BusinessCalendar.objects.get_or_create(name="河南移动工作日")
    if made:
        for day, working, label in (
            (dt.date(2027, 1, 1), False, "元旦"),
            (dt.date(2027, 2, 6), False, "春节"),
            (dt.date(2027, 2, 7), False, "春节"),
            (dt.date(2027, 2, 20), True, "春节调休"),
        ):
            CalendarDay.objects.create(calendar=calendar, date=day, is_working=working, name=label)
    noc = User.objects.filter(username="noc").first()
    if noc is None or not Enterprise.objects.exists():
        return ["缺少演示用户或企业，跳过故障保障演示数据"]
    if Ticket.objects.filter(external_id__startswith=f"{MARKER}-").exists():
        return ["故障保障演示数据已存在"]
    tickets = _tickets(noc)
    windows = _maintenance(noc)
    return [
        f"故障工单 {tickets} 张（超时、预警、暂停、待确认各有示例），计划维护 {windows} 项；"
        "网络维护队列：/admin/assurance/ticket/queue/（用户 noc）"
    ]
