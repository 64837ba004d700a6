"""The TMF621 Trouble Ticket v4 specification (a copy of ../shared/reference/tmf)."""

from pathlib import Path

from core.tmf.spec import TmfSpec

API_NAME = "troubleTicket"
TMF621 = TmfSpec(
    api=API_NAME,
    path=Path(__file__).with_name("TMF621-TroubleTicket-v4.0.0.swagger.json"),
    prefix="TMF621",
)
