"""The softmax allocator and the floor-and-cap rule: methods.md's worked numbers (softmax with a
temperature; ffn's limit_weights; cap and floor by water-filling), and the rule's defining
properties on generated shares, against a float water-filling oracle."""

from __future__ import annotations

from decimal import Decimal, localcontext

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from maestro.methods import AllocatorMethod
from maestro.methods.allocator import AllocationInputs, allocate_shares
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


def test_shares_that_underflowed_keep_the_proportions_of_their_logs() -> None:
    # Softmax shares of scores 1e7 below the top: e^-1e7 is 0 in any Decimal context, so b, c
    # and d arrive as 0, with their logs -1e7, -1e7 and -1e7 - ln 2: true shares 1 : 1 : 1/2.
    # By hand, floor .15, cap .5: a (share 1) would take all, so it is capped at .5; b, c, d
    # share the other .5 as 1 : 1 : .5, i.e. .2, .2, .1; d is below .15, so it gets .15 and b
    # and c share .35 - equally, .175 each (>= .15, <= .5). Dividing 0 by 0 raised before.
    with localcontext(ENGINE_CONTEXT):
        far = D(-(10**7))
        logs = {"a": D(0), "b": far, "c": far, "d": far - D(2).ln()}
        shares = {agent: log.exp() for agent, log in logs.items()}
        assert shares == {"a": 1, "b": 0, "c": 0, "d": 0}
        bounded = bounded_weights(shares, D(1), D("0.15"), D("0.5"), logs)
    assert bounded.weights == {"a": D("0.5"), "b": D("0.175"), "c": D("0.175"), "d": D("0.15")}
    assert bounded.capped == {"a"} and bounded.floored == {"d"}


def test_equal_underflowed_shares_are_capped_in_the_order_of_their_logs() -> None:
    # a, then c and b, both 0 (logs -2e7 and -1e7: b's true share is e^1e7 times c's).
    # Cap .4, no floor: a is capped; b and c would share .6 with b taking all of it (c's
    # share relative to b's, e^-1e7, is 0 too), > .4, so b is capped as well and c gets .2.
    # Ordered as given (c before b), c would be tried as the capped one, and no count fits.
    with localcontext(ENGINE_CONTEXT):
        logs = {"a": D(0), "c": D(-2 * 10**7), "b": D(-(10**7))}
        shares = {agent: log.exp() for agent, log in logs.items()}
        bounded = bounded_weights(shares, D(1), D(0), D("0.4"), logs)
    assert bounded.weights == {"a": D("0.4"), "c": D("0.2"), "b": D("0.4")}
    assert bounded.capped == {"a", "b"}


def test_log_shares_are_given_only_when_a_share_underflowed() -> None:
    def inputs(scores: dict[str, Decimal]) -> AllocationInputs:
        return AllocationInputs(tuple(scores), scores, D(1), {}, {})

    with localcontext(ENGINE_CONTEXT):
        ordinary = allocate_shares(AllocatorMethod.SOFTMAX, inputs({"a": D(2), "b": D(1)}))
        far = allocate_shares(AllocatorMethod.SOFTMAX, inputs({"a": D("1e13"), "b": D(1)}))
    assert ordinary.log_shares is None
    assert far.shares == {"a": 1, "b": 0} and far.log_shares == {"a": 0, "b": 1 - D("1e13")}


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
