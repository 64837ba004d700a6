"""Receivers billing connects to fulfillment's signals (fulfillment never imports billing)."""

from django.db import transaction


def on_subscription_state_changed(sender, subscription, before, by=None, **kwargs) -> None:
    """A terminated subscription gets its final invoice once the termination commits."""
    if subscription.state != "terminated" or before == "terminated":
        return
    from .tasks import final_invoice_task

    subscription_id = subscription.pk
    transaction.on_commit(lambda: final_invoice_task.delay(subscription_id))
