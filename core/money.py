"""Money in yuan: Decimal with fen precision, ROUND_HALF_UP, and Chinese capital numerals."""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.db import models

FEN = Decimal("0.01")
ZERO = Decimal("0.00")


def yuan(value: Decimal | int | str) -> Decimal:
    """An amount in yuan rounded half-up to the fen. Floats are refused: they are inexact."""
    if isinstance(value, float):
        raise TypeError("money must not be a float; pass a Decimal, int or str")
    try:
        return Decimal(value).quantize(FEN, rounding=ROUND_HALF_UP)
    except InvalidOperation as exc:
        raise ValueError(f"not an amount: {value!r}") from exc


class MoneyField(models.DecimalField):
    """A yuan amount with fen precision (up to 999,999,999,999.99)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_digits", 14)
        kwargs.setdefault("decimal_places", 2)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        for key, default in (("max_digits", 14), ("decimal_places", 2)):
            if kwargs.get(key) == default:
                kwargs.pop(key)
        return name, path, args, kwargs


_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_SMALL_UNITS = ["", "拾", "佰", "仟"]
_BIG_UNITS = ["", "万", "亿", "万亿"]


def _four_digits(group: int) -> str:
    """Capital numerals for 0 < group < 10000, with inner zeros collapsed to one 零."""
    text = ""
    zero_pending = False
    for position in range(3, -1, -1):
        digit = group // 10**position % 10
        if digit == 0:
            zero_pending = bool(text)
            continue
        if zero_pending:
            text += "零"
            zero_pending = False
        text += _DIGITS[digit] + _SMALL_UNITS[position]
    return text


def capital_amount(value: Decimal | int | str) -> str:
    """An amount written in Chinese capital numerals (大写金额), as on invoices.

    `capital_amount(Decimal("1003.50"))` is "壹仟零叁元伍角"; whole amounts end in 整.
    Negative amounts are prefixed with 负.
    """
    amount = yuan(value)
    if amount < 0:
        return "负" + capital_amount(-amount)
    fen_total = int(amount * 100)
    integer, cents = divmod(fen_total, 100)
    jiao, fen = divmod(cents, 10)

    words = ""
    if integer:
        groups = []
        while integer:
            groups.append(integer % 10000)
            integer //= 10000
        need_zero = False
        for index in range(len(groups) - 1, -1, -1):
            group = groups[index]
            if group == 0:
                need_zero = bool(words)
                continue
            if words and (need_zero or group < 1000):
                words += "零"
            words += _four_digits(group) + _BIG_UNITS[index]
            need_zero = False
        words += "元"
    if not jiao and not fen:
        return (words or "零元") + "整"
    if jiao:
        words += _DIGITS[jiao] + "角"
    elif words:
        words += "零"
    if fen:
        words += _DIGITS[fen] + "分"
    else:
        words += "整"
    return words
