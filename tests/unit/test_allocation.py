"""allocate_capital: cents that add up exactly to the total."""

from __future__ import annotations

from decimal import Decimal

import pytest

from maestro.allocation import allocate_capital


def test_thirds_of_a_hundred_dollars() -> None:
    # 100 / 3 = 33.333...: 33.33 each leaves 0.01, which goes to the largest remainder (all tie:
    # then to the largest weight, then to the greatest agent id).
    third = Decimal(1) / 3
    weights = {"A": third, "B": third, "C": 1 - 2 * third}
    amounts = allocate_capital(Decimal("100.00"), weights)
    assert amounts == {"A": Decimal("33.33"), "B": Decimal("33.33"), "C": Decimal("33.34")}
    assert sum(amounts.values()) == Decimal("100.00")


def test_largest_remainder_gets_the_cents() -> None:
    # 10.00 x 0.125 = 1.25 exactly; 10.00 x 0.4375 = 4.375 -> 4.37 + remainder 0.005 (x2)
    weights = {"A": Decimal("0.125"), "B": Decimal("0.4375"), "C": Decimal("0.4375")}
    amounts = allocate_capital(Decimal("10.00"), weights)
    assert amounts["A"] == Decimal("1.25")
    assert sorted([amounts["B"], amounts["C"]]) == [Decimal("4.37"), Decimal("4.38")]
    assert sum(amounts.values()) == Decimal("10.00")


def test_all_zero_weights_allocate_nothing() -> None:
    assert allocate_capital(Decimal(1000), {"A": Decimal(0), "B": Decimal(0)}) == {
        "A": Decimal(0),
        "B": Decimal(0),
    }


@pytest.mark.parametrize(
    ("total", "weights", "message"),
    [
        (Decimal("10.001"), {"A": Decimal(1)}, "whole number of cents"),
        (Decimal(-1), {"A": Decimal(1)}, ">= 0"),
        (Decimal("NaN"), {"A": Decimal(1)}, "finite"),
        (Decimal(10), {"A": Decimal("0.5")}, "must sum to 1"),
        (Decimal(10), {"A": Decimal("1.5"), "B": Decimal("-0.5")}, ">= 0"),
    ],
)
def test_bad_arguments_are_refused(
    total: Decimal, weights: dict[str, Decimal], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        allocate_capital(total, weights)
