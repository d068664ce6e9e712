"""The softmax allocator and the floor-and-cap rule: methods.md's worked numbers (softmax with a
temperature; ffn's limit_weights; cap and floor by water-filling), and the rule's defining
properties on generated shares, against a float water-filling oracle."""

from __future__ import annotations

from decimal import Decimal, localcontext

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from maestro.methods.bounds import bounded_weights
from maestro.methods.softmax import softmax_shares
from maestro.precision import ENGINE_CONTEXT

from .helpers import close

D = Decimal


def normalised(shares: dict[str, Decimal]) -> list[Decimal]:
    total = sum(shares.values(), D(0))
    return [share / total for share in shares.values()]


def test_softmax_with_a_temperature() -> None:
    with localcontext(ENGINE_CONTEXT):
        shares = normalised(
            softmax_shares({"a": D("1.2"), "b": D("0.8"), "c": D("-0.3")}, D("0.5"))
        )
    for got, expected in zip(shares, [0.667060, 0.299729, 0.033211], strict=True):
        assert close(got, expected)


def test_a_cap_alone_is_ffns_limit_weights() -> None:
    with localcontext(ENGINE_CONTEXT):
        shares = dict(zip("abcd", [D("0.6"), D("0.25"), D("0.1"), D("0.05")], strict=True))
        bounded = bounded_weights(shares, D(1), D(0), D("0.4"))
    # [.6, .25, .1, .05] capped at .4: the excess .2 shared in proportion: [.4, .375, .15, .075]
    assert list(bounded.weights.values()) == [D("0.4"), D("0.375"), D("0.15"), D("0.075")]
    assert bounded.capped == {"a"} and bounded.floored == frozenset()


def test_cap_and_floor_together() -> None:
    with localcontext(ENGINE_CONTEXT):
        shares = dict(zip("abcd", [D("0.6"), D("0.25"), D("0.12"), D("0.03")], strict=True))
        bounded = bounded_weights(shares, D(1), D("0.05"), D("0.4"))
    # methods.md: [.4, .371622, .178378, .05]. By hand: a capped (.4) and d floored (.05)
    # leave .55 to b and c in proportion .25 : .12, so b = .55 x .25 / .37 = .371622 ...
    for got, expected in zip(
        bounded.weights.values(), [0.4, 0.371622, 0.178378, 0.05], strict=True
    ):
        assert close(got, expected)
    assert bounded.capped == {"a"} and bounded.floored == {"d"}


def test_when_the_cap_cannot_take_the_budget() -> None:
    with localcontext(ENGINE_CONTEXT):
        bounded = bounded_weights({"a": D(3), "b": D(1)}, D(1), D(0), D("0.3"))
    assert bounded.weights == {"a": D("0.3"), "b": D("0.3")}
    assert bounded.left_over == D("0.4") and bounded.capped == {"a", "b"}


def oracle(shares: np.ndarray, budget: float, floor: float, cap: float) -> np.ndarray:
    """clip(c x p, floor, cap) summing to budget, c by bisection (floats)."""
    low, high = 0.0, 1e9
    for _ in range(200):
        c = (low + high) / 2
        if np.clip(c * shares, floor, cap).sum() < budget:
            low = c
        else:
            high = c
    return np.clip(high * shares, floor, cap)


@settings(max_examples=400, deadline=None)
@given(
    st.lists(st.integers(1, 1000), min_size=1, max_size=8),
    st.sampled_from(["0", "0.01", "0.05", "0.1"]),
    st.sampled_from([None, "0.2", "0.3", "0.5", "1"]),
)
def test_the_rule_is_the_one_clip_that_adds_up(
    raw: list[int], floor_text: str, cap_text: str | None
) -> None:
    floor, cap = D(floor_text), (D(cap_text) if cap_text else None)
    n = len(raw)
    assume(floor * n <= 1 and (cap is None or cap * n >= 1) and (cap is None or cap >= floor))
    shares = {f"agent{i}": D(value) for i, value in enumerate(raw)}
    with localcontext(ENGINE_CONTEXT):
        bounded = bounded_weights(shares, D(1), floor, cap)
        total = sum(bounded.weights.values(), D(0)) + bounded.left_over
        assert abs(total - 1) < D("1e-45")
    weights = bounded.weights
    assert all(floor <= w and (cap is None or w <= cap) for w in weights.values())
    for a, share_a in shares.items():  # a higher share never gets a lower weight
        for b, share_b in shares.items():
            if share_a > share_b:
                assert weights[a] >= weights[b]
    expected = oracle(np.array(raw, float), 1.0, float(floor), float(cap) if cap else 2.0)
    assert np.allclose([float(w) for w in weights.values()], expected, atol=1e-9)
