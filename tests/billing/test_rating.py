"""Rating arithmetic: periods, proration, allowance, overage, tax and the late fee."""

import datetime as dt
from decimal import Decimal

from billing import rating
from billing.rating import PrincipalPayment

D = dt.date
RATE = Decimal("0.003")


def test_quarter_boundaries():
    assert rating.quarter_start(D(2026, 11, 25)) == D(2026, 10, 1)
    assert rating.quarter_end(D(2026, 10, 1)) == D(2027, 1, 1)
    assert rating.next_quarter_start(D(2026, 12, 31)) == D(2027, 1, 1)
    assert rating.next_quarter_start(D(2027, 3, 31)) == D(2027, 4, 1)
    assert rating.months_of(D(2027, 1, 1), D(2027, 4, 1)) == [
        D(2027, 1, 1),
        D(2027, 2, 1),
        D(2027, 3, 1),
    ]


def test_live_days_first_and_last_month():
    # Activated on the 10th of a 30-day month: 21 days (the 10th counts).
    assert rating.live_days(D(2026, 11, 1), D(2026, 11, 10), None) == (21, 30)
    # Terminated on the 15th of February 2027 (28 days): the 15th is not billed.
    assert rating.live_days(D(2027, 2, 1), D(2026, 11, 10), D(2027, 2, 15)) == (14, 28)
    assert rating.live_days(D(2027, 3, 1), D(2026, 11, 10), D(2027, 2, 15)) == (0, 31)
    assert rating.live_days(D(2028, 2, 1), D(2026, 1, 1), None) == (29, 29)


def test_proration_and_allowance():
    assert rating.prorate(Decimal("300.00"), 21, 30) == Decimal("210.00")
    assert rating.prorate(Decimal("100.00"), 1, 31) == Decimal("3.23")
    assert rating.prorate(Decimal("100.00"), 31, 31) == Decimal("100.00")
    assert rating.allowance(10_000, 21, 30) == 7_000
    assert rating.allowance(10_000, 1, 31) == 323  # 322.58 rounds half-up
    assert rating.allowance(10_000, 30, 30) == 10_000


def test_overage_counts_each_segment_beyond_the_allowance():
    assert rating.overage(used=10_500, allowed=10_000, price=Decimal("0.05")) == (
        500,
        Decimal("25.00"),
    )
    assert rating.overage(used=9_000, allowed=10_000, price=Decimal("0.05")) == (0, Decimal("0.00"))


def test_tax_inclusive_and_exclusive():
    assert rating.tax_of(Decimal("106.00"), Decimal("0.06")) == Decimal("6.00")
    assert rating.tax_of(Decimal("100.00"), Decimal("0.06"), inclusive=False) == Decimal("6.00")


def fee(principal, until, payments=(), holds=()):
    return rating.late_fee(
        principal=Decimal(principal),
        due_on=D(2027, 1, 1),
        until=until,
        payments=[PrincipalPayment(on=d, principal=Decimal(a)) for d, a in payments],
        rate=RATE,
        holds=holds,
    )


def test_late_fee_payment_on_the_due_date_costs_nothing():
    assert fee("1200.00", D(2027, 1, 1), [(D(2027, 1, 1), "1200.00")]) == Decimal("0.00")
    assert fee("1200.00", D(2027, 3, 1), [(D(2027, 1, 1), "1200.00")]) == Decimal("0.00")


def test_late_fee_counts_from_the_day_after_due_to_the_payment_day():
    # Paid on 2 January: one day late.
    assert fee("1200.00", D(2027, 1, 2), [(D(2027, 1, 2), "1200.00")]) == Decimal("3.60")
    # Paid on 11 January: ten days (2nd..11th) × 1200 × 0.3% = 36.00.
    assert fee("1200.00", D(2027, 1, 20), [(D(2027, 1, 11), "1200.00")]) == Decimal("36.00")
    # Still unpaid on the 11th: the same ten days so far.
    assert fee("1200.00", D(2027, 1, 11)) == Decimal("36.00")


def test_late_fee_on_partial_payments_is_not_compounded():
    # 1000 unpaid for 5 days (2nd..6th), 400 paid on the 6th, 600 unpaid for 4 more days.
    payments = [(D(2027, 1, 6), "400.00"), (D(2027, 1, 10), "600.00")]
    expected = Decimal("1000") * RATE * 5 + Decimal("600") * RATE * 4  # 15.00 + 7.20
    assert fee("1000.00", D(2027, 2, 1), payments) == expected.quantize(Decimal("0.01"))
    # A part paid before the due date lowers the base from the start.
    assert fee("1000.00", D(2027, 1, 3), [(D(2026, 12, 20), "500.00")]) == Decimal("3.00")


def test_late_fee_rounds_once_not_per_day():
    # One fen for 30 days accrues 0.0009: rounded once it is nothing (per day it would
    # also be nothing, but summing rounded days could drift on other amounts).
    assert fee("0.01", D(2027, 1, 31)) == Decimal("0.00")  # 30 × 0.00003 = 0.0009
    # 333.33 × 0.3% = 0.99999 a day; seven days = 6.99993 → 7.00.
    assert fee("333.33", D(2027, 1, 8)) == Decimal("7.00")


def test_late_fee_pauses_while_on_hold():
    # On hold from the 5th, released on the 15th: days 5..14 do not count.
    holds = [(D(2027, 1, 5), D(2027, 1, 15))]
    # Days 2..20 are 19 days, 10 of them on hold: 9 days × 3.00.
    assert fee("1000.00", D(2027, 1, 20), holds=holds) == Decimal("27.00")
    assert fee("1000.00", D(2027, 1, 20), holds=[(D(2027, 1, 5), None)]) == Decimal("9.00")
