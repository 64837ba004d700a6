"""Assurance test helpers: NOC users, subscriptions to report against, tickets."""

from assurance import services
from assurance.models import Ticket
from core.roles import Role
from tests.fulfillment.factories import active_subscription


def noc_user(make_user, username: str = "noc_1"):
    return make_user(Role.NOC_ENGINEER, username=username, email=f"{username}@op.example.cn")


def open_ticket(
    *,
    by=None,
    subscription=None,
    fault_class: str | None = None,
    ticket_type: str = "connectivity",
    channel: str = Ticket.Channel.STAFF,
    **kwargs,
) -> Ticket:
    """A ticket against `subscription` (if any), local line (6 h) unless told otherwise."""
    return services.ticket_create(
        by=by,
        description=kwargs.pop("description", "短信发送失败，链路中断"),
        ticket_type=ticket_type,
        severity=kwargs.pop("severity", "major"),
        channel=channel,
        subscription_ids=[subscription.pk] if subscription is not None else [],
        fault_class_code=fault_class,
        **kwargs,
    )


__all__ = ["active_subscription", "noc_user", "open_ticket"]
