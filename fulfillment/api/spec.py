"""The TMF622 Product Ordering Management v4 specification (a copy of ../shared/reference/tmf)."""

from pathlib import Path

from core.tmf.spec import TmfSpec

API_NAME = "productOrderingManagement"
TMF622 = TmfSpec(
    api=API_NAME,
    path=Path(__file__).with_name("TMF622-ProductOrder-v4.0.0.swagger.json"),
    prefix="TMF622",
)
