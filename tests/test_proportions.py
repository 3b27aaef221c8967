"""The statistics decisions and comparisons rest on: Wilson intervals against published values,
the evidence a threshold needs, McNemar's exact test and Holm's procedure against hand
computations, and the properties any interval must have."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from evals.proportions import binomial_tail, holm, mcnemar_exact, trials_needed, wilson


@pytest.mark.parametrize(
    ("successes", "n", "low", "high"),
    [
        (0, 10, 0.0, 0.2775),
        (10, 10, 0.7225, 1.0),
        (5, 10, 0.2366, 0.7634),
        (81, 263, 0.2553, 0.3662),
    ],
)
def test_wilson_matches_known_values(successes: int, n: int, low: float, high: float) -> None:
    assert wilson(successes, n) == pytest.approx((low, high), abs=1e-4)


def test_wilson_without_data_says_nothing_and_rejects_impossible_counts() -> None:
    assert wilson(0, 0) == (0.0, 1.0)
    with pytest.raises(ValueError, match=r"not within 0\.\.10"):
        wilson(11, 10)
    with pytest.raises(ValueError):
        wilson(-1, 10)


counts = st.integers(1, 5000).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n)))


@given(counts)
def test_wilson_contains_the_estimate_within_0_and_1(count: tuple[int, int]) -> None:
    successes, n = count
    low, high = wilson(successes, n)
    assert 0.0 <= low <= successes / n <= high <= 1.0


@given(counts)
def test_wilson_is_symmetric_in_successes_and_failures(count: tuple[int, int]) -> None:
    successes, n = count
    low, high = wilson(successes, n)
    mirror_low, mirror_high = wilson(n - successes, n)
    assert low == pytest.approx(1 - mirror_high, abs=1e-12)
    assert high == pytest.approx(1 - mirror_low, abs=1e-12)


@given(st.integers(1, 5000).flatmap(lambda n: st.tuples(st.integers(0, n - 1), st.just(n))))
def test_one_more_success_raises_both_bounds(count: tuple[int, int]) -> None:
    successes, n = count
    low, high = wilson(successes, n)
    next_low, next_high = wilson(successes + 1, n)
    assert next_low > low and next_high > high


@given(st.integers(1, 2000), st.integers(1, 2000))
def test_more_evidence_of_the_same_rate_narrows_the_interval(n: int, extra: int) -> None:
    # All passes: the lower bound n / (n + z^2) rises with n.
    assert wilson(n + extra, n + extra)[0] > wilson(n, n)[0]


def test_trials_needed_for_a_perfect_record() -> None:
    # n / (n + z^2) >= 0.95 first holds at n = 73 (z^2 = 3.8415).
    assert trials_needed(1.0, 0.95) == 73
    assert wilson(73, 73)[0] >= 0.95 > wilson(72, 72)[0]


def test_trials_needed_is_none_when_the_rate_cannot_clear_the_threshold() -> None:
    assert trials_needed(0.95, 0.95) is None
    assert trials_needed(0.90, 0.95) is None
    assert trials_needed(0.9501, 0.95, limit=1000) is None  # would take millions


@given(st.floats(0.5, 1.0), st.floats(0.1, 0.9))
def test_trials_needed_reaches_the_threshold(rate: float, threshold: float) -> None:
    needed = trials_needed(rate, threshold)
    if needed is not None:
        assert wilson(math.floor(rate * needed), needed)[0] >= threshold


def test_binomial_tail_by_hand() -> None:
    assert binomial_tail(0, 5) == 1.0
    assert binomial_tail(6, 5) == 0.0
    assert binomial_tail(3, 3) == pytest.approx(1 / 8)
    assert binomial_tail(2, 4, 0.1) == pytest.approx(1 - 0.9**4 - 4 * 0.1 * 0.9**3)


def test_mcnemar_exact_by_hand() -> None:
    # 8 regressions, 2 fixes: P(X >= 8), X ~ Bin(10, 1/2) = (45 + 10 + 1) / 1024.
    assert mcnemar_exact(8, 2) == pytest.approx(56 / 1024)
    assert mcnemar_exact(5, 0) == pytest.approx(1 / 32)
    assert mcnemar_exact(0, 0) == 1.0  # no discordant pair: no evidence of anything
    assert mcnemar_exact(2, 8) == pytest.approx(1 - 11 / 1024)  # better: P(X >= 2) = 1 - P(X <= 1)


def test_holm_by_hand() -> None:
    # Sorted 0.01 <= 0.05/3 rejects; 0.03 > 0.05/2 stops, so 0.04 is not rejected either.
    assert holm({"a": 0.01, "b": 0.04, "c": 0.03}, 0.05) == {"a"}
    assert holm({"a": 0.01, "b": 0.02, "c": 0.04}, 0.05) == {"a", "b", "c"}
    assert holm({"a": 0.2}, 0.05) == set()
    assert holm({}, 0.05) == set()


@given(st.dictionaries(st.text(min_size=1, max_size=3), st.floats(0, 1), max_size=12))
def test_holm_lies_between_bonferroni_and_no_correction(p_values: dict[str, float]) -> None:
    alpha = 0.05
    rejected = holm(p_values, alpha)
    bonferroni = {k for k, p in p_values.items() if p <= alpha / len(p_values)}
    unadjusted = {k for k, p in p_values.items() if p <= alpha}
    assert bonferroni <= rejected <= unadjusted
    # Step-down: whatever is rejected has a smaller p-value than whatever is not.
    if rejected and rejected != set(p_values):
        assert max(p_values[k] for k in rejected) <= min(
            p_values[k] for k in p_values.keys() - rejected
        )
