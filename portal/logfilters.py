"""Keep mobile numbers out of the logs.

Portal users see their enterprise's numbers in full (it is their data), but the numbers
also travel in URLs (a message search is `?msisdn=138…`) and would land in the access
log and in error reports. This filter, attached to the console handler in
`config.settings.LOGGING`, rewrites every record it passes so that any mainland mobile
number (11 digits, 1[3-9]…, not part of a longer digit run such as a Msg_Id) appears as
`core.phone.mask_mobile` shows it (138****8000).
"""

import logging
import re

from core.phone import mask_mobile

_MOBILE = re.compile(r"(?<!\d)(?:\+?86)?(1[3-9]\d{9})(?!\d)")


def mask_numbers(text: str) -> str:
    """`text` with every mobile number masked."""
    return _MOBILE.sub(lambda match: mask_mobile(match.group(1)), text)


class MaskMobileNumbers(logging.Filter):
    """A logging filter that masks mobile numbers in the message and its arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: leave the record to the formatter
            return True
        masked = mask_numbers(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True
