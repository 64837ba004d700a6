"""The TMF629 Customer Management v4 specification (a copy of ../shared/reference/tmf)."""

from pathlib import Path

from core.tmf.spec import TmfSpec

API_NAME = "customerManagement"
TMF629 = TmfSpec(
    api=API_NAME,
    path=Path(__file__).with_name("TMF629-Customer-v4.0.0.swagger.json"),
    prefix="TMF629",
)
