"""Finance runs billing in a real browser, watches the progress bar move and downloads an
invoice PDF; an enterprise user downloads its invoice from the portal."""

import datetime as dt

import pytest

from billing import services, tasks
from billing.models import BillingRun, Invoice
from tests.billing.factories import freeze_on, subscription_activated
from tests.browser import screenshot
from tests.portal.factories import enterprise_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def login(page, user, url="/admin/login/", submit="input[type=submit]"):
    page.goto(url)
    page.fill("#id_username", user.username)
    page.fill("#id_password", "pass-1234")
    with page.expect_navigation():
        page.click(submit)


def test_finance_runs_billing_watches_progress_and_downloads_a_pdf(
    browser_page, clock, manager, finance, monkeypatch
):
    page = browser_page
    subs = [subscription_activated(manager, dt.date(2026, 10, 1)) for _ in range(2)]
    freeze_on(dt.date(2026, 12, 17))
    # Hold the run back (no worker here) so the page is seen waiting, then run it.
    monkeypatch.setattr(tasks.billing_run_task, "delay", lambda *args: None)

    login(page, finance)
    page.wait_for_selector("#site-name")
    page.goto("/admin/billing/invoice/finance/")
    assert page.input_value("#id_quarter_start") == "2027-01-01"
    page.click("#start-run")
    page.wait_for_selector("#run-progress")
    assert page.inner_text("#run-percent") == "0"
    screenshot(page, "billing-run-waiting")

    run = BillingRun.objects.get()
    services.billing_run_execute(run_id=run.pk, progress_every=1)
    page.wait_for_function("document.getElementById('run-percent').textContent === '100'")
    page.wait_for_selector("#run-done:not([hidden])")
    assert page.inner_text("#run-invoices") == "2"
    assert page.get_attribute("#run-bar", "aria-valuenow") == "100"
    screenshot(page, "billing-run-done")

    page.click("#run-done a")
    page.wait_for_selector("#invoice-search")
    with page.expect_download() as download_info:
        page.click("a.invoice-pdf >> nth=0")
    download = download_info.value
    path = download.path()
    with open(path, "rb") as handle:
        assert handle.read(5) == b"%PDF-"
    assert download.suggested_filename.endswith(".pdf")
    assert download.suggested_filename[:-4] in set(Invoice.objects.values_list("number", flat=True))
    assert {i.account.enterprise_id for i in Invoice.objects.all()} == {
        s.enterprise_id for s in subs
    }


def test_an_enterprise_user_downloads_an_invoice_from_the_portal(browser_page, clock, manager):
    page = browser_page
    sub = subscription_activated(manager, dt.date(2026, 10, 1))
    freeze_on(dt.date(2026, 12, 17))
    invoice = services.bill_account_for_quarter(
        account=services.payer_account(sub.enterprise), quarter_start=dt.date(2027, 1, 1)
    )
    user = enterprise_user(sub.enterprise)
    login(page, user, url="/portal/login/", submit="form.card button[type=submit]")
    page.goto("/portal/invoices/")
    page.wait_for_selector("a.invoice-pdf")
    screenshot(page, "portal-invoices")
    with page.expect_download() as download_info:
        page.click("a.invoice-pdf")
    assert download_info.value.suggested_filename == f"{invoice.number}.pdf"
