"""Invoice and written-demand (催款函) PDFs with reportlab. Chinese text uses the built-in
CID font STSong-Light, so no font file has to be installed. Amounts are given in figures
and in Chinese capital numerals (core.money.capital_amount)."""

import contextlib
import datetime as dt
import functools
import io
from decimal import Decimal
from xml.sax.saxutils import escape

from django.conf import settings
from django.utils.translation import gettext as _
from reportlab import rl_config
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import (
    Flowable,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

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


@contextlib.contextmanager
def _binary_streams():
    """Leave the compressed streams binary instead of ASCII85-encoding them (reportlab's
    pure-Python encoder was a tenth of an invoice's rendering time; the PDF is smaller)."""
    before = rl_config.useA85
    rl_config.useA85 = 0
    try:
        yield
    finally:
        rl_config.useA85 = before


_STYLES: tuple | None = None


def _styles():
    """Paragraph styles, made once per process (the CID font is registered once too)."""
    global _STYLES
    if _STYLES is None:
        font = _font()
        _STYLES = (
            ParagraphStyle("title", fontName=font, fontSize=16, leading=22, alignment=1),
            ParagraphStyle("body", fontName=font, fontSize=9, leading=13),
            ParagraphStyle("small", fontName=font, fontSize=7.5, leading=10),
        )
    return _STYLES


LINE_FONT_SIZE = 7.5
LINE_LEADING = 9.5
LINE_PAD = 2.5
_HEADER_FILL = colors.Color(0.92, 0.92, 0.92)


@functools.lru_cache(maxsize=8192)
def _char_width(char: str) -> float:
    return pdfmetrics.stringWidth(char, FONT, LINE_FONT_SIZE)


def _wrap_text(text: str, width: float) -> list[str]:
    """Break `text` into lines no wider than `width` points (character by character, as
    Chinese text has no spaces to break at)."""
    if sum(_char_width(c) for c in text) <= width:
        return [text]
    lines, current, used = [], "", 0.0
    for char in text:
        w = _char_width(char)
        if current and used + w > width:
            lines.append(current)
            current, used = "", 0.0
        current += char
        used += w
    if current:
        lines.append(current)
    return lines


@functools.lru_cache(maxsize=4096)
def _figure_width(value: str) -> float:
    return pdfmetrics.stringWidth(value, FONT, LINE_FONT_SIZE)


class LineTable(Flowable):
    """The invoice's line table drawn straight on the canvas: a platypus Table with a
    Paragraph per long description cost most of an invoice's rendering time. The first
    column wraps, the others are right-aligned figures; the header repeats on each page."""

    def __init__(self, header: list[str], rows: list[list[str]], widths: list[float]):
        super().__init__()
        self.header = header
        self.widths = [w * mm for w in widths]
        text_width = self.widths[0] - 2 * LINE_PAD
        self.rows = [(_wrap_text(row[0], text_width), row[1:]) for row in rows]
        self.header_height = LINE_LEADING + 2 * LINE_PAD

    @classmethod
    def _of(cls, header, rows, widths):
        table = cls.__new__(cls)
        Flowable.__init__(table)
        table.header, table.rows, table.widths = header, rows, widths
        table.header_height = LINE_LEADING + 2 * LINE_PAD
        return table

    @staticmethod
    def _height(row) -> float:
        return len(row[0]) * LINE_LEADING + 2 * LINE_PAD

    def wrap(self, available_width, available_height):
        self.width = sum(self.widths)
        self.height = self.header_height + sum(self._height(r) for r in self.rows)
        return self.width, self.height

    def split(self, available_width, available_height):
        used = self.header_height
        count = 0
        for row in self.rows:
            used += self._height(row)
            if used > available_height:
                break
            count += 1
        if count == 0 or count == len(self.rows):
            return [] if count == 0 else [self]
        return [
            self._of(self.header, self.rows[:count], self.widths),
            self._of(self.header, self.rows[count:], self.widths),
        ]

    def draw(self):
        canvas = self.canv
        widths = self.widths
        width = sum(widths)
        top = self.header_height + sum(self._height(r) for r in self.rows)
        edges = [0.0]
        for w in widths:
            edges.append(edges[-1] + w)
        canvas.saveState()
        canvas.setFillColor(_HEADER_FILL)
        canvas.rect(0, top - self.header_height, width, self.header_height, stroke=0, fill=1)
        canvas.setFillColor(colors.black)
        # One text object for the whole table, positioned with plain Tm operators:
        # drawString makes a text object per cell and formats every coordinate with
        # reportlab's pure-Python fp_str, which was most of the drawing time.
        text = canvas.beginText()
        text.setFont(FONT, LINE_FONT_SIZE)
        code = text._code
        font = pdfmetrics.getFont(FONT)
        encoded: dict[str, str] = {}

        def put(x: float, y: float, value: str) -> None:
            literal = encoded.get(value)
            if literal is None:
                literal = encoded[value] = font.formatForPdf(value)
            code.append(f"1 0 0 1 {x:.2f} {y:.2f} Tm ({literal}) Tj")

        baseline_offset = LINE_PAD + LINE_FONT_SIZE
        y = top
        rules = [(0, top, width, top)]
        for index, label in enumerate(self.header):
            put(edges[index] + LINE_PAD, y - baseline_offset, label)
        y -= self.header_height
        rules.append((0, y, width, y))
        for texts, figures in self.rows:
            line_y = y - baseline_offset
            for part in texts:
                put(LINE_PAD, line_y, part)
                line_y -= LINE_LEADING
            for index, figure in enumerate(figures, start=1):
                right = edges[index + 1] - LINE_PAD - _figure_width(figure)
                put(right, y - baseline_offset, figure)
            y -= self._height((texts,))
            rules.append((0, y, width, y))
        canvas.drawText(text)
        rules += [(x, top, x, y) for x in edges]
        canvas.setStrokeColor(colors.grey)
        canvas.setLineWidth(0.4)
        canvas.lines(rules)
        canvas.restoreState()


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
    header = [_("项目"), _("数量"), _("单价"), _("税率"), _("税额"), _("金额（含税）")]
    rows = []
    for line in invoice.lines.order_by("period_start", "subscription_id", "kind", "id"):
        quantity = line.quantity.quantize(Decimal("0.0001")).normalize()
        rows.append(
            [
                line.description,
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
        LineTable(header, rows, [80, 18, 18, 14, 18, 22]),
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
    with _binary_streams():
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
