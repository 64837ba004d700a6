from decimal import Decimal

import pytest

from core.money import capital_amount, yuan


def test_yuan_rounds_half_up_to_the_fen():
    assert yuan("1.005") == Decimal("1.01")
    assert yuan("2.004") == Decimal("2.00")
    assert yuan(3) == Decimal("3.00")


def test_yuan_refuses_floats_and_nonsense():
    with pytest.raises(TypeError):
        yuan(0.1)
    with pytest.raises(ValueError):
        yuan("twelve")


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        ("0", "零元整"),
        ("0.05", "伍分"),
        ("0.50", "伍角整"),
        ("1", "壹元整"),
        ("10", "壹拾元整"),
        ("105", "壹佰零伍元整"),
        ("1003.50", "壹仟零叁元伍角整"),
        ("1000.05", "壹仟元零伍分"),
        ("3600.00", "叁仟陆佰元整"),
        ("10086.4", "壹万零捌拾陆元肆角整"),
        ("100000", "壹拾万元整"),
        ("1200304.56", "壹佰贰拾万零叁佰零肆元伍角陆分"),
        ("100000000", "壹亿元整"),
        ("-12.30", "负壹拾贰元叁角整"),
    ],
)
def test_capital_amount_matches_invoice_convention(amount, words):
    assert capital_amount(Decimal(amount)) == words
