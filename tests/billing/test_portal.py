"""The portal's invoice pages: list, detail with payments and late fees, PDF, dispute,
the overdue banner, and enterprise A never reaching B's invoices (404)."""

import datetime as dt

import pytest
from django.urls import reverse

from billing.models import Invoice
from core.roles import Role
from tests.billing.factories import bill_quarter, freeze_on, pay, subscription_activated
from tests.portal.factories import enterprise_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def invoices(clock, manager):
    a = subscription_activated(manager, dt.date(2026, 10, 1))
    b = subscription_activated(manager, dt.date(2026, 10, 1))
    freeze_on(dt.date(2026, 12, 17))
    return bill_quarter(a, dt.date(2027, 1, 1)), bill_quarter(b, dt.date(2027, 1, 1))


def test_enterprise_a_gets_404_for_b_invoices_and_pdfs(invoices, client):
    mine, theirs = invoices
    client.force_login(enterprise_user(mine.account.enterprise))
    listing = client.get(reverse("portal:invoices"))
    assert listing.status_code == 200
    assert list(listing.context["invoices"]) == [mine]
    for name in ("portal:invoice_detail", "portal:invoice_pdf", "portal:invoice_dispute"):
        assert client.get(reverse(name, args=[theirs.pk])).status_code == 404
    assert (
        client.post(
            reverse("portal:invoice_dispute", args=[theirs.pk]), {"reason": "x"}
        ).status_code
        == 404
    )
    pdf = client.get(reverse("portal:invoice_pdf", args=[mine.pk]))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_overdue_banner_late_fee_payment_and_dispute(invoices, client):
    mine = invoices[0]
    user = enterprise_user(mine.account.enterprise)
    client.force_login(user)
    assert "overdue-banner" not in client.get(reverse("portal:dashboard")).content.decode()
    freeze_on(dt.date(2027, 1, 11))  # ten days late on 2,400: 72.00
    pay(mine, "400.00")
    page = client.get(reverse("portal:dashboard")).content.decode()
    assert "overdue-banner" in page
    detail = client.get(reverse("portal:invoice_detail", args=[mine.pk]))
    assert detail.context["late_fee_unbilled"] == pytest.approx(72)
    assert "400.00" in detail.content.decode()
    response = client.post(
        reverse("portal:invoice_dispute", args=[mine.pk]), {"reason": "超出条数与我方记录不符"}
    )
    assert response.status_code == 302
    mine.refresh_from_db()
    assert mine.state == Invoice.State.ON_HOLD
    assert "overdue-banner" not in client.get(reverse("portal:dashboard")).content.decode()


def test_operator_cannot_dispute(invoices, client):
    mine = invoices[0]
    client.force_login(enterprise_user(mine.account.enterprise, role=Role.ENTERPRISE_OPERATOR))
    assert client.get(reverse("portal:invoices")).status_code == 200
    response = client.post(reverse("portal:invoice_dispute", args=[mine.pk]), {"reason": "x"})
    assert response.status_code == 403
