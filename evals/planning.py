"""How many cases an intent needs for a good chance of reaching a decision (`evals plan`).

The decision rule is sound but conservative: at the sizes people run, an intent whose model
fails rarely is still seldom automated. This module answers the planning question the other
way round: given a risk tier, k samples per case and a true answer failure rate, what is the
chance that a run of n cases reaches assist (or better) and automate, and the fewest n for
which that chance is at least 80%.

The chance is computed exactly, through the same `decide()` that decides real runs: cases are
independent; the failed samples of one case follow a binomial distribution (every answer fails
with the same probability) or, with `dispersion`, a beta-binomial one (some cases fail far
more often than others, the adversarial model of `benchmarks/decision_soundness.py`). The
number of failing cases is binomial; given it, the failed answers are a sum of draws from the
per-case distribution conditioned on at least one failure (a convolution). For each number of
failing cases, `decide()` is asked which numbers of failed answers reach the level (it only
gets harder with more failures: found by walking down from the last boundary), and the
probabilities of those counts are summed. Failed answers carry a major finding; with
`critical_share`, each is critical with that probability, and automate then also needs no more
critical answers than the policy allows.

The chance is not strictly increasing in n (the Wilson bounds move in small steps), so the
fewest cases are found by doubling and bisection and then checked: the answer reaches the
target chance and the number before it does not.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from evals.decision_policy import RANK, DecisionPolicy, Level
from evals.decisions import decide_rule
from evals.records import Kind, Risk
from evals.scores import Score, score_from_counts

#: The chance `evals plan` asks for by default.
DEFAULT_CHANCE = 0.8
#: The most cases the planner considers.
PLAN_LIMIT = 20_000
#: Probability mass of failing-case counts left out at each end (negligible at any n).
TAIL = 1e-13


@dataclass(frozen=True)
class Assumptions:
    """The intent being planned: tier, kind, samples per case and how its answers fail."""

    risk: Risk
    k: int
    failure_rate: float
    kind: Kind = "support"
    dispersion: float | None = None  # None: independent failures
    critical_share: float = 0.0


def failed_samples_pmf(assume: Assumptions) -> list[float]:
    """P(j of a case's k samples fail), j = 0..k."""
    k, rate = assume.k, assume.failure_rate
    if rate <= 0:
        return [1.0] + [0.0] * k
    if rate >= 1:
        return [0.0] * k + [1.0]
    if assume.dispersion is None:
        return [math.comb(k, j) * rate**j * (1 - rate) ** (k - j) for j in range(k + 1)]
    total = (1 - assume.dispersion) / assume.dispersion
    a, b = rate * total, (1 - rate) * total
    log_beta = math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)
    pmf = [
        math.comb(k, j)
        * math.exp(math.lgamma(j + a) + math.lgamma(k - j + b) - math.lgamma(k + a + b) - log_beta)
        for j in range(k + 1)
    ]
    norm = sum(pmf)
    return [p / norm for p in pmf]


def _binomial_log_pmf(n: int, m: int, p: float) -> float:
    if p <= 0:
        return 0.0 if m == 0 else -math.inf
    if p >= 1:
        return 0.0 if m == n else -math.inf
    return (
        math.lgamma(n + 1)
        - math.lgamma(m + 1)
        - math.lgamma(n - m + 1)
        + m * math.log(p)
        + (n - m) * math.log1p(-p)
    )


def _range(n: int, p: float) -> tuple[int, int]:
    """Failing-case counts outside which the binomial mass is below TAIL at either end."""
    if p <= 0:
        return 0, 0
    if p >= 1:
        return n, n
    mean, sd = n * p, math.sqrt(n * p * (1 - p))
    low, high = max(0, int(mean - 12 * sd) - 1), min(n, int(mean + 12 * sd) + 2)
    while low > 0 and math.exp(_binomial_log_pmf(n, low, p)) > TAIL:
        low -= 1
    while high < n and math.exp(_binomial_log_pmf(n, high, p)) > TAIL:
        high += 1
    return low, high


class Planner:
    """The chance that `cases` cases reach a level, under a policy and assumptions."""

    def __init__(self, policy: DecisionPolicy, assume: Assumptions) -> None:
        self.policy = policy
        self.assume = assume
        self.pmf = failed_samples_pmf(assume)

    def _reaches(self, cases: int, failing: int, failed: int, level: Level) -> bool:
        k = self.assume.k
        score = score_from_counts(
            target="planned",
            key="planned_intent",
            kind=self.assume.kind,
            risk=self.assume.risk,
            cases=cases,
            k=k,
            all_passed=cases - failing,
            failed=failed,
            critical=0,
            stable_fail=max(0, failed - failing * (k - 1)),
        )
        return RANK[decide_rule(score, self.policy).outcome] >= RANK[level]

    def chance(self, cases: int, level: Level) -> float:
        """P(the rule decides `level` or higher for an intent of `cases` cases)."""
        k, pmf = self.assume.k, self.pmf
        p_failing = 1.0 - pmf[0]
        low, high = _range(cases, p_failing)
        # Per failing case: P(1 + j failed samples), j = 0..k-1.
        conditioned = np.array(pmf[1:]) / p_failing if p_failing > 0 else np.zeros(k)
        bar = self.policy.tiers[self.assume.risk].automate
        allowed = bar.max_critical if (level == "automate" and bar is not None) else None
        # The most failed answers that still reach the level only shrinks as failing cases are
        # added (pass^k falls), until the cap of k per failing case no longer binds: `bound`
        # is that boundary once known, and convolutions are cut there (more never reach).
        bound: int | None = None
        total = 0.0
        extra: NDArray[np.float64] = np.array([1.0])  # P(extra failures | failing cases so far)
        for failing in range(0, high + 1):
            if failing:
                extra = np.convolve(extra, conditioned)
                if bound is not None:
                    extra = extra[: max(0, bound - failing) + 1]
            if failing < low:
                continue
            cap = failing * k if bound is None else min(failing * k, bound)
            found = self._boundary(cases, failing, cap, level)
            if found is None:
                break  # more failing cases only make it harder
            if found < failing * k:
                bound = found
            weight = math.exp(_binomial_log_pmf(cases, failing, p_failing))
            probabilities = extra[: found - failing + 1]
            if allowed is not None and self.assume.critical_share > 0:
                failed = np.arange(len(probabilities)) + failing
                share = self.assume.critical_share
                probabilities = probabilities * _at_most(allowed, failed, share)
            total += weight * float(probabilities.sum())
        return min(1.0, total)

    def _boundary(self, cases: int, failing: int, start: int, level: Level) -> int | None:
        """The most failed answers (at most `start`) with which `failing` failing cases still
        reach the level; None when even one failure per failing case does not."""
        least = failing
        if start < least or not self._reaches(cases, failing, least, level):
            return None
        high = min(start, failing * self.assume.k)
        if self._reaches(cases, failing, high, level):
            return high
        low = least  # reaches at low, not at high
        while high - low > 1:
            middle = (low + high) // 2
            if self._reaches(cases, failing, middle, level):
                low = middle
            else:
                high = middle
        return low

    def cases_for(
        self, level: Level, chance: float = DEFAULT_CHANCE, *, limit: int = PLAN_LIMIT
    ) -> int | None:
        """The fewest cases found with at least `chance` of reaching `level` (None: not within
        `limit`); the number before it has less."""
        if self.chance(limit, level) < chance:
            return None
        low, high = 0, max(1, self.policy.evidence.min_cases)
        while self.chance(high, level) < chance:
            low, high = high, min(limit, high * 2)
        while high - low > 1:
            middle = (low + high) // 2
            if self.chance(middle, level) >= chance:
                high = middle
            else:
                low = middle
        # Bisection can land past a dip of the saw-tooth: step back while the one before holds.
        while high > 1 and self.chance(high - 1, level) >= chance:
            high -= 1
        return high


def _at_most(allowed: int, failed: NDArray[np.int64], share: float) -> NDArray[np.float64]:
    """P(at most `allowed` of `failed` failed answers are critical), elementwise."""
    out = np.zeros(len(failed))
    for index, count in enumerate(failed.tolist()):
        out[index] = sum(
            math.comb(count, c) * share**c * (1 - share) ** (count - c)
            for c in range(min(allowed, count) + 1)
        )
    return out


def assumptions_from_run(score: Score, risk: Risk) -> Assumptions:
    """What a stored (target, intent) score says about the intent: its tier, k, observed answer
    failure rate (errors count as failures, as in the decision) and the share of failed
    answers that were critical. Failures are taken as independent."""
    failed = score.answers - score.passed
    return Assumptions(
        risk=risk,
        k=max(1, score.k),
        failure_rate=failed / score.answers if score.answers else 0.0,
        kind="crisis" if score.kind == "crisis" else "support",
        critical_share=score.critical_answers / failed if failed else 0.0,
    )
