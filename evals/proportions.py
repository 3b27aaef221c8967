"""Statistics on pass/fail counts: Wilson score intervals, the evidence a threshold needs, and
McNemar's exact test for paired results.

Everything here is exact arithmetic on counts (no sampling, no scipy), so a decision made from a
stored run is reproducible to the last digit.
"""

from __future__ import annotations

import math

#: Two-sided 95% normal quantile.
Z95 = 1.959963984540054


def wilson(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval for a binomial proportion; (0, 1) when there is no data."""
    if n <= 0:
        return (0.0, 1.0)
    if not 0 <= successes <= n:
        raise ValueError(f"successes {successes} not within 0..{n}")
    p = successes / n
    z2 = z * z
    centre = p + z2 / (2 * n)
    spread = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    denominator = 1 + z2 / n
    low = (centre - spread) / denominator
    high = (centre + spread) / denominator
    # Exact endpoints at the boundaries (floating point leaves 1e-17 crumbs).
    return (0.0 if successes == 0 else max(0.0, low), 1.0 if successes == n else min(1.0, high))


def trials_needed(rate: float, threshold: float, *, limit: int = 100_000) -> int | None:
    """The smallest number of trials at which a Wilson lower bound reaches `threshold` if the
    observed `rate` holds; None when it never can (the rate is not above the threshold) or it
    would take more than `limit` trials."""
    if rate <= threshold:
        return None
    low_n, high_n = 1, limit
    if wilson(math.floor(rate * high_n), high_n)[0] < threshold:
        return None
    while low_n < high_n:
        mid = (low_n + high_n) // 2
        if wilson(math.floor(rate * mid), mid)[0] >= threshold:
            high_n = mid
        else:
            low_n = mid + 1
    return low_n


def binomial_tail(k: int, n: int, p: float = 0.5) -> float:
    """P(X >= k) for X ~ Binomial(n, p)."""
    if k <= 0:
        return 1.0
    if k > n:
        return 0.0
    return min(1.0, sum(math.comb(n, i) * p**i * (1 - p) ** (n - i) for i in range(k, n + 1)))


def mcnemar_exact(worse: int, better: int) -> float:
    """One-sided exact McNemar p-value that the candidate is worse than the baseline.

    `worse` counts pairs that passed in the baseline and fail in the candidate, `better` the
    opposite; pairs that agree carry no information. Under no change each discordant pair is a
    fair coin, so p = P(X >= worse) for X ~ Binomial(worse + better, 1/2)."""
    return binomial_tail(worse, worse + better, 0.5)


def holm(p_values: dict[str, float], alpha: float) -> set[str]:
    """The keys whose hypotheses Holm's step-down procedure rejects at family-wise `alpha`."""
    rejected: set[str] = set()
    ordered = sorted(p_values.items(), key=lambda kv: (kv[1], kv[0]))
    m = len(ordered)
    for rank, (key, p) in enumerate(ordered):
        if p > alpha / (m - rank):
            break
        rejected.add(key)
    return rejected
