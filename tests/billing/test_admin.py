"""Finance pages in the admin: runs with progress, search, ageing with XLSX, the PDF zip,
credit notes and waivers, payments, bank entrustment files (all or nothing), roles."""

import datetime as dt
import io
import zipfile
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from billing.models import BillingRun, Invoice, Payment
from core.roles import Role
from tests.billing.factories import freeze_on, subscription_activated
from tests.fulfillment.factories import committing

pytestmark = pytest.mark.django_db
Q1 = dt.date(2027, 1, 1)


@pytest.fixture
def billed(clock, manager, finance, client):
    subs = [subscription_activated(manager, dt.date(2026, 10, 1)) for _ in range(2)]
    enterprise = subs[1].enterprise
    enterprise.payment_method = "bank_entrustment"
    enterprise.bank_name = "中国银行郑州分行"
    enterprise.bank_account_name = enterprise.name
    enterprise.bank_account_number = "6222000011112222"
    enterprise.save()
    freeze_on(dt.date(2026, 12, 17))
    client.force_login(finance)
    with committing():
        response = client.post(reverse("admin:billing_finance"), {"quarter_start": "2027-01-01"})
    run = BillingRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:billing_run", args=[run.pk])
    return run


def test_run_page_progress_search_and_exports(billed, client):
    page = client.get(reverse("admin:billing_run", args=[billed.pk]))
    assert page.status_code == 200
    assert b"run-bar" in page.content
    progress = client.get(reverse("admin:billing_run_progress", args=[billed.pk])).json()
    assert progress["percent"] == 100 and progress["finished"] and progress["invoices"] == 2

    search = client.get(reverse("admin:billing_finance"), {"period": "2027-Q1"})
    assert search.status_code == 200
    assert search.context["invoice_count"] == 2
    zipped = client.get(reverse("admin:billing_invoices_zip"), {"period": "2027-Q1"})
    assert len(zipfile.ZipFile(io.BytesIO(zipped.content)).namelist()) == 2
    invoice = Invoice.objects.order_by("number").first()
    pdf = client.get(reverse("admin:billing_invoice_pdf", args=[invoice.pk]))
    assert pdf.content.startswith(b"%PDF")
    assert client.get(reverse("admin:billing_invoice_change", args=[invoice.pk])).status_code == 200

    freeze_on(dt.date(2027, 2, 15))  # 45 days overdue
    ageing = client.get(reverse("admin:billing_ageing"))
    assert ageing.status_code == 200
    assert ageing.context["totals"]["31-60"] == Decimal("4800.00")
    assert b"ageing-bar" in ageing.content
    book = load_workbook(io.BytesIO(client.get(reverse("admin:billing_ageing_xlsx")).content))
    rows = list(book.active.values)
    assert rows[-1][-1] == 4800.0


def test_credit_note_waiver_and_payment_through_the_admin(billed, client):
    invoice = Invoice.objects.order_by("number").first()
    url = reverse("admin:billing_invoice_credit_note", args=[invoice.pk])
    assert client.post(url, {"amount": "100", "reason": ""}).status_code == 200  # form error
    response = client.post(url, {"amount": "100", "reason": "协商优惠"})
    assert response.status_code == 302
    invoice.refresh_from_db()
    assert invoice.outstanding == Decimal("2300.00")
    response = client.post(
        reverse("admin:billing_payment_add"),
        {
            "account": invoice.account_id,
            "method": "cash",
            "amount": "2300.00",
            "received_on": "2026-12-17",
            "reference": "现金 001",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    invoice.refresh_from_db()
    assert invoice.state == Invoice.State.PAID


def test_entrustment_export_and_all_or_nothing_import(billed, client):
    url = reverse("admin:billing_entrustment")
    exported = client.get(url, {"format": "csv"}).content.decode("utf-8-sig")
    invoice = Invoice.objects.get(account__enterprise__payment_method="bank_entrustment")
    assert invoice.number in exported and "6222000011112222" in exported
    assert "2400.00" in exported

    bad = (
        "账单编号,金额,结果,银行流水号,扣款日期\n"
        f"{invoice.number},2400.00,成功,B001,2026-12-17\n"
        "20269999999,10.00,成功,B002,2026-12-17\n"
    )
    page = client.post(url, {"file": SimpleUploadedFile("r.csv", bad.encode())})
    assert page.context["report"]["problems"][0]["row"] == 2
    assert not Payment.objects.exists()

    good = (
        f"账单编号,金额,结果,银行流水号,扣款日期\n{invoice.number},2400.00,成功,B001,2026-12-17\n"
    )
    page = client.post(url, {"file": SimpleUploadedFile("r.csv", good.encode())})
    assert page.context["report"]["collected"] == 1
    invoice.refresh_from_db()
    assert invoice.state == Invoice.State.PAID
    bounced = f"账单编号,金额,结果,银行流水号\n{invoice.number},2400.00,退票,B001\n"
    page = client.post(url, {"file": SimpleUploadedFile("r.csv", bounced.encode())})
    assert page.context["report"]["bounced"] == 1
    invoice.refresh_from_db()
    assert invoice.state == Invoice.State.ISSUED


def test_roles_managers_read_only_their_invoices(billed, client, manager, other_manager, make_user):
    client.force_login(other_manager)
    assert client.get(reverse("admin:billing_invoice_changelist")).context["cl"].result_count == 0
    invoice = Invoice.objects.first()
    assert client.get(reverse("admin:billing_invoice_pdf", args=[invoice.pk])).status_code == 404
    assert (
        client.post(reverse("admin:billing_finance"), {"quarter_start": "2027-01-01"}).status_code
        == 403
    )
    client.force_login(manager)
    assert client.get(reverse("admin:billing_invoice_changelist")).context["cl"].result_count == 2
    noc = make_user(Role.NOC_ENGINEER, username="noc")
    client.force_login(noc)
    assert client.get(reverse("admin:billing_finance")).status_code == 403
