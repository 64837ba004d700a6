"""Fulfillment (eTOM OPS): resource inventory, orders, subscriptions and contracts."""
