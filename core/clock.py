"""The one injectable clock behind every deadline, due date and timestamp rule.

Services call `clock.now()` instead of `timezone.now()` so that tests can set and move
time (`clock.freeze(...)`, `clock.advance(hours=2)`) and see deadlines fire exactly.
"""

import datetime as dt

from django.utils import timezone

_frozen_at: dt.datetime | None = None


def now() -> dt.datetime:
    """The current aware date-time (UTC), or the frozen one in tests."""
    return _frozen_at if _frozen_at is not None else timezone.now()


def today() -> dt.date:
    """Today's date in the project's time zone (Asia/Shanghai)."""
    return timezone.localdate(now())


def freeze(at: dt.datetime) -> None:
    """Stop the clock at `at` (must be timezone-aware)."""
    global _frozen_at
    if timezone.is_naive(at):
        raise ValueError("the clock needs an aware datetime")
    _frozen_at = at


def advance(**delta: float) -> dt.datetime:
    """Move a frozen clock forward by a timedelta's keyword arguments; returns the new now."""
    if _frozen_at is None:
        raise RuntimeError("advance() needs a frozen clock; call freeze() first")
    freeze(_frozen_at + dt.timedelta(**delta))
    return _frozen_at


def unfreeze() -> None:
    """Return to real time."""
    global _frozen_at
    _frozen_at = None
