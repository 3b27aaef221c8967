"""Soundness of the decision rule: how often does it automate an intent it should not?

An intent is falsely automated when `decide()` says `automate` although the intent's true answer
failure rate is above its tier's tolerance, `DecisionPolicy.tolerance(risk)` = 1 -
automate.min_pass_k (bundled default policy: 0.10 low, 0.05 medium, 0.02 high risk). The bar
the issue sets: at most 5% in every scenario.

    .venv/bin/python benchmarks/decision_soundness.py [--trials 2000] [--seed 0] [--quick] \
        [--dispersion 0.9] [--critical-share 0.5] [--check 40] [--json FILE]

Scenarios: tier (low, medium, high) x cases per intent (20, 50, 100, 200, 400) x samples per
case k (1, 3, 5) x true answer failure rate (tolerance x 1.0001, 1.25, 1.5, 2: false automation;
x 0.5, 0.25, 0: power) x failure model:

- independent: every answer fails with the same probability;
- clustered: each case draws its own failure probability from a Beta distribution with the
  given mean and intra-case correlation `--dispersion` (0.9: U-shaped, most cases almost never
  fail and a few almost always do). This is the adversarial model for any rule that would treat
  answers as independent: k samples of an always-failing case are one failure, not k.

Every scenario is reported in two variants of the same simulated intents: failed answers carry
only a `major` finding (the statistical part of the rule alone), or each failed answer carries
a `critical` finding with probability `--critical-share` (then `max_critical` blocks too).

How a decision is computed (three ways that must agree):

1. simulation, `--trials` intents per scenario: the failed samples of each case are drawn from
   the model's per-case distribution (binomial, or beta-binomial for the clustered model), the
   counts are turned into the `Score` record that `scores()` builds from such results
   (`count_score`), and the real `decide()` with the bundled default policy decides it,
   memoised on the counts the outcome depends on. Building a pydantic CaseResult for each of the
   6 x 10^8 simulated answers of a full run would take hours, hence counts;
2. the real path, `--check` intents for a sample of scenarios: answers are drawn one at a time
   (clustered: the case's probability from `random.betavariate`), Case and CaseResult records
   are built, and `scores()` then `decide()` run on them. Every such Score must equal
   `count_score`'s for the same draws and every decision must match, which proves (1) computes
   what the real path computes;
3. exact: the set of (failing cases, failed answers, critical answers) that `decide()` automates
   is found by calling `decide()` itself, and its probability is summed from the per-case
   distribution (cases are independent under both models, samples within a case need not be).
   The simulated count must not be implausible under the exact value (two-sided binomial
   test, p >= 1e-5).

Exits 1 when the worst false-automation rate (simulated or exact) exceeds 0.05, or when the
three computations disagree. Only the standard library's `random`, seeded per scenario (its
figures do not depend on which other scenarios run).

Measured (full run, seed 0, 2-core machine, about 80 s): worst false automation 0.95% exact
(high risk, clustered, 200 cases x 3, rate = tolerance); with complete clustering
(`--dispersion 0.999`) it approaches the Wilson bound's one-sided error: 2.3% at these sizes,
2.6% at worst over 20-400 cases (84 cases, low risk). The price is power when failures are
independent: pass^k of k independent answers is about 1 - k x rate, so an intent at half the
tolerance is almost never automated, and more samples per case make that worse. How many
cases a given failure rate needs for a good chance of automate (the other side of this
benchmark) is `evals plan`, computed exactly through the same `decide()` and checked against
`exact_automation` here (tests/faults/test_plan.py).
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import random
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

from tabulate import tabulate

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from evals.decision_policy import DecisionPolicy, Outcome, load_decision_policy  # noqa: E402
from evals.decisions import decide  # noqa: E402
from evals.proportions import wilson  # noqa: E402
from evals.records import (  # noqa: E402
    Case,
    CaseResult,
    Finding,
    Kind,
    Response,
    Risk,
    Severity,
)
from evals.scores import Score, score_from_counts, scores  # noqa: E402

Model = Literal["independent", "clustered"]
Answer = Literal["pass", "major", "critical"]

TIERS: tuple[Risk, ...] = ("low", "medium", "high")
MODELS: tuple[Model, ...] = ("independent", "clustered")
CASES = (20, 50, 100, 200, 400)
SAMPLES = (1, 3, 5)
ABOVE = (1.0001, 1.25, 1.5, 2.0)
BELOW = (0.5, 0.25, 0.0)
QUICK_CASES = (50, 200, 400)
QUICK_SAMPLES = (3,)

#: The issue's bar on the false-automation rate.
BAR = 0.05
#: Simulation and exact value disagree when the simulated count would be this unlikely if the
#: exact value were right (two-sided binomial test; over ~1,300 comparisons a false alarm is
#: about 1 in 100). A Wilson interval would not do: at 1 hit in a few trials it excludes small
#: true probabilities that produce that hit quite often.
AGREEMENT_P = 1e-5

TARGET = "bot"
INTENT = "simulated_intent"
#: The finding a failed answer carries: (guardrail, code, message) per severity.
FINDINGS: dict[Severity, tuple[str, str, str]] = {
    "major": ("handoff", "handoff.missing", "offered no path to a person"),
    "critical": ("policy", "policy.unsupported", "stated a policy the company does not have"),
}


@dataclass(frozen=True)
class Scenario:
    tier: Risk
    model: Model
    cases: int
    k: int
    multiple: float  # true failure rate / tolerance
    tolerance: float
    rate: float

    @property
    def above(self) -> bool:
        """The rule must (almost) never automate this intent."""
        return self.rate > self.tolerance

    def seed(self, base: int) -> str:
        return f"{base}:{self.tier}:{self.model}:{self.cases}:{self.k}:{self.multiple}"


def scenarios(
    policy: DecisionPolicy, cases: Iterable[int], samples: Iterable[int]
) -> list[Scenario]:
    out = []
    for tier, model, n, k, multiple in itertools.product(
        TIERS, MODELS, cases, samples, ABOVE + BELOW
    ):
        tolerance = policy.tolerance(tier)
        assert tolerance is not None, f"the {tier} tier is never automated"
        out.append(Scenario(tier, model, n, k, multiple, tolerance, tolerance * multiple))
    return out


# --- the per-case distribution of failed samples --------------------------------------------


def beta_parameters(mean: float, dispersion: float) -> tuple[float, float]:
    """Beta(a, b) with this mean and intra-case correlation 1 / (a + b + 1) = dispersion."""
    total = (1 - dispersion) / dispersion
    return mean * total, (1 - mean) * total


def binomial_pmf(k: int, p: float) -> list[float]:
    return [math.comb(k, j) * p**j * (1 - p) ** (k - j) for j in range(k + 1)]


def beta_binomial_pmf(k: int, mean: float, dispersion: float) -> list[float]:
    """P(j of a case's k samples fail) when the case's failure probability is Beta-distributed."""
    if mean <= 0:
        return [1.0] + [0.0] * k
    a, b = beta_parameters(mean, dispersion)
    log_beta_ab = math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)
    pmf = [
        math.comb(k, j)
        * math.exp(
            math.lgamma(j + a) + math.lgamma(k - j + b) - math.lgamma(k + a + b) - log_beta_ab
        )
        for j in range(k + 1)
    ]
    total = sum(pmf)
    return [p / total for p in pmf]


def failed_samples_pmf(scenario: Scenario, dispersion: float) -> list[float]:
    if scenario.model == "independent":
        return binomial_pmf(scenario.k, scenario.rate)
    return beta_binomial_pmf(scenario.k, scenario.rate, dispersion)


# --- from counts to the decision -------------------------------------------------------------


def count_score(
    tier: Risk,
    cases: int,
    k: int,
    *,
    all_passed: int,
    failed: int,
    critical: int,
    stable_fail: int,
    kind: Kind = "support",
) -> Score:
    """The Score `scores()` builds for one intent of `cases` cases x `k` samples in which
    `failed` answers failed (`critical` of them with a critical finding, the others with a
    major one) and `all_passed` cases passed every sample: `evals.scores.score_from_counts`,
    which `evals plan` uses too. Proven equal to the records' path by `real_score`."""
    return score_from_counts(
        target=TARGET,
        key=INTENT,
        kind=kind,
        risk=tier,
        cases=cases,
        k=k,
        all_passed=all_passed,
        failed=failed,
        critical=critical,
        stable_fail=stable_fail,
    )


@dataclass
class Decider:
    """`decide()` on `count_score`, memoised on what the outcome depends on. How a given number
    of failures spreads into stable-fail and flaky cases does not enter the rule (only
    cases_all_passed does), so the memo uses the fewest stable-fail cases the counts allow."""

    policy: DecisionPolicy
    memo: dict[tuple[Risk, int, int, int, int, int], Outcome] = field(default_factory=dict)
    calls: int = 0

    def outcome(
        self, tier: Risk, cases: int, k: int, all_passed: int, failed: int, critical: int
    ) -> Outcome:
        key = (tier, cases, k, all_passed, failed, critical)
        found = self.memo.get(key)
        if found is None:
            failing = cases - all_passed
            score = count_score(
                tier,
                cases,
                k,
                all_passed=all_passed,
                failed=failed,
                critical=critical,
                stable_fail=max(0, failed - failing * (k - 1)),
            )
            found = self.memo[key] = decide(score, self.policy).outcome
            self.calls += 1
        return found

    def automates(
        self, tier: Risk, cases: int, k: int, all_passed: int, failed: int, critical: int
    ) -> bool:
        return self.outcome(tier, cases, k, all_passed, failed, critical) == "automate"


# --- 1. simulation ---------------------------------------------------------------------------


def simulate(
    scenario: Scenario,
    decider: Decider,
    trials: int,
    rng: random.Random,
    *,
    dispersion: float,
    critical_share: float,
) -> tuple[int, int]:
    """Intents automated out of `trials`: (failures major only, failures critical by share)."""
    pmf = failed_samples_pmf(scenario, dispersion)
    cumulative = list(itertools.accumulate(pmf))
    values = list(range(scenario.k + 1))
    tier, n, k = scenario.tier, scenario.cases, scenario.k
    major = critical = 0
    for _ in range(trials):
        failed_per_case = rng.choices(values, cum_weights=cumulative, k=n)
        all_passed = failed_per_case.count(0)
        failed = sum(failed_per_case)
        # Critical findings only ever block automation, so they are drawn only when the same
        # intent with major findings would be automated.
        if decider.automates(tier, n, k, all_passed, failed, 0):
            major += 1
            crit = sum(rng.random() < critical_share for _ in range(failed))
            critical += crit == 0 or decider.automates(tier, n, k, all_passed, failed, crit)
    return major, critical


# --- 2. the real path ------------------------------------------------------------------------


def draw_answers(
    scenario: Scenario, rng: random.Random, *, dispersion: float, critical_share: float
) -> list[list[Answer]]:
    """Every answer of one intent, drawn one at a time from the generative model."""
    a, b = beta_parameters(scenario.rate, dispersion) if scenario.rate > 0 else (0.0, 0.0)
    out: list[list[Answer]] = []
    for _ in range(scenario.cases):
        if scenario.rate <= 0:
            p = 0.0
        elif scenario.model == "independent":
            p = scenario.rate
        else:
            p = rng.betavariate(a, b)
        out.append(
            [
                "pass"
                if rng.random() >= p
                else ("critical" if rng.random() < critical_share else "major")
                for _ in range(scenario.k)
            ]
        )
    return out


def intent_records(
    tier: Risk, answers: Sequence[Sequence[Answer]], *, kind: Kind = "support"
) -> tuple[list[CaseResult], dict[str, Case]]:
    """Case and CaseResult records of one intent: case i's samples passed or failed as given."""
    cases: dict[str, Case] = {}
    results: list[CaseResult] = []
    for i, samples in enumerate(answers):
        case = Case.model_validate(
            {
                "id": f"c{i:04d}",
                "intent": INTENT,
                "kind": kind,
                "language": "en",
                "channel": "chat",
                "risk": tier,
                "company": "acme",
                "messages": [{"role": "user", "content": f"Where is my refund? ({i})"}],
            }
        )
        cases[case.id] = case
        for sample, answer in enumerate(samples):
            findings = []
            if answer != "pass":
                guardrail, code, message = FINDINGS[answer]
                findings.append(
                    Finding(guardrail=guardrail, code=code, severity=answer, message=message)
                )
            results.append(
                CaseResult(
                    run_id="simulated",
                    case_id=case.id,
                    target=TARGET,
                    sample=sample,
                    seed=sample,
                    response=Response(text=f"answer {i}.{sample}"),
                    findings=findings,
                    passed=answer == "pass",
                )
            )
    return results, cases


def real_score(tier: Risk, answers: Sequence[Sequence[Answer]], *, kind: Kind = "support") -> Score:
    """The intent's Score as the scorecard computes it: records through `scores()`."""
    results, cases = intent_records(tier, answers, kind=kind)
    return next(s for s in scores(results, cases)[0] if s.group == "intent" and s.key == INTENT)


def score_of_answers(tier: Risk, answers: Sequence[Sequence[Answer]]) -> Score:
    """`count_score` for the counts of these answers."""
    failed_per_case = [sum(a != "pass" for a in samples) for samples in answers]
    k = min(len(samples) for samples in answers)
    return count_score(
        tier,
        len(answers),
        k,
        all_passed=failed_per_case.count(0),
        failed=sum(failed_per_case),
        critical=sum(a == "critical" for samples in answers for a in samples),
        stable_fail=sum(f == len(s) for f, s in zip(failed_per_case, answers, strict=True)),
    )


@dataclass
class Check:
    scenario: Scenario
    trials: int = 0
    automated_major: int = 0
    automated_critical: int = 0
    mismatches: list[str] = field(default_factory=list)


def check_real_path(
    scenario: Scenario,
    decider: Decider,
    trials: int,
    rng: random.Random,
    *,
    dispersion: float,
    critical_share: float,
) -> Check:
    """Run `trials` intents through records, `scores()` and `decide()`, in both variants, and
    compare every Score and outcome with what the count path gives for the same draws."""
    check = Check(scenario)
    for trial in range(trials):
        drawn = draw_answers(scenario, rng, dispersion=dispersion, critical_share=critical_share)
        as_major: list[list[Answer]] = [
            ["major" if a == "critical" else a for a in samples] for samples in drawn
        ]
        for variant, answers in (("major", as_major), ("critical", drawn)):
            real = real_score(scenario.tier, answers)
            counted = score_of_answers(scenario.tier, answers)
            outcome = decide(real, decider.policy).outcome
            memo = decider.outcome(
                scenario.tier,
                real.cases,
                real.k,
                real.cases_all_passed,
                real.failed,
                real.critical_answers,
            )
            if real != counted:
                check.mismatches.append(f"trial {trial} {variant}: Score differs")
            if outcome != memo:
                check.mismatches.append(f"trial {trial} {variant}: {outcome} vs memo {memo}")
            if outcome == "automate":
                if variant == "major":
                    check.automated_major += 1
                else:
                    check.automated_critical += 1
        check.trials += 1
    return check


# --- 3. exact --------------------------------------------------------------------------------

#: failing cases -> failed answers -> the most critical answers that still automate.
Region = dict[int, dict[int, int]]


def automate_region(decider: Decider, tier: Risk, cases: int, k: int) -> Region:
    """Every (failing cases, failed answers) that `decide()` automates with no critical answer,
    with the most critical answers it tolerates there. Stops at the first number of failing
    cases with no automated point: more failing cases only lower pass^k's bound (tested)."""
    region: Region = {}
    for failing in range(cases + 1):
        row: dict[int, int] = {}
        all_passed = cases - failing
        for failed in range(failing, failing * k + 1):
            if not decider.automates(tier, cases, k, all_passed, failed, 0):
                continue
            most = 0
            while most < failed and decider.automates(tier, cases, k, all_passed, failed, most + 1):
                most += 1
            row[failed] = most
        if not row:
            break
        region[failing] = row
    return region


def exact_automation(
    pmf: Sequence[float], cases: int, region: Region, critical_share: float
) -> tuple[float, float]:
    """P(automate) for `cases` independent cases whose failed samples follow `pmf`:
    (failures major only, each failure critical with probability `critical_share`).

    The number of failing cases is binomial; given it, the failed answers are a sum of that many
    draws from `pmf` conditioned on at least one failure (convolved up to the region's edge)."""
    if not region:
        return 0.0, 0.0
    p_failing = 1.0 - pmf[0]
    if p_failing <= 0:
        row = region.get(0, {})
        return (1.0, 1.0) if 0 in row else (0.0, 0.0)
    conditioned = [p / p_failing for p in pmf[1:]]  # P(j + 1 failed | case failing)
    edge = max(max(row) for row in region.values())
    total: list[float] = [1.0] + [0.0] * edge  # P(failed answers = f | failing cases so far)
    major = critical = 0.0
    for failing in range(max(region) + 1):
        if failing:
            total = [
                sum(
                    total[f - j - 1] * conditioned[j]
                    for j in range(len(conditioned))
                    if f - j - 1 >= 0
                )
                for f in range(edge + 1)
            ]
        points = region.get(failing)
        if not points:
            continue
        weight = math.comb(cases, failing) * p_failing**failing * pmf[0] ** (cases - failing)
        major += weight * sum(total[f] for f in points)
        critical += weight * sum(
            total[f] * _at_most(most, f, critical_share) for f, most in points.items()
        )
    return min(1.0, major), min(1.0, critical)


def binomial_p_value(x: int, n: int, p: float) -> float:
    """Two-sided p-value of x successes in n trials of probability p (twice the smaller tail)."""
    if p <= 0 or p >= 1:
        return 1.0 if x == round(p * n) else 0.0
    log_p, log_q, log_n = math.log(p), math.log1p(-p), math.lgamma(n + 1)

    def pmf(i: int) -> float:
        return math.exp(
            log_n - math.lgamma(i + 1) - math.lgamma(n - i + 1) + i * log_p + (n - i) * log_q
        )

    # Terms more than 40 standard deviations from the mean are below 1e-300: skip them.
    reach = 40 * math.sqrt(n * p * (1 - p)) + 10
    low, high = max(0, math.floor(n * p - reach)), min(n, math.ceil(n * p + reach))
    lower = sum(pmf(i) for i in range(min(low, x), x + 1))
    upper = sum(pmf(i) for i in range(x, max(high, x) + 1))
    return min(1.0, 2 * min(lower, upper))


def _at_most(c: int, n: int, p: float) -> float:
    """P(Binomial(n, p) <= c)."""
    return min(1.0, sum(math.comb(n, i) * p**i * (1 - p) ** (n - i) for i in range(c + 1)))


# --- the report ------------------------------------------------------------------------------


@dataclass
class Row:
    tier: str
    model: str
    cases: int
    k: int
    multiple: float
    tolerance: float
    rate: float
    trials: int
    automated_major: int
    automated_critical: int
    exact_major: float
    exact_critical: float

    @property
    def above(self) -> bool:
        return self.multiple > 1

    def share(self, variant: str) -> float:
        count = self.automated_major if variant == "major" else self.automated_critical
        return count / self.trials

    def exact(self, variant: str) -> float:
        return self.exact_major if variant == "major" else self.exact_critical

    def upper(self, variant: str) -> float:
        count = self.automated_major if variant == "major" else self.automated_critical
        return wilson(count, self.trials)[1]

    def agrees(self, variant: str) -> bool:
        count = self.automated_major if variant == "major" else self.automated_critical
        return binomial_p_value(count, self.trials, self.exact(variant)) >= AGREEMENT_P

    def label(self) -> str:
        return f"{self.tier}/{self.model}/{self.cases} cases/k={self.k}/x{self.multiple:g}"


def run(
    policy: DecisionPolicy,
    *,
    cases: Sequence[int],
    samples: Sequence[int],
    trials: int,
    seed: int,
    dispersion: float,
    critical_share: float,
    decider: Decider | None = None,
) -> list[Row]:
    """Simulate and compute exactly every scenario of these sizes."""
    decider = decider or Decider(policy)
    regions: dict[tuple[Risk, int, int], Region] = {}
    rows = []
    for scenario in scenarios(policy, cases, samples):
        key = (scenario.tier, scenario.cases, scenario.k)
        if key not in regions:
            regions[key] = automate_region(decider, *key)
        rng = random.Random(scenario.seed(seed))
        major, critical = simulate(
            scenario, decider, trials, rng, dispersion=dispersion, critical_share=critical_share
        )
        exact = exact_automation(
            failed_samples_pmf(scenario, dispersion), scenario.cases, regions[key], critical_share
        )
        rows.append(
            Row(
                scenario.tier,
                scenario.model,
                scenario.cases,
                scenario.k,
                scenario.multiple,
                scenario.tolerance,
                scenario.rate,
                trials,
                major,
                critical,
                *exact,
            )
        )
    return rows


def _pct(x: float) -> str:
    return f"{100 * x:.2f}%"


def print_rows(rows: Sequence[Row]) -> None:
    table = [
        [
            r.tier,
            r.model,
            r.cases,
            r.k,
            f"{r.rate:.5g}",
            f"{r.tolerance:.2f}",
            f"x{r.multiple:g}",
            "false automation" if r.above else "power",
            _pct(r.share("major")),
            _pct(r.upper("major")),
            _pct(r.exact("major")),
            _pct(r.share("critical")),
            _pct(r.exact("critical")),
        ]
        for r in rows
    ]
    print(
        tabulate(
            table,
            headers=[
                "tier",
                "failures",
                "cases",
                "k",
                "true rate",
                "tolerance",
                "rate/tol",
                "measures",
                "major: sim",
                "sim 95% upper",
                "exact",
                "critical: sim",
                "exact",
            ],
            disable_numparse=True,
        )
    )


def print_summary(rows: Sequence[Row]) -> None:
    summary = []
    for tier, model, variant in itertools.product(TIERS, MODELS, ("major", "critical")):
        mine = [r for r in rows if r.tier == tier and r.model == model]
        above = [r for r in mine if r.above]
        worst = max(above, key=lambda r: (r.exact(variant), r.share(variant)))
        half = [r for r in mine if r.multiple == 0.5]
        best = max(half, key=lambda r: r.exact(variant))
        perfect = [r for r in mine if r.multiple == 0 and r.exact(variant) == 1.0]
        summary.append(
            [
                tier,
                model,
                variant,
                _pct(max(r.share(variant) for r in above)),
                _pct(worst.exact(variant)),
                f"{worst.cases} cases, k={worst.k}, x{worst.multiple:g}",
                f"{_pct(best.exact(variant))} ({best.cases} cases, k={best.k})",
                min((r.cases for r in perfect), default="never"),
            ]
        )
    print(
        tabulate(
            summary,
            headers=[
                "tier",
                "failures",
                "findings",
                "worst false automation (sim)",
                "(exact)",
                "where (exact)",
                "best power at x0.5 (exact)",
                "fewest cases automating a perfect intent",
            ],
            disable_numparse=True,
        )
    )


def check_scenarios(policy: DecisionPolicy, cases: Sequence[int]) -> list[Scenario]:
    """For each tier and model: the smallest size at which k=3 can automate, at the boundary
    and well below it (so the real path meets both outcomes)."""
    decider = Decider(policy)
    out = []
    for tier in TIERS:
        smallest = next(
            (n for n in sorted(cases) if decider.automates(tier, n, 3, n, 0, 0)), max(cases)
        )
        out += [
            s
            for s in scenarios(policy, [smallest], [3])
            if s.tier == tier and s.multiple in (1.0001, 0.25)
        ]
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=2000, help="simulated intents per scenario")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--quick", action="store_true", help="300 trials, 50/200/400 cases, k=3 only"
    )
    parser.add_argument(
        "--dispersion", type=float, default=0.9, help="clustered model: intra-case correlation"
    )
    parser.add_argument(
        "--critical-share",
        type=float,
        default=0.5,
        help="critical variant: share of failed answers carrying a critical finding",
    )
    parser.add_argument(
        "--check", type=int, default=40, help="intents per checked scenario on the real path"
    )
    parser.add_argument("--json", type=Path, help="also write every row as JSON here")
    args = parser.parse_args()
    if args.trials < 1 or args.check < 0 or not 0 < args.dispersion < 1:
        parser.error("--trials >= 1, --check >= 0 and 0 < --dispersion < 1")
    if not 0 <= args.critical_share <= 1:
        parser.error("--critical-share must be within 0..1")
    trials: int = args.trials
    cases: Sequence[int] = CASES
    samples: Sequence[int] = SAMPLES
    if args.quick:
        trials, cases, samples = min(trials, 300), QUICK_CASES, QUICK_SAMPLES
        args.check = min(args.check, 10)

    policy = load_decision_policy()
    print(
        f"policy {policy.name}@{policy.version}#{policy.content_hash()}; tolerances: "
        + ", ".join(f"{t} {policy.tolerance(t)}" for t in TIERS)
        + f"; {trials} intents per scenario, seed {args.seed}, dispersion {args.dispersion}, "
        f"critical share {args.critical_share}"
    )
    decider = Decider(policy)
    started = time.perf_counter()
    rows = run(
        policy,
        cases=cases,
        samples=samples,
        trials=trials,
        seed=args.seed,
        dispersion=args.dispersion,
        critical_share=args.critical_share,
        decider=decider,
    )
    simulated = time.perf_counter() - started

    checks = []
    check_started = time.perf_counter()
    if args.check:
        for scenario in check_scenarios(policy, cases):
            rng = random.Random("check:" + scenario.seed(args.seed))
            checks.append(
                check_real_path(
                    scenario,
                    decider,
                    args.check,
                    rng,
                    dispersion=args.dispersion,
                    critical_share=args.critical_share,
                )
            )
    checked = time.perf_counter() - check_started

    print_rows(rows)
    print()
    print_summary(rows)
    print()

    check_failed = False
    if checks:
        by_key = {(r.tier, r.model, r.cases, r.k, r.multiple): r for r in rows}
        table = []
        for c in checks:
            s = c.scenario
            row = by_key[(s.tier, s.model, s.cases, s.k, s.multiple)]
            consistent = all(
                binomial_p_value(count, c.trials, exact) >= AGREEMENT_P
                for count, exact in (
                    (c.automated_major, row.exact_major),
                    (c.automated_critical, row.exact_critical),
                )
            )
            table.append(
                [
                    f"{s.tier}/{s.model}/{s.cases} cases/k={s.k}/x{s.multiple:g}",
                    c.trials,
                    f"{c.automated_major} / {c.automated_critical}",
                    f"{_pct(row.exact_major)} / {_pct(row.exact_critical)}",
                    "yes" if not c.mismatches and consistent else "NO",
                ]
            )
            for mismatch in c.mismatches[:5]:
                print(f"MISMATCH {s}: {mismatch}", file=sys.stderr)
            check_failed |= bool(c.mismatches) or not consistent
        print("Real path (Case/CaseResult records -> scores() -> decide()), both variants:")
        print(
            tabulate(
                table,
                headers=[
                    "scenario",
                    "intents",
                    "automated major / critical",
                    "exact",
                    "Scores and decisions identical",
                ],
                disable_numparse=True,
            )
        )
        print()

    disagreements = [
        f"{r.label()} {variant}: simulated {r.share(variant):.4f}, exact {r.exact(variant):.6f}"
        for r in rows
        for variant in ("major", "critical")
        if not r.agrees(variant)
    ]
    for line in disagreements:
        print(f"DISAGREEMENT {line}", file=sys.stderr)

    above = [r for r in rows if r.above]
    for variant in ("major", "critical"):
        worst_sim = max(above, key=lambda r: r.share(variant))
        worst_exact = max(above, key=lambda r: r.exact(variant))
        print(
            f"worst false automation ({variant} findings): simulated "
            f"{_pct(worst_sim.share(variant))} (95% upper {_pct(worst_sim.upper(variant))}) at "
            f"{worst_sim.label()}; exact {worst_exact.exact(variant):.4%} at {worst_exact.label()}"
        )
    worst = max(max(r.share(v), r.exact(v)) for r in above for v in ("major", "critical"))
    print(
        f"worst false-automation rate over {len(above)} scenarios x 2 variants: {_pct(worst)} "
        f"(bar {_pct(BAR)}); {len(rows)} scenarios in {simulated:.1f} s "
        f"({decider.calls} decide() calls), real-path check {checked:.1f} s"
    )
    if args.json:
        args.json.write_text(
            json.dumps([asdict(r) for r in rows], indent=1) + "\n", encoding="utf-8"
        )
    failed = check_failed
    if check_failed:
        print("the count path does not reproduce the real path", file=sys.stderr)
    if disagreements:
        print("simulation and exact computation disagree: a bug in one of them", file=sys.stderr)
        failed = True
    if worst > BAR:
        print(f"UNSOUND: false automation {_pct(worst)} > {_pct(BAR)}", file=sys.stderr)
        failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
