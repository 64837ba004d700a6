"""Invoice and written-demand (催款函) PDFs with reportlab. Chinese text uses the built-in
CID font STSong-Light, so no font file has to be installed. Amounts are given in figures
and in Chinese capital numerals (core.money.capital_amount)."""

import datetime as dt
import io
from decimal import Decimal
from xml.sax.saxutils import escape

from django.conf import settings
from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from core.money import capital_amount

from .models import Invoice

FONT = "STSong-Light"
_registered = False


def _font() -> str:
    global _registered
    if not _registered:
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
        _registered = True
    return FONT


def _styles():
    font = _font()
    return (
        ParagraphStyle("title", fontName=font, fontSize=16, leading=22, alignment=1),
        ParagraphStyle("body", fontName=font, fontSize=9, leading=13),
        ParagraphStyle("small", fontName=font, fontSize=7.5, leading=10),
    )


def _p(text, style) -> Paragraph:
    return Paragraph(escape(str(text)), style)


def _grid(data, widths, header=True):
    table = Table(data, colWidths=[w * mm for w in widths], repeatRows=1 if header else 0)
    style = [
        ("FONTNAME", (0, 0), (-1, -1), FONT),
        ("FONTSIZE", (0, 0), (-1, -1), 7.5),
        ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
    ]
    if header:
        style.append(("BACKGROUND", (0, 0), (-1, 0), colors.Color(0.92, 0.92, 0.92)))
    table.setStyle(TableStyle(style))
    return table


def _parties(invoice: Invoice, body) -> Table:
    enterprise = invoice.account.enterprise
    rows = [
        (_("收款方（乙方）"), settings.FULFILLMENT_OPERATOR_NAME),
        (_("纳税人识别号"), settings.BILLING_OPERATOR_TAX_ID),
        (_("地址"), settings.BILLING_OPERATOR_ADDRESS),
        (_("付款方（甲方）"), enterprise.name),
        (_("统一社会信用代码"), enterprise.credit_code or "—"),
        (_("账务账户"), invoice.account.number),
        (_("甲方地址"), enterprise.address or "—"),
    ]
    data = [[_p(k, body), _p(v, body)] for k, v in rows]
    return _grid(data, [38, 132], header=False)


def invoice_pdf(invoice: Invoice) -> bytes:
    """The invoice as PDF bytes: parties, lines with tax, totals in figures and capitals,
    due date and how to pay."""
    title, body, small = _styles()
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
        title=f"{_('账单')} {invoice.number}",
    )
    head = [
        [
            _p(_("账单编号"), body),
            _p(invoice.number, body),
            _p(_("出账日期"), body),
            _p(invoice.issued_on or "—", body),
        ],
        [
            _p(_("账期"), body),
            _p(f"{invoice.period_start} — {invoice.period_end - dt.timedelta(days=1)}", body),
            _p(_("缴费截止日"), body),
            _p(invoice.due_on, body),
        ],
        [
            _p(_("账单类型"), body),
            _p(invoice.get_kind_display(), body),
            _p(_("状态"), body),
            _p(invoice.get_state_display(), body),
        ],
    ]
    lines = [
        [
            _p(h, body)
            for h in (_("项目"), _("数量"), _("单价"), _("税率"), _("税额"), _("金额（含税）"))
        ]
    ]
    for line in invoice.lines.order_by("period_start", "subscription_id", "kind", "id"):
        quantity = line.quantity.quantize(Decimal("0.0001")).normalize()
        # Plain strings are far cheaper to lay out than Paragraphs; only long text wraps.
        text = line.description
        lines.append(
            [
                _p(text, small) if len(text) > 34 else text,
                f"{quantity:f}",
                f"{line.unit_price}",
                f"{(line.tax_rate * 100).normalize():f}%",
                f"{line.tax_amount}",
                f"{line.amount}",
            ]
        )
    totals = [
        [_p(_("税额合计"), body), _p(f"¥{invoice.tax_total}", body)],
        [_p(_("其中滞纳金"), body), _p(f"¥{invoice.late_fee_total}", body)],
        [_p(_("合计（含税）"), body), _p(f"¥{invoice.total}", body)],
        [_p(_("合计大写"), body), _p(capital_amount(invoice.total), body)],
    ]
    story = [
        _p(_("集团短信 MAS 业务账单"), title),
        Spacer(1, 4 * mm),
        _grid(head, [24, 61, 24, 61], header=False),
        Spacer(1, 3 * mm),
        _parties(invoice, body),
        Spacer(1, 3 * mm),
        _grid(lines, [80, 18, 18, 14, 18, 22]),
        Spacer(1, 3 * mm),
        _grid(totals, [38, 132], header=False),
        Spacer(1, 4 * mm),
        _p(
            _(
                "说明：金额单位为人民币元，含税；每个计费短信分段计为一条短信。"
                "本账单按季度预付（第10条），请于缴费截止日前付清；逾期每日按欠费本金的 0.3%% "
                "计收滞纳金，滞纳金不计复利（第14条）。"
            ).replace("%%", "%"),
            small,
        ),
        Spacer(1, 2 * mm),
        _p(
            _(
                "付款方式：现金或银行托收（第9条第2款）。转账请汇至：%(bank)s，账号 %(acct)s，"
                "户名 %(name)s，附言请注明账单编号。"
            )
            % {
                "bank": settings.BILLING_OPERATOR_BANK,
                "acct": settings.BILLING_OPERATOR_ACCOUNT,
                "name": settings.FULFILLMENT_OPERATOR_NAME,
            },
            small,
        ),
    ]
    doc.build(story)
    return buffer.getvalue()


def demand_letter_pdf(invoice: Invoice, *, on: dt.date) -> bytes:
    """The written demand for payment (催款函, 第14条) of an overdue invoice."""
    title, body, _small = _styles()
    enterprise = invoice.account.enterprise
    amount = invoice.outstanding
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer, pagesize=A4, leftMargin=25 * mm, rightMargin=25 * mm, title=_("催款函")
    )
    text = _(
        "%(name)s：\n贵单位集团短信 MAS 业务账单 %(number)s（缴费截止日 %(due)s）尚欠 "
        "%(amount)s 元（大写：%(capital)s）未缴。根据双方协议第14条，逾期每日按欠费本金的 0.3%% "
        "计收滞纳金。请于本函发出之日起 %(days)s 日内缴清欠款；逾期未缴的，我方将依约暂停服务"
        "并可解除协议，欠款继续追缴。"
    ) % {
        "name": enterprise.name,
        "number": invoice.number,
        "due": invoice.due_on,
        "amount": amount,
        "capital": capital_amount(amount),
        "days": settings.BILLING_DEMAND_RESPONSE_DAYS,
    }
    story = [_p(_("催款函"), title), Spacer(1, 6 * mm)]
    story += [_p(part, body) for part in text.split("\n")]
    story += [
        Spacer(1, 10 * mm),
        _p(settings.FULFILLMENT_OPERATOR_NAME, body),
        _p(on.isoformat(), body),
    ]
    doc.build(story)
    return buffer.getvalue()
