"""Hierarchical risk parity, as in Lopez de Prado's paper (Advances in Financial Machine
Learning, snippets 16.1-16.4), over the performers' daily records:
1. rho pairwise-complete (each pair over its common days); d = sqrt((1 - rho) / 2);
2. d~ the Euclidean distance between columns of d (the "distance of distances": scipy's
   linkage on the square matrix, as the paper does; PyPortfolioOpt and Riskfolio pass d itself,
   which orders methods.md's 5-agent example differently);
3. naive single linkage on d~: merged clusters numbered in formation order after the agents;
   among equal distances the pair whose agents come first in agent_ids order merges first (a
   cluster counts as its earliest agent); the left child is the lower cluster number;
4. the leaves left to right, then recursive bisection: floor(n / 2) items on the left,
   alpha = 1 - V0 / (V0 + V1), V the variance of a cluster under inverse-variance weights.
Fallbacks (to inverse_volatility): fewer than 20 days on which every performer is defined; a
zero variance (of an agent, or of either agent over a pair's common days); a non-positive
cluster variance. Must run inside ENGINE_CONTEXT."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Final

from . import Fallback
from .allocator import AllocationInputs
from .covariance import pair_statistics

MIN_COMMON_DAYS: Final = 20
_ZERO: Final = Decimal(0)
Matrix = Sequence[Sequence[Decimal]]


def hrp_shares(inputs: AllocationInputs) -> dict[str, Decimal] | Fallback:
    tree = _covariances_and_order(inputs)
    if isinstance(tree, Fallback):
        return tree
    weights = bisection_weights(*tree)
    if weights is None:
        return Fallback.HRP_NON_POSITIVE_CLUSTER_VARIANCE
    return dict(zip(inputs.performers, weights, strict=True))


def hrp_log_shares(inputs: AllocationInputs) -> dict[str, Decimal] | Fallback:
    """ln of each HRP weight, for when hrp_shares gave a 0 (allocator.allocate_shares): each
    split's alpha taken as V1 / (V0 + V1), which it equals, and 1 - alpha as V0 / (V0 + V1),
    neither of which rounds to 0 as 1 - V0 / (V0 + V1) does when V0 is 1e50 times V1."""
    tree = _covariances_and_order(inputs)
    if isinstance(tree, Fallback):
        return tree
    covariances, order = tree
    logs = [_ZERO] * len(order)
    for left, right in _splits(order):
        left_variance = cluster_variance(covariances, left)
        right_variance = cluster_variance(covariances, right)
        if left_variance <= 0 or right_variance <= 0:
            return Fallback.HRP_NON_POSITIVE_CLUSTER_VARIANCE
        total = (left_variance + right_variance).ln()
        for index in left:
            logs[index] += right_variance.ln() - total
        for index in right:
            logs[index] += left_variance.ln() - total
    return dict(zip(inputs.performers, logs, strict=True))


def _covariances_and_order(inputs: AllocationInputs) -> tuple[Matrix, list[int]] | Fallback:
    """Steps 1-4's inputs, or the fallback their data calls for."""
    agents = inputs.performers
    records = [inputs.daily[agent] for agent in agents]
    if min(len(record.returns_pct) for record in records) < MIN_COMMON_DAYS:
        return Fallback.HRP_TOO_FEW_COMMON_DAYS
    # Each unordered pair once (both matrices are symmetric, to the digit).
    n = len(records)
    covariances = [[_ZERO] * n for _ in range(n)]
    correlations = [[_ZERO] * n for _ in range(n)]
    for i in range(n):
        for j in range(i, n):
            statistics = pair_statistics(records[i], records[j])
            correlation = None if statistics is None else statistics.correlation
            if statistics is None or correlation is None:
                return Fallback.HRP_ZERO_VARIANCE
            covariances[i][j] = covariances[j][i] = statistics.covariance
            correlations[i][j] = correlations[j][i] = correlation
    return covariances, quasi_diagonal_order(correlations)


def quasi_diagonal_order(correlations: Matrix) -> list[int]:
    """Steps 1-4: the leaves of the single-linkage tree on d~, left to right. `correlations`
    must be symmetric (a correlation matrix is): only its upper triangle is read."""
    n = len(correlations)
    d = [[_ZERO] * n for _ in range(n)]
    for i in range(n):  # symmetric, as the correlations are: each root once
        for j in range(i, n):
            d[i][j] = d[j][i] = ((1 - correlations[i][j]) / 2).sqrt()
    columns = [[d[k][i] for k in range(n)] for i in range(n)]
    between = [[_ZERO] * n for _ in range(n)]
    for i in range(n):  # symmetric: (a - b)^2 = (b - a)^2 to the digit
        for j in range(i + 1, n):
            total = _ZERO
            for x, y in zip(columns[i], columns[j], strict=True):
                difference = x - y
                total += difference * difference
            between[i][j] = between[j][i] = total.sqrt()
    # cluster number -> (members in leaf order, earliest agent); the distance between two
    # clusters (single linkage: the least between their members), kept as clusters merge.
    clusters: dict[int, tuple[list[int], int]] = {i: ([i], i) for i in range(n)}
    distance: dict[tuple[int, int], Decimal] = {
        (a, b): between[a][b] for a in range(n) for b in range(a + 1, n)
    }
    next_number = n
    while len(clusters) > 1:
        best: tuple[Decimal, int, int, int, int] | None = None
        for (a, b), between_ab in distance.items():
            first, second = sorted((clusters[a][1], clusters[b][1]))
            candidate = (between_ab, first, second, a, b)
            if best is None or candidate < best:
                best = candidate
        assert best is not None
        _, _, _, left, right = best  # left < right: the lower cluster number on the left
        members = clusters[left][0] + clusters[right][0]
        earliest = min(clusters[left][1], clusters[right][1])
        del clusters[left], clusters[right]
        for other in clusters:
            distance[(other, next_number)] = min(
                distance[_pair(other, left)], distance[_pair(other, right)]
            )
        distance = {pair: value for pair, value in distance.items() if left not in pair
                    and right not in pair}  # fmt: skip
        clusters[next_number] = (members, earliest)
        next_number += 1
    ((members, _),) = clusters.values()
    return members


def _pair(a: int, b: int) -> tuple[int, int]:
    return (a, b) if a < b else (b, a)


def bisection_weights(covariances: Matrix, order: list[int]) -> list[Decimal] | None:
    """Step 5 (snippet 16.3): the weights in the agents' own order, or None when a cluster's
    variance is not positive."""
    weights = [Decimal(1)] * len(order)
    for left, right in _splits(order):
        left_variance = cluster_variance(covariances, left)
        right_variance = cluster_variance(covariances, right)
        if left_variance <= 0 or right_variance <= 0:
            return None
        alpha = 1 - left_variance / (left_variance + right_variance)
        for index in left:
            weights[index] *= alpha
        for index in right:
            weights[index] *= 1 - alpha
    return weights


def _splits(order: list[int]) -> Iterator[tuple[list[int], list[int]]]:
    """Each bisection's (left, right), level by level: floor(n / 2) items on the left."""
    items = [order]
    while items:
        items = [
            part
            for item in items
            for part in (item[: len(item) // 2], item[len(item) // 2 :])
            if len(item) > 1
        ]
        yield from zip(items[::2], items[1::2], strict=True)


def cluster_variance(covariances: Matrix, members: list[int]) -> Decimal:
    """w' S w for the cluster's inverse-variance weights w."""
    inverse = [1 / covariances[i][i] for i in members]
    total = sum(inverse, Decimal(0))
    w = [value / total for value in inverse]
    return sum(
        (
            w[a] * w[b] * covariances[i][j]
            for a, i in enumerate(members)
            for b, j in enumerate(members)
        ),
        Decimal(0),
    )
