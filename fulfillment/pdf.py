"""The printable contract summary (PDF), filled from the contract, its subscription and the
add order's written notice (第3条). Chinese text uses reportlab's built-in CID font
STSong-Light, so no font file has to be installed."""

import io
from xml.sax.saxutils import escape

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from .models import Contract

FONT = "STSong-Light"
_registered = False


def _font() -> str:
    global _registered
    if not _registered:
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
        _registered = True
    return FONT


def _local(value) -> str:
    if value is None:
        return "—"
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")


def _yuan(value) -> str:
    return "—" if value is None else f"¥{value}"


def contract_summary_pdf(contract: Contract) -> bytes:
    """The contract summary as PDF bytes."""
    font = _font()
    title = ParagraphStyle("title", fontName=font, fontSize=16, leading=22, alignment=1)
    heading = ParagraphStyle("heading", fontName=font, fontSize=12, leading=18, spaceBefore=6)
    body = ParagraphStyle("body", fontName=font, fontSize=9.5, leading=14)

    subscription = contract.subscription
    enterprise = contract.enterprise
    order = subscription.order
    item = order.items.filter(subscription=subscription, action="add").first()
    account = getattr(subscription, "account", None)
    code = subscription.service_code
    port = subscription.port

    def table(rows, label_width=42):
        data = [[Paragraph(escape(str(k)), body), Paragraph(escape(str(v)), body)] for k, v in rows]
        t = Table(data, colWidths=[label_width * mm, (170 - label_width) * mm])
        t.setStyle(
            TableStyle(
                [
                    ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                    ("BACKGROUND", (0, 0), (0, -1), colors.Color(0.94, 0.94, 0.94)),
                    ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ]
            )
        )
        return t

    story = [
        Paragraph(_("集团短信 MAS 业务协议摘要"), title),
        Spacer(1, 4 * mm),
        table(
            [
                (_("协议编号"), contract.number),
                (_("状态"), contract.get_state_display()),
                (_("签订日期"), contract.signed_on.isoformat()),
                (_("开通日期"), contract.starts_on.isoformat()),
                (
                    _("本期期限"),
                    f"{contract.term_start.isoformat()} 至 {contract.expires_on.isoformat()}",
                ),
                (_("已续约"), _("%(n)d 次") % {"n": contract.renewals}),
            ]
        ),
        Paragraph(_("甲方（集团客户）"), heading),
        table(
            [
                (_("名称"), enterprise.name),
                (_("统一社会信用代码"), enterprise.credit_code or "—"),
                (_("地址"), enterprise.address or enterprise.city or "—"),
                (_("联系人"), f"{subscription.contact_name} {subscription.contact_phone}".strip()),
                (_("客户经理"), str(enterprise.account_manager or "—")),
            ]
        ),
        Paragraph(_("乙方（运营商）"), heading),
        table([(_("名称"), settings.FULFILLMENT_OPERATOR_NAME)]),
        Paragraph(_("书面开通通知（第3条）"), heading),
        table(
            [
                (_("订单"), f"#{order.pk}（{_local(order.order_date)}）"),
                (_("接口类型"), subscription.get_interface_type_display()),
                (_("接入地址"), subscription.access_ip),
                (_("联系人"), item.contact_name if item else subscription.contact_name),
                (_("要求开通时间"), _local(order.requested_start_at)),
            ]
        ),
        Paragraph(_("业务与资源（第2条）"), heading),
        table(
            [
                (_("产品"), subscription.offering.name),
                (_("短信服务代码"), code.code),
                (_("扩展码"), code.extension_range),
                (_("企业代码（SP_Id）"), account.sp_id if account else "—"),
                (_("协议版本"), f"CMPP {subscription.cmpp_version}"),
                (_("许可速率"), _("%(n)d 条/秒") % {"n": subscription.licensed_rate}),
                (_("连接数"), str(subscription.max_links)),
                (_("MAS 端口"), f"{port.server.name} #{port.number}（{port.server.location}）"),
            ]
        ),
        Paragraph(_("资费（第9条，元，含税）"), heading),
        table(
            [
                (_("独立短信端口费"), f"{_yuan(subscription.port_fee)} / 月"),
                (
                    _("下行短信包月费"),
                    _("%(fee)s / 月，含 %(n)s 条")
                    % {"fee": _yuan(subscription.package_fee), "n": subscription.included_messages},
                ),
                (_("超出部分单价"), f"{_yuan(subscription.overage_price)} / 条"),
                *(
                    [(_("套餐价"), f"{_yuan(subscription.bundle_price)} / 月")]
                    if subscription.bundle_price is not None
                    else []
                ),
                (_("付费方式"), _("按季预付，每季度开始前缴清（第10条）")),
            ]
        ),
        Paragraph(_("期限与续约（第17条）"), heading),
        Paragraph(
            _(
                "本协议自双方签字盖章之日起生效，有效期自业务开通之日起一年。期满前一个月任何一方"
                "未书面通知不续约的，自动续约一年，续约次数不限。"
            ),
            body,
        ),
    ]
    if contract.non_renewal_noticed_on:
        story.append(
            Paragraph(
                _("不续约通知：%(party)s于 %(date)s 书面通知期满不续约。")
                % {
                    "party": contract.get_non_renewal_party_display(),
                    "date": contract.non_renewal_noticed_on.isoformat(),
                },
                body,
            )
        )
    if contract.state == Contract.State.TERMINATED:
        story.append(
            Paragraph(
                _("提前终止（第18条）：%(reason)s，%(date)s。%(detail)s")
                % {
                    "reason": contract.get_termination_reason_display(),
                    "date": contract.ended_on.isoformat() if contract.ended_on else "—",
                    "detail": escape(contract.termination_detail),
                },
                body,
            )
        )
    supplements = list(contract.supplements.order_by("sequence"))
    if supplements:
        story.append(Paragraph(_("补充协议（第22条）"), heading))
        story.append(
            table(
                [
                    (s.number, f"{s.effective_on.isoformat()} 生效：{s.summary}")
                    for s in supplements
                ],
                label_width=62,
            )
        )
    story += [
        Spacer(1, 10 * mm),
        Table(
            [[Paragraph(_("甲方（盖章）："), body), Paragraph(_("乙方（盖章）："), body)]],
            colWidths=[85 * mm, 85 * mm],
        ),
    ]
    buffer = io.BytesIO()
    SimpleDocTemplate(
        buffer,
        pagesize=A4,
        title=contract.number,
        author=settings.FULFILLMENT_OPERATOR_NAME,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
    ).build(story)
    return buffer.getvalue()
