"""The TMF678 Customer Bill Management v4 specification (a copy of ../shared/reference/tmf)."""

from pathlib import Path

from core.tmf.spec import TmfSpec

API_NAME = "customerBillManagement"
TMF678 = TmfSpec(
    api=API_NAME,
    path=Path(__file__).with_name("TMF678-CustomerBill-v4.0.0.swagger.json"),
    prefix="TMF678",
)
