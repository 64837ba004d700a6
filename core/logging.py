"""Logging for production: one JSON object per line, with the trace id, personal data masked.

- `ContextFilter` adds `trace_id` (core.tracing) and `process_role` to every record.
- `PiiMaskingFilter` masks mainland mobile numbers anywhere in the message
  (`core.phone.mask_mobile`: 138****8000) and replaces message text passed as an
  `extra` field (`text`, `content`, `message_text`, `msg_content`) by its length. Code must
  still never log SMS text inside the message itself; the filter is the safety net for
  numbers, which turn up in exceptions and third-party messages.
- `JsonFormatter` writes `ts`, `level`, `logger`, `msg`, `trace_id`, the extra fields and
  the exception, for a log shipper (Loki, ELK, Fluent Bit) to index.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re

from core.phone import mask_mobile
from core.tracing import current_trace_id

# A mainland mobile number: optional +86/0086/86, then 1[3-9] and nine digits, not part of
# a longer digit run (order numbers, msg ids).
MOBILE_RE = re.compile(r"(?<![0-9])(?:\+?86[- ]?|0086[- ]?)?(1[3-9][0-9]{9})(?![0-9])")
TEXT_FIELDS = ("text", "content", "message_text", "msg_content", "mo_text")
_RESERVED = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {
    "message",
    "asctime",
    "trace_id",
    "process_role",
}


def mask_numbers(text: str) -> str:
    """`text` with every mainland mobile number masked."""
    return MOBILE_RE.sub(lambda m: mask_mobile(m.group(1)), text)


class ContextFilter(logging.Filter):
    """Adds the trace id and the process role (MAS_PROCESS_ROLE: web, worker, sender…)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.trace_id = current_trace_id()
        record.process_role = os.environ.get("MAS_PROCESS_ROLE", "")
        return True


class PiiMaskingFilter(logging.Filter):
    """Masks phone numbers in the rendered message and drops SMS text from extra fields."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: keep the record as it is
            return True
        masked = mask_numbers(message)
        if masked != message or record.args:
            record.msg, record.args = masked, ()
        for name in TEXT_FIELDS:
            value = record.__dict__.get(name)
            if isinstance(value, str):
                record.__dict__[name] = f"<{len(value)} chars>"
        for name, value in list(record.__dict__.items()):
            if name not in _RESERVED and name not in TEXT_FIELDS and isinstance(value, str):
                record.__dict__[name] = mask_numbers(value)
        if record.exc_info and not record.exc_text:
            record.exc_text = mask_numbers(logging.Formatter().formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = mask_numbers(record.exc_text)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line (see the module docstring for the keys)."""

    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "ts": dt.datetime.fromtimestamp(record.created, tz=dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
            "trace_id": getattr(record, "trace_id", "") or current_trace_id(),
            "process": record.process,
        }
        role = getattr(record, "process_role", "")
        if role:
            payload["role"] = role
        for name, value in record.__dict__.items():
            if name in _RESERVED or name.startswith("_") or name in payload:
                continue
            if not isinstance(value, (str, int, float, bool, type(None))):
                value = mask_numbers(str(value))
            payload[name] = value
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            payload["exc"] = record.exc_text
        return json.dumps(payload, ensure_ascii=False, default=str)
