"""TMF678 customerBill, appliedCustomerBillingRate and customerBillOnDemand over billing.

Mapping:
- `customerBill` = an issued invoice (drafts and void invoices are internal). `billNo` =
  the gapless number; `state`: sent ← issued, partiallyPaid, settled ← paid, onHold,
  new ← draft. A PATCH of `state` to `onHold` disputes the bill (the enterprise or
  finance; `onHoldReason`, our extension, is the reason), back to `sent` /
  `partiallyPaid` releases it (staff only); other moves are 409 with the allowed values.
- `billDocument` links the stored PDF; `billingAccount` names the payer's billing account
  (`id` = account number); `amountDue` = total, `remainingAmount` = still to pay, money in
  CNY; `taxItem` per rate; `appliedPayment` lists allocations.
- `appliedCustomerBillingRate` = one rated charge; `isBilled` once on a bill;
  `product.id` = the subscription.
- `customerBillOnDemand`: POST is accepted (201, `inProgress`) and processed
  asynchronously to `done` (with `customerBill`) or `rejected` (unknown billing account,
  nothing to bill; the reason in our extension attribute `rejectionReason`).
"""

from django.core.exceptions import ValidationError
from django.urls import reverse
from rest_framework import serializers

from core.tmf.errors import TmfConflictError
from core.tmf.format import tmf_datetime
from core.tmf.serializers import TmfSerializer

from .. import services
from ..models import BillingRequest, Charge, Invoice
from .spec import TMF678

STATE_OUT = {
    Invoice.State.DRAFT: "new",
    Invoice.State.ISSUED: "sent",
    Invoice.State.PARTIALLY_PAID: "partiallyPaid",
    Invoice.State.PAID: "settled",
    Invoice.State.ON_HOLD: "onHold",
    Invoice.State.VOID: "settled",
}


def money(value) -> dict:
    return {"unit": "CNY", "value": float(value)}


def _date(value) -> str | None:
    return f"{value.isoformat()}T00:00:00.000Z" if value else None


def _account_ref(serializer, account) -> dict:
    return {
        "id": account.number,
        "name": account.enterprise.name,
        "@referredType": "BillingAccount",
    }


class CustomerBillSerializer(TmfSerializer):
    """TMF678 CustomerBill over an issued invoice; see the module docstring."""

    tmf_type = "CustomerBill"
    spec = TMF678
    view_name = "tmf678:customerBill-detail"
    state_attribute = "state"

    state = serializers.CharField(required=False)
    onHoldReason = serializers.CharField(required=False, allow_blank=True)

    def represent(self, invoice: Invoice) -> dict:
        tax_rates: dict = {}
        for line in invoice.lines.all():
            key = str(line.tax_rate)
            tax_rates[key] = tax_rates.get(key, 0) + line.tax_amount
        pdf_path = reverse("tmf678:customerBill-document", kwargs={"id": invoice.pk})
        document = {
            "billNo": invoice.number,
            "billDate": _date(invoice.issued_on) or tmf_datetime(invoice.created_at),
            "category": invoice.kind,
            "runType": "onCycle" if invoice.kind == Invoice.Kind.QUARTERLY else "offCycle",
            "lastUpdate": tmf_datetime(invoice.updated_at),
            "paymentDueDate": _date(invoice.due_on),
            "billingPeriod": {
                "startDateTime": _date(invoice.period_start),
                "endDateTime": _date(invoice.period_end),
            },
            "amountDue": money(invoice.total),
            "remainingAmount": money(invoice.outstanding),
            "taxIncludedAmount": money(invoice.total),
            "taxExcludedAmount": money(invoice.total - invoice.tax_total),
            "taxItem": [
                {"taxCategory": "VAT", "taxRate": float(rate), "taxAmount": money(amount)}
                for rate, amount in sorted(tax_rates.items())
            ],
            "state": STATE_OUT[invoice.state],
            "billingAccount": _account_ref(self, invoice.account),
            "billDocument": [
                {
                    "id": invoice.number,
                    "name": f"{invoice.number}.pdf",
                    "mimeType": "application/pdf",
                    "url": self.absolute(pdf_path),
                    "attachmentType": "invoice",
                    "@referredType": "Attachment",
                }
            ],
            "appliedPayment": [
                {
                    "appliedAmount": money(a.principal + a.late_fee),
                    "payment": {"id": a.payment.receipt_number, "name": a.payment.receipt_number},
                }
                for a in invoice.allocations.filter(reversed=False).select_related("payment")
            ],
            "relatedParty": [
                {
                    "id": str(invoice.account.enterprise_id),
                    "name": invoice.account.enterprise.name,
                    "role": "customer",
                    "@referredType": "Organization",
                }
            ],
        }
        if invoice.state == Invoice.State.ON_HOLD and invoice.hold_reason:
            document["onHoldReason"] = invoice.hold_reason
        return document

    def update(self, invoice: Invoice, validated_data):
        wanted = validated_data.get("state")
        if wanted is None or wanted == STATE_OUT[invoice.state]:
            return invoice
        request = self.context.get("request")
        user = getattr(request, "user", None)
        reason = validated_data.get("onHoldReason") or ""
        enterprise_caller = bool(self.context.get("enterprise_id"))
        allowed = [STATE_OUT[invoice.state]]
        if invoice.state in Invoice.CHASED_STATES:
            allowed.append("onHold")
        elif invoice.state == Invoice.State.ON_HOLD and not enterprise_caller:
            allowed.append(STATE_OUT.get(invoice.state_before_hold, "sent"))
        try:
            if wanted == "onHold" and "onHold" in allowed:
                return services.invoice_hold(
                    invoice_id=invoice.pk, by=user, reason=reason or "TMF678 onHold"
                )
            if wanted in allowed and invoice.state == Invoice.State.ON_HOLD:
                return services.invoice_release(invoice_id=invoice.pk, by=user, reason=reason)
        except ValidationError as exc:
            raise TmfConflictError("; ".join(exc.messages), allowed=allowed) from exc
        raise TmfConflictError(
            f"state cannot go from “{STATE_OUT[invoice.state]}” to “{wanted}”; "
            f"allowed: {', '.join(allowed)}",
            allowed=allowed,
        )


class AppliedRateSerializer(TmfSerializer):
    """TMF678 AppliedCustomerBillingRate over a rated charge."""

    tmf_type = "AppliedCustomerBillingRate"
    spec = TMF678
    view_name = "tmf678:appliedCustomerBillingRate-detail"

    def represent(self, charge: Charge) -> dict:
        document = {
            "name": charge.get_kind_display(),
            "type": charge.kind,
            "description": charge.description,
            "date": tmf_datetime(charge.rated_at),
            "isBilled": charge.invoice_id is not None,
            "periodCoverage": {
                "startDateTime": _date(charge.period_start),
                "endDateTime": _date(charge.period_end),
            },
            "taxIncludedAmount": money(charge.amount),
            "taxExcludedAmount": money(charge.amount - charge.tax_amount),
            "appliedTax": [
                {
                    "taxCategory": "VAT",
                    "taxRate": float(charge.tax_rate),
                    "taxAmount": money(charge.tax_amount),
                }
            ],
            "billingAccount": _account_ref(self, charge.account),
            "characteristic": [
                {"name": "quantity", "valueType": "number", "value": float(charge.quantity)},
                {"name": "unitPrice", "valueType": "number", "value": float(charge.unit_price)},
            ],
        }
        if charge.invoice_id and charge.invoice.number:
            document["bill"] = {
                "id": str(charge.invoice_id),
                "href": self.href_for(charge.invoice, "tmf678:customerBill-detail"),
            }
        if charge.subscription_id:
            document["product"] = {
                "id": str(charge.subscription_id),
                "name": charge.subscription.service_code.code,
                "@referredType": "Product",
            }
        return document


class BillOnDemandSerializer(TmfSerializer):
    """TMF678 CustomerBillOnDemand over a BillingRequest."""

    tmf_type = "CustomerBillOnDemand"
    spec = TMF678
    view_name = "tmf678:customerBillOnDemand-detail"
    state_attribute = "state"
    server_set = ("lastUpdate", "customerBill")

    name = serializers.CharField(required=False, allow_blank=True, max_length=200)
    description = serializers.CharField(required=False, allow_blank=True)
    billingAccount = serializers.DictField(required=True)

    def represent(self, request: BillingRequest) -> dict:
        document = {
            "name": request.name or None,
            "description": request.description or None,
            "lastUpdate": tmf_datetime(request.last_update),
            "state": request.state,
            "billingAccount": {
                "id": request.billing_account_ref,
                "@referredType": "BillingAccount",
            },
        }
        if request.rejection_reason:
            document["rejectionReason"] = request.rejection_reason
        if request.invoice_id:
            document["customerBill"] = {
                "id": str(request.invoice_id),
                "href": self.href_for(request.invoice, "tmf678:customerBill-detail"),
            }
        return document

    def validate_billingAccount(self, value):  # noqa: N802 (the TMF attribute's name)
        if not str(value.get("id") or "").strip():
            raise serializers.ValidationError("billingAccount.id is mandatory")
        return value

    def create(self, validated_data):
        return services.billing_request_create(
            billing_account_ref=str(validated_data["billingAccount"]["id"]),
            enterprise_id=self.context.get("enterprise_id"),
            name=validated_data.get("name", ""),
            description=validated_data.get("description", ""),
        )
