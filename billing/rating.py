"""Pure rating arithmetic: periods, proration, allowance, overage, tax and the late fee.

No database access here, so the rules can be tested (and read) on their own.

Rounding (documented for finance):
- every money amount is a `Decimal` rounded half-up to the fen (`core.money.yuan`);
- a prorated fee is `monthly fee × live days ÷ days in the month`, rounded once;
- the prorated allowance is `included messages × live days ÷ days in the month`,
  rounded half-up to a whole message;
- tax in a tax-inclusive amount is `amount × rate ÷ (1 + rate)`, rounded per line;
- the late fee is accrued exactly per segment (unpaid principal × 0.3% × days) and
  rounded once per invoice, never per day, and never on late fees (not compounded).

A subscription is live from its activation day (inclusive) to its termination day
(exclusive): the termination day is not billed.
"""

import calendar
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from core.money import yuan

ONE_DAY = dt.timedelta(days=1)


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def next_month(day: dt.date) -> dt.date:
    """The first day of the month after `day`'s month."""
    return (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def days_in_month(day: dt.date) -> int:
    return calendar.monthrange(day.year, day.month)[1]


def quarter_start(day: dt.date) -> dt.date:
    return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def quarter_end(start: dt.date) -> dt.date:
    """The first day after the quarter beginning at `start` (periods are half-open)."""
    end = start
    for _ in range(3):
        end = next_month(end)
    return end


def next_quarter_start(day: dt.date) -> dt.date:
    return quarter_end(quarter_start(day))


def months_of(start: dt.date, end: dt.date) -> list[dt.date]:
    """First days of the months in [start, end)."""
    months = []
    current = month_start(start)
    while current < end:
        months.append(current)
        current = next_month(current)
    return months


def live_days(
    month: dt.date, activated_on: dt.date, terminated_on: dt.date | None
) -> tuple[int, int]:
    """(days the subscription is live in `month`, days in the month)."""
    first, after = month_start(month), next_month(month)
    start = max(first, activated_on)
    end = min(after, terminated_on) if terminated_on else after
    return max(0, (end - start).days), days_in_month(first)


def prorate(amount: Decimal, days: int, month_days: int) -> Decimal:
    """A monthly amount for `days` of a `month_days`-day month, rounded to the fen."""
    if days >= month_days:
        return yuan(amount)
    return yuan(Decimal(amount) * days / month_days)


def allowance(included: int, days: int, month_days: int) -> int:
    """The included messages for `days` of the month, rounded half-up to a message."""
    if days >= month_days:
        return included
    return int((Decimal(included) * days / month_days).quantize(Decimal(1), ROUND_HALF_UP))


def overage(*, used: int, allowed: int, price: Decimal) -> tuple[int, Decimal]:
    """(messages beyond the allowance, their price). One billed segment is one message."""
    extra = max(0, used - allowed)
    return extra, yuan(Decimal(price) * extra)


def tax_of(amount: Decimal, rate: Decimal, *, inclusive: bool = True) -> Decimal:
    """The tax contained in a tax-inclusive amount (or due on top of an exclusive one)."""
    if inclusive:
        return yuan(Decimal(amount) * rate / (1 + rate))
    return yuan(Decimal(amount) * rate)


@dataclass(frozen=True)
class PrincipalPayment:
    """A payment of principal on a day, as the late fee sees it."""

    on: dt.date
    principal: Decimal


def _days_outside_holds(start: dt.date, end: dt.date, holds: list[tuple[dt.date, dt.date | None]]):
    """Days d with start < d <= end that are not on hold (a hold covers hold_start <= d <
    release day: the release day counts again)."""
    if end <= start:
        return 0
    days = (end - start).days
    for hold_start, hold_end in holds:
        lo = max(start + ONE_DAY, hold_start)
        hi = min(end + ONE_DAY, hold_end) if hold_end else end + ONE_DAY
        if hi > lo:
            days -= (hi - lo).days
    return days


def late_fee(
    *,
    principal: Decimal,
    due_on: dt.date,
    until: dt.date,
    payments: Iterable[PrincipalPayment],
    rate: Decimal,
    holds: Iterable[tuple[dt.date, dt.date | None]] = (),
) -> Decimal:
    """The late fee (第14条第1款) accrued on `principal` up to and including `until`.

    Each day after `due_on` up to the day of payment costs `rate` of the principal still
    unpaid that day; a payment counts from its own day (a payment on day d stops the fee
    on what it paid after day d). Payment on or before the due date: no fee. Days on hold
    (dispute) are not counted. Late fees themselves never earn a fee: pass the principal
    only. Returns the exact sum rounded half-up to the fen.
    """
    holds = [(start, end) for start, end in holds]
    counted = sorted((p for p in payments if p.on <= until), key=lambda p: p.on)
    unpaid = Decimal(principal) - sum((p.principal for p in counted if p.on <= due_on), Decimal(0))
    accrued = Decimal(0)
    previous = due_on
    for payment in (p for p in counted if p.on > due_on):
        if unpaid <= 0:
            break
        accrued += unpaid * rate * _days_outside_holds(previous, payment.on, holds)
        previous = payment.on
        unpaid -= payment.principal
    if unpaid > 0:
        accrued += unpaid * rate * _days_outside_holds(previous, until, holds)
    return yuan(max(accrued, Decimal(0)))
