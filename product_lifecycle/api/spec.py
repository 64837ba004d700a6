"""The TMF620 Product Catalog Management v4 specification (a copy of ../shared/reference/tmf)."""

from pathlib import Path

from core.tmf.spec import TmfSpec

API_NAME = "productCatalogManagement"
TMF620 = TmfSpec(
    api=API_NAME,
    path=Path(__file__).with_name("TMF620-ProductCatalog-v4.0.0.swagger.json"),
    prefix="TMF620",
)
