"""The decision rule is sound: it rarely automates an intent whose true failure rate is above its
tier's tolerance, even when failures cluster in a few cases, yet it does automate intents that
are clearly good. Plus the behaviours of `decide()` a product owner relies on.

The simulation, the exact computation and the record builders are the ones of
`benchmarks/decision_soundness.py`, so this test and the benchmark cannot drift apart.
"""

from __future__ import annotations

import importlib.util
import math
import random
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from evals.decision_policy import DEFAULT_POLICY_PATH, load_decision_policy
from evals.decisions import Decision, decide
from evals.records import Kind, Risk

ROOT = Path(__file__).resolve().parent.parent
POLICY = load_decision_policy()
TIERS: tuple[Risk, ...] = ("low", "medium", "high")


def _load_benchmark() -> ModuleType:
    path = ROOT / "benchmarks" / "decision_soundness.py"
    spec = importlib.util.spec_from_file_location("decision_soundness", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


bench: Any = _load_benchmark()
DECIDER: Any = bench.Decider(POLICY)  # shared memo: every test asks the same decide()


def scenario(tier: Risk, model: str, cases: int, k: int, multiple: float) -> Any:
    tolerance = POLICY.tolerance(tier)
    assert tolerance is not None
    return bench.Scenario(tier, model, cases, k, multiple, tolerance, tolerance * multiple)


def perfect(cases: int, k: int = 3) -> list[list[str]]:
    return [["pass"] * k for _ in range(cases)]


def with_failures(cases: int, k: int, failures: dict[int, str]) -> list[list[str]]:
    """`cases` x `k` answers; case i's first sample fails with the given severity."""
    answers = perfect(cases, k)
    for i, severity in failures.items():
        answers[i][0] = severity
    return answers


def decision(
    tier: Risk, answers: Sequence[Sequence[str]], *, kind: Kind = "support", policy: Any = POLICY
) -> Decision:
    """The real path: Case and CaseResult records, `scores()`, `decide()`."""
    return decide(bench.real_score(tier, answers, kind=kind), policy)


# --- soundness -------------------------------------------------------------------------------

TRIALS = 1500


@pytest.mark.parametrize("model", ["independent", "clustered"])
@pytest.mark.parametrize("tier", TIERS)
def test_false_automation_at_the_tolerance_is_at_most_5_percent(tier: Risk, model: str) -> None:
    # 200 cases x 3 samples: the smallest size in the benchmark at which every tier can automate.
    assert DECIDER.automates(tier, 200, 3, 200, 0, 0), "the scenario must be able to automate"
    boundary = scenario(tier, model, 200, 3, 1.0001)
    rng = random.Random(f"test:{tier}:{model}")
    major, critical = bench.simulate(
        boundary, DECIDER, TRIALS, rng, dispersion=0.9, critical_share=0.5
    )
    three_standard_errors = 3 * math.sqrt(0.05 * 0.95 / TRIALS)
    assert major / TRIALS <= 0.05 + three_standard_errors
    assert critical <= major  # critical findings only ever block
    region = bench.automate_region(DECIDER, tier, 200, 3)
    exact_major, exact_critical = bench.exact_automation(
        bench.failed_samples_pmf(boundary, 0.9), 200, region, 0.5
    )
    assert exact_major <= 0.05 and exact_critical <= exact_major


@pytest.mark.parametrize("tier", TIERS)
@pytest.mark.parametrize("cases", [84, 200, 400])
def test_exact_false_automation_stays_below_5_percent_when_failures_cluster_completely(
    tier: Risk, cases: int
) -> None:
    # Dispersion 0.999: a case (nearly) always fails or always passes, so the k samples of a case
    # carry the information of one; answer-level statistics would be far too optimistic here.
    boundary = scenario(tier, "clustered", cases, 3, 1.0001)
    region = bench.automate_region(DECIDER, tier, cases, 3)
    exact, _ = bench.exact_automation(bench.failed_samples_pmf(boundary, 0.999), cases, region, 0.0)
    assert exact <= 0.05


@pytest.mark.parametrize(
    ("tier", "model", "cases", "k", "multiple"),
    [
        ("medium", "clustered", 200, 3, 0.25),
        ("low", "independent", 100, 5, 0.25),
        ("low", "clustered", 50, 3, 1.0001),
    ],
)
def test_simulation_agrees_with_the_exact_probability(
    tier: Risk, model: str, cases: int, k: int, multiple: float
) -> None:
    s = scenario(tier, model, cases, k, multiple)
    trials = 600
    major, critical = bench.simulate(
        s, DECIDER, trials, random.Random(7), dispersion=0.9, critical_share=0.5
    )
    exact = bench.exact_automation(
        bench.failed_samples_pmf(s, 0.9), cases, bench.automate_region(DECIDER, tier, cases, k), 0.5
    )
    assert bench.binomial_p_value(major, trials, exact[0]) > 1e-4, (major, exact)
    assert bench.binomial_p_value(critical, trials, exact[1]) > 1e-4, (critical, exact)


def test_the_count_path_reproduces_records_scores_and_decide() -> None:
    s = scenario("low", "clustered", 50, 3, 0.25)
    check = bench.check_real_path(
        s, DECIDER, 15, random.Random(3), dispersion=0.9, critical_share=0.5
    )
    assert check.mismatches == []
    assert 0 < check.automated_major < 15, "the sample must meet both outcomes"


answer = st.sampled_from(["pass", "pass", "pass", "major", "critical"])


@settings(max_examples=40, deadline=None)
@given(
    k=st.integers(1, 4),
    rows=st.lists(st.lists(answer, min_size=4, max_size=4), min_size=1, max_size=8),
)
def test_count_score_equals_what_scores_builds(k: int, rows: list[list[str]]) -> None:
    answers = [row[:k] for row in rows]
    assert bench.score_of_answers("medium", answers) == bench.real_score("medium", answers)


@settings(max_examples=25, deadline=None)
@given(
    cases=st.integers(35, 60),
    failing=st.dictionaries(st.integers(0, 34), st.lists(answer, min_size=3, max_size=3)),
)
def test_the_decision_depends_only_on_the_counts_the_memo_uses(
    cases: int, failing: dict[int, list[str]]
) -> None:
    # Low risk from 35 cases x 3 can automate, so both outcomes occur.
    answers = perfect(cases)
    for i, samples in failing.items():
        answers[i] = samples
    score = bench.real_score("low", answers)
    memo = DECIDER.outcome(
        "low", cases, 3, score.cases_all_passed, score.failed, score.critical_answers
    )
    assert decide(score, POLICY).outcome == memo


def test_the_automate_region_is_complete() -> None:
    # `automate_region` stops at the first number of failing cases with nothing automated; a
    # full scan must find nothing beyond it.
    cases, k = 60, 3
    region = bench.automate_region(DECIDER, "low", cases, k)
    assert region and max(region) < cases
    for failing in range(cases + 1):
        for failed in range(failing, failing * k + 1):
            automated = DECIDER.automates("low", cases, k, cases - failing, failed, 0)
            assert automated == (failed in region.get(failing, {})), (failing, failed)


@settings(max_examples=60, deadline=None)
@given(
    k=st.integers(1, 6),
    mean=st.floats(0.001, 0.5),
    dispersion=st.floats(0.05, 0.95),
)
def test_beta_binomial_has_the_mean_and_spread_it_promises(
    k: int, mean: float, dispersion: float
) -> None:
    pmf = bench.beta_binomial_pmf(k, mean, dispersion)
    assert sum(pmf) == pytest.approx(1.0)
    expected = sum(j * p for j, p in enumerate(pmf))
    variance = sum((j - expected) ** 2 * p for j, p in enumerate(pmf))
    assert expected == pytest.approx(k * mean, rel=1e-6)
    assert variance == pytest.approx(k * mean * (1 - mean) * (1 + (k - 1) * dispersion), rel=1e-6)
    # What the rule rests on: clustering raises the chance that all k samples pass, but never
    # above one sample passing, so pass^k's lower bound still bounds the answer failure rate.
    assert (1 - mean) ** k - 1e-9 <= pmf[0] <= 1 - mean + 1e-9


# --- power: good intents are automated --------------------------------------------------------


def test_no_failure_over_200_cases_of_3_samples_at_medium_risk_automates() -> None:
    result = decision("medium", perfect(200))
    assert result.outcome == "automate"
    assert "600 of 600 answers passed" in result.reasons[0]


def test_intents_well_below_tolerance_are_usually_automated() -> None:
    s = scenario("medium", "clustered", 400, 3, 0.25)
    major, _ = bench.simulate(s, DECIDER, 300, random.Random(1), dispersion=0.9, critical_share=0)
    assert major / 300 > 0.5


# --- decide() behaviours ---------------------------------------------------------------------


def test_too_few_answers_is_insufficient_evidence_with_how_many_more() -> None:
    result = decision("low", perfect(4))  # 12 answers, the policy needs 30 from 5 cases
    assert result.outcome == "insufficient_evidence"
    assert result.more_answers_needed == 18
    assert "only 12 answers from 4 cases" in result.reasons[0]


def test_human_when_even_the_upper_bound_is_below_the_assist_bar() -> None:
    result = decision("low", [["major"] * 3 for _ in range(4)])  # 0 of 12: upper bound 0.24
    assert result.outcome == "human"
    assert "even the upper bound" in result.reasons[0]
    # Only a run of new, passing cases could change it: the guidance says how many.
    assert result.more_cases_needed == 18 and result.more_answers_needed == 54
    assert "to reach assist: 18 more cases of 3 samples each (54 answers)" in result.reasons[-2]


def test_crisis_is_capped_at_assist() -> None:
    result = decision("low", perfect(200), kind="crisis")
    assert (result.outcome, result.ceiling) == ("assist", "assist")
    assert any("crisis communication is capped at assist" in r for r in result.reasons)


def test_critical_risk_is_never_automated() -> None:
    result = decision("critical", perfect(400))
    assert result.outcome == "assist"
    assert any("critical-risk intents are never automated" in r for r in result.reasons)


def test_one_critical_finding_blocks_automation_where_a_major_one_does_not() -> None:
    assert decision("low", with_failures(200, 3, {0: "major"})).outcome == "automate"
    result = decision("low", with_failures(200, 3, {0: "critical"}))
    assert result.outcome == "assist"
    assert any(
        "1 answer had a critical finding (at most 0 allowed to automate)" in r
        for r in result.reasons
    )


def policy_with(tmp_path: Path, intents: dict[str, Any]) -> Any:
    data = yaml.safe_load(DEFAULT_POLICY_PATH.read_text(encoding="utf-8"))
    data["intents"] = intents
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return load_decision_policy(path)


def test_an_intent_override_lowers_the_ceiling(tmp_path: Path) -> None:
    policy = policy_with(tmp_path, {bench.INTENT: {"max_decision": "assist"}})
    result = decision("low", perfect(200), policy=policy)
    assert (result.outcome, result.ceiling) == ("assist", "assist")
    assert any("the policy sets this intent's ceiling to assist" in r for r in result.reasons)


def test_an_intent_override_raises_a_crisis_ceiling(tmp_path: Path) -> None:
    policy = policy_with(tmp_path, {bench.INTENT: {"max_decision": "automate"}})
    assert decision("low", perfect(200), kind="crisis").outcome == "assist"
    assert decision("low", perfect(200), kind="crisis", policy=policy).outcome == "automate"


def test_an_intent_override_of_the_risk_tier_changes_the_bars(tmp_path: Path) -> None:
    # 100 perfect cases clear medium's 0.95 pass^k bar (lower bound 0.963) but not high's 0.98.
    assert decision("medium", perfect(100)).outcome == "automate"
    policy = policy_with(tmp_path, {bench.INTENT: {"risk": "high"}})
    result = decision("medium", perfect(100), policy=policy)
    assert (result.outcome, result.risk) == ("assist", "high")


def test_reasons_say_how_many_answers_failed_and_why() -> None:
    result = decision("low", with_failures(15, 3, {0: "major", 4: "major", 9: "major"}))
    text = " ".join(result.reasons)
    assert "42 of 45 answers passed" in text
    assert "3 of 45 answers offered no path to a person (handoff.missing)" in text
