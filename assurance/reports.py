"""The monthly SLA report as XLSX (openpyxl) and PDF (reportlab, the CID font the
contract PDFs use), from `assurance.selectors.sla_report`."""

import io
from xml.sax.saxutils import escape

from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from .selectors import SlaReport

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FONT = "STSong-Light"


def _local(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


def _dash(value) -> str:
    return "—" if value is None else str(value)


def _summary_rows(report: SlaReport) -> list[list]:
    header = [
        _("企业"),
        _("工单数"),
        _("已解决"),
        _("修复时长中位数（小时）"),
        _("修复时长 P90（小时）"),
        _("超时"),
        _("不计入考核"),
    ]
    rows = [header]
    for row in [*report.rows, report.overall]:
        rows.append(
            [
                row.label,
                row.tickets,
                row.resolved,
                row.median_hours,
                row.p90_hours,
                row.breaches,
                row.excluded,
            ]
        )
    return rows


def _breach_rows(report: SlaReport) -> list[list]:
    rows = [[_("工单"), _("企业"), _("故障类别"), _("期限"), _("原因")]]
    for item in report.breaches:
        rows.append(
            [
                f"#{item['ticket'].pk}",
                item["enterprise"],
                item["fault_class"],
                _local(item["deadline"]),
                item["reason"],
            ]
        )
    return rows


def _exclusion_rows(report: SlaReport) -> list[list]:
    rows = [[_("工单"), _("类型"), _("原因")]]
    rows += [[f"#{i['ticket'].pk}", str(i["kind"]), i["reason"]] for i in report.exclusions]
    rows += [
        [
            _("紧急维护"),
            w.title,
            f"{_local(w.announced_at)} → {_local(w.starts_at)}：{w.emergency_reason}",
        ]
        for w in report.emergencies
    ]
    return rows


def report_xlsx(report: SlaReport) -> bytes:
    """Three sheets: summary, breaches with reasons, exclusions and emergencies."""
    book = Workbook()
    for index, (title, rows) in enumerate(
        (
            (_("汇总"), _summary_rows(report)),
            (_("超时明细"), _breach_rows(report)),
            (_("排除与紧急维护"), _exclusion_rows(report)),
        )
    ):
        sheet = book.active if index == 0 else book.create_sheet()
        sheet.title = title
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def report_pdf(report: SlaReport) -> bytes:
    """The same tables on landscape A4 pages."""
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    title = ParagraphStyle("title", fontName=FONT, fontSize=15, leading=20, alignment=1)
    heading = ParagraphStyle("heading", fontName=FONT, fontSize=11, leading=16, spaceBefore=8)
    body = ParagraphStyle("body", fontName=FONT, fontSize=8.5, leading=12)

    def table(rows):
        data = [[Paragraph(escape(_dash(cell)), body) for cell in row] for row in rows]
        t = Table(data, repeatRows=1)
        t.setStyle(
            TableStyle(
                [
                    ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                    ("BACKGROUND", (0, 0), (-1, 0), colors.Color(0.92, 0.92, 0.92)),
                    ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ]
            )
        )
        return t

    story = [
        Paragraph(_("修复时限月报 %(y)s年%(m)s月") % {"y": report.year, "m": report.month}, title),
        Spacer(1, 4 * mm),
        Paragraph(_("汇总"), heading),
        table(_summary_rows(report)),
        Paragraph(_("超时明细"), heading),
        table(_breach_rows(report)),
        Paragraph(_("排除与紧急维护"), heading),
        table(_exclusion_rows(report)),
    ]
    buffer = io.BytesIO()
    SimpleDocTemplate(
        buffer, pagesize=landscape(A4), leftMargin=12 * mm, rightMargin=12 * mm
    ).build(story)
    return buffer.getvalue()
