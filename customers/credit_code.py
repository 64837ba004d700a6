"""Building valid unified social credit codes (GB 32100-2015), for demo data and tests."""

from stdnum.cn import uscc

_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def organisation_code(serial: int) -> str:
    """A 9-character organisation code (GB 11714) with its check character."""
    body = f"{serial:08d}"[-8:]
    total = sum(int(ch) * weight for ch, weight in zip(body, _ORG_WEIGHTS, strict=True))
    check = 11 - total % 11
    return body + {10: "X", 11: "0"}.get(check, str(check))


def make_credit_code(*, region: str, serial: int, authority: str = "9", kind: str = "1") -> str:
    """An 18-character credit code for an enterprise registered in `region` (6-digit code)."""
    body = f"{authority}{kind}{region}{organisation_code(serial)}"
    return body + uscc.calc_check_digit(body)
