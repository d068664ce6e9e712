"""Phi and Phi^-1 in Decimal, exact to 28 significant digits (checked against mpmath at 60)."""

from __future__ import annotations

from decimal import Decimal

import mpmath
import pytest

from maestro.methods.normal import normal_cdf, normal_quantile

mpmath.mp.dps = 60


@pytest.mark.parametrize(
    "x", ["-36.5", "-20", "-8.25", "-3", "-1", "-0.001", "0", "0.5", "1", "2.5", "7", "12", "30"]
)
def test_phi_is_exact_to_28_digits(x: str) -> None:
    expected = mpmath.ncdf(mpmath.mpf(x))
    got = mpmath.mpf(str(normal_cdf(Decimal(x))))
    assert abs(got - expected) <= abs(expected) * mpmath.mpf("1e-28")


def test_phi_is_symmetric_and_saturates() -> None:
    for x in ("0.3", "2", "5.5"):
        assert abs(normal_cdf(Decimal(x)) + normal_cdf(-Decimal(x)) - 1) < Decimal("1e-37")
    assert normal_cdf(Decimal(40)) == 1 and normal_cdf(Decimal(-40)) == 0


@pytest.mark.parametrize("p", ["0.001", "0.05", "0.5", "0.9", "0.95", "0.99", "0.999999"])
def test_the_quantile_inverts_phi(p: str) -> None:
    expected = mpmath.sqrt(2) * mpmath.erfinv(2 * mpmath.mpf(p) - 1)
    got = normal_quantile(Decimal(p))
    assert abs(mpmath.mpf(str(got)) - expected) < mpmath.mpf("1e-28")
    assert abs(normal_cdf(got) - Decimal(p)) < Decimal("1e-36")


def test_the_quantile_refuses_what_is_not_a_probability() -> None:
    for p in ("0", "1", "-0.5", "1.5"):
        with pytest.raises(ValueError, match="strictly between 0 and 1"):
            normal_quantile(Decimal(p))
