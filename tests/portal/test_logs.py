"""Numbers the portal shows in full never reach the log in full."""

import logging

from portal.logfilters import MaskMobileNumbers, mask_numbers


def test_mobile_numbers_are_masked_but_msg_ids_are_not():
    text = "GET /portal/messages/?msisdn=13800138000 Msg_Id 1380013800012345678 +8613912345678"
    assert mask_numbers(text) == (
        "GET /portal/messages/?msisdn=138****8000 Msg_Id 1380013800012345678 139****5678"
    )


def test_the_filter_rewrites_formatted_records():
    record = logging.LogRecord(
        "django.server", logging.INFO, __file__, 1, '"%s" %s', ("GET /?q=13800138000", 200), None
    )
    assert MaskMobileNumbers().filter(record)
    assert record.getMessage() == '"GET /?q=138****8000" 200'


def test_the_console_handler_masks_numbers(settings):
    handlers = settings.LOGGING["handlers"]["console"]
    assert handlers["filters"] == ["mask_mobiles"]
    assert settings.LOGGING["filters"]["mask_mobiles"]["()"].endswith("MaskMobileNumbers")
