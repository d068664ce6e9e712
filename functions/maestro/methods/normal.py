"""The standard normal distribution in Decimal: its CDF (Phi) and quantile (Phi^-1), exact to
28 significant digits (computed to 40), for PSR and MinTRL (psr.py). No float anywhere.

Phi(x) for x >= 0 is 1/2 + phi(x) * S(x), S(x) = sum over k of x^(2k+1) / (1 * 3 * ... *
(2k+1)) (Marsaglia, "Evaluating the Normal Distribution", J. Stat. Softw. 11(4), 2004): every
term positive, so nothing cancels. Phi(-x) = 1 - Phi(x) cancels about log10(1/Phi(-x)) digits,
so the lower tail is computed with that many digits more.
"""

from __future__ import annotations

import functools
from decimal import Decimal, getcontext, localcontext
from typing import Final

from ..precision import ENGINE_CONTEXT, OUTPUT_DIGITS

# Phi is reported to 28 significant digits (OUTPUT_DIGITS) and compared with min_confidence:
# computing it to 40 keeps every reported digit exact at half the cost of the engine's 50.
_DIGITS: Final = OUTPUT_DIGITS + 12
# Beyond this |x| the lower tail is below 1e-300: Phi(-x) is reported as 0 and Phi(x) as 1.
MAX_ABS_X: Final = Decimal(37)
_HALF: Final = Decimal("0.5")


def normal_cdf(x: Decimal) -> Decimal:
    """Phi(x), the probability that a standard normal variable is at most x, in ENGINE_CONTEXT
    precision (50 digits; callers round to 28)."""
    if x > MAX_ABS_X:
        return Decimal(1)
    if x < -MAX_ABS_X:
        return Decimal(0)
    magnitude = x.copy_abs()  # exact, whatever the thread's context
    # The lower tail loses about x^2 / (2 ln 10) digits to cancellation: add them.
    extra = int(magnitude.to_integral_value() ** 2 // 4) + 2 if x < 0 else 0
    with localcontext(ENGINE_CONTEXT) as context:
        context.prec = _DIGITS + extra
        upper = _HALF + _density(magnitude) * _series(magnitude, context.prec)
        value = upper if x >= 0 else 1 - upper
    return ENGINE_CONTEXT.plus(value)


@functools.lru_cache(maxsize=64)
def normal_quantile(p: Decimal) -> Decimal:
    """Phi^-1(p) for 0 < p < 1: bisection to a bracket, then Newton's steps on Phi. Cached:
    a config's min_confidence asks for the same quantile on every run."""
    if not Decimal(0) < p < Decimal(1):
        raise ValueError(f"normal_quantile: p must be strictly between 0 and 1, got {p}")
    with localcontext(ENGINE_CONTEXT):
        low, high = -MAX_ABS_X, MAX_ABS_X
        for _ in range(12):  # to a bracket of 74 / 2^12, about 0.02
            middle = (low + high) / 2
            if normal_cdf(middle) < p:
                low = middle
            else:
                high = middle
        x = (low + high) / 2
        tolerance = Decimal(1).scaleb(-(_DIGITS - 4))  # Phi is computed to _DIGITS
        for _ in range(20):  # quadratic: 0.02 -> 4e-4 -> 1e-7 -> 1e-14 -> 1e-28 -> 1e-56
            step = (normal_cdf(x) - p) / _density(x)
            x -= step
            if abs(step) <= tolerance * max(abs(x), Decimal(1)):
                break
    return ENGINE_CONTEXT.plus(x)


def _density(x: Decimal) -> Decimal:
    """phi(x) = exp(-x^2 / 2) / sqrt(2 pi), in the current context."""
    return (-(x * x) / 2).exp() / _sqrt_two_pi(getcontext().prec)


@functools.lru_cache(maxsize=16)
def _sqrt_two_pi(digits: int) -> Decimal:
    with localcontext(ENGINE_CONTEXT) as context:
        context.prec = digits
        return (2 * _pi()).sqrt()


def _series(x: Decimal, digits: int) -> Decimal:
    """S(x) = x + x^3/3 + x^5/(3*5) + ..., to `digits` significant digits."""
    term = x
    total = x
    square = x * x
    k = 1
    threshold = Decimal(1).scaleb(-digits)
    while term > threshold * total:
        k += 2
        term = term * square / k
        total += term
    return total


def _pi() -> Decimal:
    """pi to the current precision (Machin's formula: 16 atan(1/5) - 4 atan(1/239))."""
    return 16 * _atan_inverse(5) - 4 * _atan_inverse(239)


def _atan_inverse(n: int) -> Decimal:
    """atan(1/n) by its Taylor series, to the current precision."""
    x = Decimal(1) / n
    square = x * x
    term, total, k = x, x, 1
    sign = -1
    while True:
        term *= square
        k += 2
        addition = sign * term / k
        if total + addition == total:
            return total
        total += addition
        sign = -sign
