"""Numbers the portal shows in full (a message search puts them in the URL) never reach
the log in full: the console handler's PII filter (core.logging) masks them."""

import logging

from core.logging import PiiMaskingFilter, mask_numbers


def test_mobile_numbers_are_masked_but_msg_ids_are_not():
    text = "GET /portal/messages/?msisdn=13800138000 Msg_Id 1380013800012345678 +8613912345678"
    assert mask_numbers(text) == (
        "GET /portal/messages/?msisdn=138****8000 Msg_Id 1380013800012345678 139****5678"
    )


def test_the_filter_rewrites_formatted_records():
    record = logging.LogRecord(
        "django.server", logging.INFO, __file__, 1, '"%s" %s', ("GET /?q=13800138000", 200), None
    )
    assert PiiMaskingFilter().filter(record)
    assert record.getMessage() == '"GET /?q=138****8000" 200'


def test_the_console_handler_masks_numbers(settings):
    handler = settings.LOGGING["handlers"]["console"]
    assert "pii" in handler["filters"]
    assert settings.LOGGING["filters"]["pii"]["()"] == "core.logging.PiiMaskingFilter"
