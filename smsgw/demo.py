"""Demo data of the SMS pipeline: forbidden terms, the operator account, extensions,
a few messages in the outbox (sent for real once `make run` starts the simulator and the
sender) and 40 days of usage history for the demo subscriptions."""

import datetime as dt
import random

from django.conf import settings

from core import clock, crypto

from .models import DailyUsage, Extension, ForbiddenTerm, OperatorAccount, SendRequest

C = ForbiddenTerm.Category
TERMS = [
    ("法轮功", C.RELIGION),
    ("颠覆国家政权", C.NATIONAL_SECURITY),
    ("赌博", C.OBSCENITY),
    ("博彩", C.OBSCENITY),
    ("色情", C.OBSCENITY),
    ("代开发票", C.FRAUD),
    ("刷单返利", C.FRAUD),
    ("办证", C.FRAUD),
    ("枪支", C.OTHER_ILLEGAL),
    ("民族仇恨", C.ETHNIC_HATRED),
    ("谣言", C.RUMOUR),
]
OPERATOR_SP_ID = "999001"
DEMO_TEXTS = [
    "【演示】您的快件已到达郑州东站营业部，请凭取件码 3721 取件。",
    "尊敬的客户，您预约的售后服务将于明天上午9点上门，如需改约请回复1。",
]


def seed() -> list[str]:
    """Idempotent: creates what is missing, returns lines to print."""
    lines = []
    for term, category in TERMS:
        ForbiddenTerm.objects.get_or_create(term=term, defaults={"category": category})
    lines.append(f"禁用词 {ForbiddenTerm.objects.count()} 个")
    if not OperatorAccount.objects.filter(sp_id=OPERATOR_SP_ID).exists():
        OperatorAccount.objects.create(
            name="郑州分公司客服通知",
            sp_id=OPERATOR_SP_ID,
            secret_encrypted=crypto.encrypt("operator-demo-secret"),
            service_code="10658600",
            signature="【中国移动】",
            licensed_rate=100,
            ismg_host=settings.FULFILLMENT_ISMG_HOST,
            ismg_port=settings.FULFILLMENT_ISMG_PORT,
        )
    lines.append(f"运营商服务账号 SP {OPERATOR_SP_ID}（维护通知、缴费提醒）")
    lines.extend(_subscriptions())
    return lines


def _subscriptions() -> list[str]:
    from customers.models import RegisteredRecipient
    from fulfillment.models import Subscription

    from .services import SendRefused, sms_enqueue

    lines = []
    subscriptions = list(
        Subscription.objects.filter(state=Subscription.State.ACTIVE)
        .select_related("service_code", "enterprise")
        .order_by("id")
    )
    today = clock.today()
    rng = random.Random(6)  # noqa: S311 - demo figures, seeded on purpose
    for index, subscription in enumerate(subscriptions):
        if not DailyUsage.objects.filter(subscription=subscription).exists():
            base = rng.randint(200, 3000)
            rows = []
            for back in range(40, 0, -1):
                day = today - dt.timedelta(days=back)
                volume = int(base * rng.uniform(0.7, 1.3))
                if index == 1 and back <= 6:
                    volume = 0  # a customer gone quiet: the churn analysis flags it
                if index == 2 and back <= 7:
                    volume = int(volume * 0.2)  # a sharp drop
                failed = volume // 50
                rows.append(
                    DailyUsage(
                        subscription=subscription,
                        day=day,
                        submitted_segments=volume,
                        delivered_segments=volume - failed,
                        failed_segments=failed,
                    )
                )
            DailyUsage.objects.bulk_create(rows)
    if subscriptions:
        first = subscriptions[0]
        for extension, department in (("01", "销售部"), ("02", "客服部")):
            Extension.objects.get_or_create(
                subscription=first, extension=extension, defaults={"department": department}
            )
        numbers = list(
            RegisteredRecipient.objects.filter(
                enterprise_id=first.enterprise_id, opted_out_at__isnull=True
            ).values_list("msisdn", flat=True)[:5]
        )
        for n, text in enumerate(DEMO_TEXTS, 1):
            key = f"demo-{n}"
            if numbers and not SendRequest.objects.filter(idempotency_key=key).exists():
                try:
                    sms_enqueue(
                        subscription_id=first.pk,
                        recipients=numbers,
                        text=text,
                        channel=SendRequest.Channel.ADMIN,
                        idempotency_key=key,
                        extension="02" if n == 2 else "",
                    )
                except SendRefused as exc:
                    lines.append(f"演示短信未发送：{exc.messages[0]}")
        lines.append(
            f"演示短信：{first.enterprise.name} 的业务 {first.service_code.code}，"
            "make run 启动模拟网关和发送进程后送达"
        )
    lines.append(f"{len(subscriptions)} 个业务实例已有40天用量记录")
    return lines
