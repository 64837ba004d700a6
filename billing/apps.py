"""App configuration for billing."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

_FINANCE_MODELS = (
    "billingaccount",
    "charge",
    "invoice",
    "creditnote",
    "payment",
    "allocation",
    "latefeewaiver",
    "dunningstep",
    "billingrun",
    "billingrequest",
)


class BillingConfig(AppConfig):
    """Invoices, payments, late fees and dunning.

    Finance runs billing, issues credit notes, records and reverses payments, waives late
    fees, holds disputed invoices and exports PDFs and reports. Customer managers and
    department heads read their enterprises' invoices and set an account to be billed to
    its parent; enterprise users see their own invoices in the portal (scoped there).
    """

    name = "billing"
    verbose_name = _("计费账务")
    demo_seed = "billing.demo.seed"
    role_permissions = {
        "finance": [
            *(f"billing.view_{model}" for model in _FINANCE_MODELS),
            "billing.change_billingaccount",
            "billing.change_invoice",
            "billing.add_payment",
            "billing.add_billingrequest",
            "billing.change_payment",
            "billing.add_creditnote",
            "billing.issue_invoice",
            "billing.run_billing",
            "billing.hold_invoice",
            "billing.export_invoices",
            "billing.issue_credit_note",
            "billing.reverse_payment",
            "billing.waive_late_fee",
            "customers.view_enterprise",
        ],
        "customer_manager": [
            "billing.view_billingaccount",
            "billing.change_billingaccount",
            "billing.view_invoice",
            "billing.view_payment",
            "billing.view_dunningstep",
        ],
    }

    def ready(self) -> None:
        from fulfillment.signals import subscription_state_changed

        from .signals import on_subscription_state_changed

        subscription_state_changed.connect(
            on_subscription_state_changed, dispatch_uid="billing_final_invoice"
        )
