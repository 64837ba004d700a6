"""Write services for the catalog: catalogs, categories, specifications, offerings with
their lifecycle, and prices with their versions.

Every change that TMF620 has an event for is published to the hub's outbox in the same
transaction (see product_lifecycle.api.events). The package re-exports every service, so
callers write `from product_lifecycle import services; services.offering_launch(...)`.
"""

from .catalog import (
    CATALOG_FIELDS,
    CATEGORY_FIELDS,
    SPECIFICATION_FIELDS,
    catalog_create,
    catalog_delete,
    catalog_update,
    category_create,
    category_delete,
    category_update,
    specification_create,
    specification_delete,
    specification_update,
)
from .offerings import (
    OFFERING_FIELDS,
    bundle_set_components,
    offering_create,
    offering_delete,
    offering_design,
    offering_launch,
    offering_redesign,
    offering_retire,
    offering_status_label_set,
    offering_test,
    offering_update,
)
from .prices import (
    PRICE_FROZEN_FIELDS,
    PriceFrozenError,
    offering_price_revise,
    offering_prices_set,
    price_create,
    price_delete,
    price_is_in_effect,
    price_update,
)

__all__ = [
    "CATALOG_FIELDS",
    "CATEGORY_FIELDS",
    "OFFERING_FIELDS",
    "PRICE_FROZEN_FIELDS",
    "SPECIFICATION_FIELDS",
    "PriceFrozenError",
    "bundle_set_components",
    "catalog_create",
    "catalog_delete",
    "catalog_update",
    "category_create",
    "category_delete",
    "category_update",
    "offering_create",
    "offering_delete",
    "offering_design",
    "offering_launch",
    "offering_price_revise",
    "offering_prices_set",
    "offering_redesign",
    "offering_retire",
    "offering_status_label_set",
    "offering_test",
    "offering_update",
    "price_create",
    "price_delete",
    "price_is_in_effect",
    "price_update",
    "specification_create",
    "specification_delete",
    "specification_update",
]
