"""Admin of fulfillment: orders (`orders`), the inventory (`inventory`), subscriptions,
CMPP accounts and contracts (`services`). Every list is limited to the enterprises the
user may see; changes go through the services."""

from . import inventory, orders, subscriptions  # noqa: F401  (registers the ModelAdmins)
