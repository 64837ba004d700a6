"""The invoice PDF: extracted text carries the parties, lines, amounts and capital
numerals; it is stored once with its hash; a period's PDFs export as one zip."""

import datetime as dt
import hashlib
import io
import zipfile
from decimal import Decimal

import pytest
from pypdf import PdfReader

from billing import selectors, services
from billing.models import Invoice
from core.money import capital_amount
from tests.billing.factories import bill_quarter, freeze_on, subscription_activated

pytestmark = pytest.mark.django_db


def text_of(data: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_invoice_pdf_text_amounts_and_capitals(clock, manager, usage):
    sub = subscription_activated(manager, dt.date(2026, 11, 10))
    usage[(sub.pk, dt.date(2026, 11, 1))] = 12_000
    freeze_on(dt.date(2026, 12, 17))
    invoice = bill_quarter(sub, dt.date(2027, 1, 1))
    invoice.refresh_from_db()
    assert invoice.total == Decimal("2130.00")
    data = bytes(invoice.pdf)
    assert invoice.pdf_sha256 == hashlib.sha256(data).hexdigest()
    text = text_of(data)
    compact = text.replace(" ", "").replace("\n", "")
    assert invoice.number in compact
    assert capital_amount(invoice.total) == "贰仟壹佰叁拾元整"
    assert "贰仟壹佰叁拾元整" in compact
    assert "2130.00" in compact
    assert "250.00" in compact  # the overage line
    assert sub.enterprise.name in compact
    assert "2027-01-01" in compact  # due date
    assert "0.3%" in compact
    # Stored once: rendering again keeps the same bytes and hash.
    again = services.invoice_pdf_store(invoice_id=invoice.pk)
    assert again.pdf_sha256 == invoice.pdf_sha256


def test_period_zip_export(clock, manager):
    subs = [subscription_activated(manager, dt.date(2026, 10, 1)) for _ in range(2)]
    freeze_on(dt.date(2026, 12, 17))
    for sub in subs:
        bill_quarter(sub, dt.date(2027, 1, 1))
    data = selectors.invoices_zip(Invoice.objects.filter(period_start=dt.date(2027, 1, 1)))
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert sorted(names) == ["20260000001.pdf", "20260000002.pdf"]
