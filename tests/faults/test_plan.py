"""Evidence guidance that adds up, and a planner computed from the same decision rule.

Every decision below automate says how many more cases of the run's k samples, all passing,
would reach each higher level: adding exactly that many to the score makes `decide()` reach
the level, one fewer does not. `evals plan` gives the cases for an 80% chance of each decision,
exactly; it agrees with the soundness benchmark's exact computation and with a simulation."""

from __future__ import annotations

import importlib.util
import random
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from builders import case_dict, run_suite, write_suite
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from evals.cli import app
from evals.decision_policy import RANK, load_decision_policy
from evals.decisions import decide
from evals.planning import Assumptions, Planner, failed_samples_pmf
from evals.records import Risk
from evals.scores import Score, score_from_counts, with_passing_cases

POLICY = load_decision_policy()
ROOT = Path(__file__).resolve().parents[2]


def _benchmark() -> ModuleType:
    path = ROOT / "benchmarks" / "decision_soundness.py"
    spec = importlib.util.spec_from_file_location("decision_soundness_for_plan", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def counted(
    risk: Risk, cases: int, k: int, failing: int, failed: int, critical: int, kind: str = "support"
) -> Score:
    return score_from_counts(
        target="bot",
        key="intent",
        kind=kind,  # type: ignore[arg-type]
        risk=risk,
        cases=cases,
        k=k,
        all_passed=cases - failing,
        failed=failed,
        critical=critical,
        stable_fail=max(0, failed - failing * (k - 1)),
    )


@st.composite
def scores(draw: st.DrawFn) -> Score:
    risk = draw(st.sampled_from(["low", "medium", "high", "critical"]))
    k = draw(st.integers(1, 5))
    cases = draw(st.integers(1, 120))
    failing = draw(st.integers(0, cases))
    failed = draw(st.integers(failing, failing * k))
    critical = draw(st.integers(0, failed)) if draw(st.booleans()) else 0
    kind = draw(st.sampled_from(["support", "support", "crisis"]))
    return counted(risk, cases, k, failing, failed, critical, kind)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scores())
def test_the_guidance_is_exactly_what_the_decision_rule_needs(score: Score) -> None:
    decision = decide(score, POLICY)
    above = [level for level in ("assist", "automate") if RANK[level] > RANK[decision.outcome]]
    assert [r.level for r in decision.reach] == (above if decision.outcome != "automate" else [])
    for reach in decision.reach:
        if reach.more_cases is None:
            assert reach.blocked
            # Blocked means blocked: even a thousand more passing cases do not reach it.
            grown = with_passing_cases(score, 1000, score.k)
            assert RANK[decide(grown, POLICY).outcome] < RANK[reach.level]
            continue
        n = reach.more_cases
        assert n >= 1 and reach.more_answers == n * score.k and reach.samples == score.k
        reached = decide(with_passing_cases(score, n, score.k), POLICY)
        short = decide(with_passing_cases(score, n - 1, score.k), POLICY)
        assert RANK[reached.outcome] >= RANK[reach.level], (reach, reached.reasons)
        assert RANK[short.outcome] < RANK[reach.level], (reach, short.reasons)
    first = next((r for r in decision.reach if r.more_cases is not None), None)
    assert decision.more_cases_needed == (first.more_cases if first else None)
    text = " ".join(decision.reasons)
    # "3 of 1 answers" style counts ("n of N answers") read as a share; any other count agrees
    # with its noun: "1 case", "2 cases".
    assert not re.search(r"(?<!of )\b1 (cases|answers|samples)\b", text), text
    assert not re.search(r"(?<!of )\b(0|[2-9]|\d\d+) (case|answer|sample)\b", text), text


def test_the_issues_example_adds_up() -> None:
    """One case of 3 samples used to say 'about 27 more answers from 4 more cases'."""
    decision = decide(counted("low", 1, 3, 0, 0, 0), POLICY)
    assert decision.outcome == "insufficient_evidence"
    assert (
        "only 3 answers from 1 case; the policy needs at least 30 answers from 5 cases"
        in (decision.reasons[0])
    )
    [assist, automate] = decision.reach
    assert (assist.more_cases, assist.more_answers) == (9, 27)
    assert "to reach assist: 9 more cases of 3 samples each (27 answers)" in decision.reasons[-2]
    assert automate.more_cases == 34  # 35 perfect cases: pass^3 lower bound 35/38.84 >= 0.90
    assert decision.more_cases_needed == 9 and decision.more_answers_needed == 27


def test_a_critical_finding_says_why_automate_is_out_of_reach() -> None:
    decision = decide(counted("low", 40, 3, 1, 1, 1), POLICY)
    assert decision.outcome == "assist"
    [automate] = decision.reach
    assert automate.more_cases is None and "critical finding" in (automate.blocked or "")
    assert "automate cannot be reached by more passing cases" in decision.reasons[-1]


def test_one_sample_per_case_names_the_samples_automate_needs() -> None:
    decision = decide(counted("low", 60, 1, 0, 0, 0), POLICY)
    automate = next(r for r in decision.reach if r.level == "automate")
    assert automate.more_cases is None and "samples: 3" in (automate.blocked or "")


# --- the planner ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("risk", "cases", "k", "rate", "dispersion"),
    [
        ("low", 50, 3, 0.025, None),
        ("low", 200, 3, 0.02, None),
        ("medium", 200, 3, 0.01, 0.9),
        ("high", 400, 5, 0.002, None),
        ("high", 200, 3, 0.02, 0.9),
    ],
)
def test_the_planner_agrees_with_the_soundness_benchmarks_exact_automation(
    risk: Risk, cases: int, k: int, rate: float, dispersion: float | None
) -> None:
    bench: Any = _benchmark()
    assume = Assumptions(risk=risk, k=k, failure_rate=rate, dispersion=dispersion)
    pmf = failed_samples_pmf(assume)
    region = bench.automate_region(bench.Decider(POLICY), risk, cases, k)
    expected, _ = bench.exact_automation(pmf, cases, region, 0.0)
    assert Planner(POLICY, assume).chance(cases, "automate") == pytest.approx(expected, abs=1e-9)


def test_the_readme_figure_of_power_is_what_the_planner_computes() -> None:
    """'a low-risk intent whose model fails 2.5% of answers is automated 2% of the time at 50
    cases x 3 samples'."""
    planner = Planner(POLICY, Assumptions(risk="low", k=3, failure_rate=0.025))
    assert round(planner.chance(50, "automate"), 3) == 0.022


@pytest.mark.parametrize(
    ("risk", "cases", "rate", "level"),
    [("high", 15, 0.03, "assist"), ("low", 60, 0.01, "automate"), ("critical", 30, 0.01, "assist")],
)
def test_the_planner_agrees_with_a_simulation_through_decide(
    risk: Risk, cases: int, rate: float, level: str
) -> None:
    k, trials = 3, 1500
    rng = random.Random(7)
    hits = 0
    for _ in range(trials):
        per_case = [sum(rng.random() < rate for _ in range(k)) for _ in range(cases)]
        failing = sum(f > 0 for f in per_case)
        score = counted(risk, cases, k, failing, sum(per_case), 0)
        hits += RANK[decide(score, POLICY).outcome] >= RANK[level]
    exact = Planner(POLICY, Assumptions(risk=risk, k=k, failure_rate=rate)).chance(
        cases,
        level,  # type: ignore[arg-type]
    )
    spread = 4 * (exact * (1 - exact) / trials) ** 0.5 + 2 / trials
    assert abs(hits / trials - exact) <= spread, (hits / trials, exact)


@pytest.mark.parametrize(
    ("risk", "rate", "level"),
    [("low", 0.01, "automate"), ("medium", 0.0, "automate"), ("high", 0.05, "assist")],
)
def test_the_planned_number_of_cases_is_the_fewest_with_the_chance(
    risk: Risk, rate: float, level: str
) -> None:
    planner = Planner(POLICY, Assumptions(risk=risk, k=3, failure_rate=rate))
    needed = planner.cases_for(level)  # type: ignore[arg-type]
    assert needed is not None
    assert planner.chance(needed, level) >= 0.8  # type: ignore[arg-type]
    assert planner.chance(needed - 1, level) < 0.8  # type: ignore[arg-type]


def test_above_the_tolerance_automate_is_out_of_reach_and_said_so() -> None:
    planner = Planner(POLICY, Assumptions(risk="medium", k=3, failure_rate=0.05))
    assert planner.cases_for("automate") is None
    assert planner.chance(20_000, "automate") < 0.01


def test_evals_plan_prints_the_cases_for_each_decision() -> None:
    done = CliRunner().invoke(
        app, ["plan", "--tier", "low", "--k", "3", "--failure-rate", "0.025", "--cases", "50"]
    )
    assert done.exit_code == 0, done.stderr
    rows = {line.split()[0]: line.split() for line in done.stdout.splitlines() if line.strip()}
    assert rows["assist"][1:3] == ["10", "30"]
    assert rows["automate"][1:4] == ["897", "2,691", "2.2%"]


@pytest.mark.parametrize(
    "args",
    [
        ["--tier", "lo", "--failure-rate", "0.1"],
        ["--tier", "low"],
        ["--tier", "low", "--failure-rate", "1.5"],
        ["--tier", "low", "--failure-rate", "0.1", "--k", "0"],
        ["--tier", "low", "--failure-rate", "0.1", "--chance", "1"],
        ["--tier", "low", "--failure-rate", "0.1", "--dispersion", "1"],
        ["--run", "latest", "--out", "/nonexistent-folder"],
    ],
)
def test_evals_plan_refuses_bad_input_with_exit_2(args: list[str]) -> None:
    done = CliRunner().invoke(app, ["plan", *args])
    crashed = done.exception is not None and not isinstance(done.exception, SystemExit)
    assert not crashed, done.exception
    assert done.exit_code == 2 and "error:" in done.stderr, (done.stdout, done.stderr)


def test_evals_plan_from_a_stored_run(tmp_path: Path) -> None:
    cases = [case_dict(f"c{i}", risk="low") for i in range(6)]
    replies = [case_dict("c")["reference"]] * 5 + ["Hola {first_name}, ya está."]
    bot = {"name": "bot", "model": "fake/scripted", "params": {"extra": {"replies": replies}}}
    suite = write_suite(tmp_path, cases=cases, samples=3, targets=[bot])
    run_suite(suite)
    out = tmp_path / "out"
    done = CliRunner().invoke(
        app,
        ["plan", "--run", "latest", "--target", "bot", "--intent", "refund_status", "--out", out],
    )
    assert done.exit_code == 0, done.stderr
    assert "15 of 18 answers passed over 6 cases" in done.stdout
    assert "low-risk support intent, 3 samples per case" in done.stdout
    assert "16.7%" in done.stdout  # 3 of 18 answers failed
    wrong = CliRunner().invoke(
        app, ["plan", "--run", "latest", "--target", "bot", "--intent", "nope", "--out", str(out)]
    )
    assert wrong.exit_code == 2 and "bot/refund_status" in wrong.stderr
