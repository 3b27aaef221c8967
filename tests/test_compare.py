"""`evals compare`: a real regression is flagged, noise is not, decisions that got worse fail,
and nothing is silently dropped."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import pytest
from builders import POLICY, case_dict, write_suite
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from evals.cli import app
from evals.compare import NotComparable, compare_runs
from evals.decision_policy import load_decision_policy
from evals.records import (
    Case,
    CaseResult,
    CaseSource,
    Evidence,
    Finding,
    PolicyBook,
    Response,
    Run,
    RunPlan,
    Span,
    Suite,
    Target,
    Versions,
)
from evals.runner import Engine, start_run
from evals.store import RunStore
from evals.suite_file import build_plan

Answer = bool | Literal["error"]
DEFAULT_POLICY = load_decision_policy().model_dump(mode="json")
VERSIONS = Versions(package="0", guardrails="g", policy_books={"acme": "p"}, cases="c")


def cli(*args: str) -> Any:
    return CliRunner().invoke(app, list(args))


# --- records built directly: fast, and every count is known ---------------------------------


def make_plan(
    intents: dict[str, int], *, targets: tuple[str, ...] = ("bot",), risk: str = "medium"
) -> RunPlan:
    """`intents` maps an intent to its number of cases (3 samples each)."""
    cases = [
        Case.model_validate(case_dict(f"{intent}-{i:02d}", intent=intent, risk=risk))
        for intent, n in intents.items()
        for i in range(n)
    ]
    suite = Suite(
        name="s",
        cases=[CaseSource(path="cases")],
        targets=[Target(name=t, model="fake/scripted") for t in targets],
        samples=3,
    )
    return RunPlan(
        suite=suite,
        suite_path="suite.yaml",
        cases=cases,
        policies={"acme": PolicyBook.model_validate(POLICY)},
        replay_dir="cassettes",
        decision_policy=DEFAULT_POLICY,
        output_dir="out",
    )


def result(run_id: str, target: str, case_id: str, sample: int, answer: Answer) -> CaseResult:
    if answer == "error":
        return CaseResult(
            run_id=run_id,
            case_id=case_id,
            target=target,
            sample=sample,
            seed=sample,
            response=Response(error="HTTP 503"),
            passed=False,
        )
    findings = []
    if not answer:
        findings = [
            Finding(
                guardrail="template",
                code="template.placeholder",
                severity="major",
                message="unfilled placeholder",
                evidence=Evidence(span=Span(start=0, end=12, text="{first_name}")),
            )
        ]
    return CaseResult(
        run_id=run_id,
        case_id=case_id,
        target=target,
        sample=sample,
        seed=sample,
        response=Response(text="{first_name}" if not answer else "Hola."),
        findings=findings,
        passed=bool(answer),
    )


def make_run(
    run_id: str,
    plan: RunPlan,
    answer: Callable[[Case, int], Answer],
    *,
    target: str = "bot",
    samples: int = 3,
) -> Run:
    return Run(
        id=run_id,
        suite="s",
        started=datetime(2026, 1, 1, tzinfo=UTC),
        status="finished",
        config_hash="h",
        versions=VERSIONS,
        targets=plan.suite.targets,
        results=[
            result(run_id, target, case.id, sample, answer(case, sample))
            for case in plan.cases
            for sample in range(samples)
        ],
    )


def store_run(folder: Path, plan: RunPlan, run: Run) -> None:
    store = RunStore.in_folder(folder)
    store.create_run(run.id, plan, run.versions)
    for r in run.results:
        store.add_result(r)
    store.set_status(run.id, "finished")
    store.close()


def flagged_regression(comparison: Any) -> bool:
    return any(t.overall.significant for t in comparison.targets) or any(
        c.significant for t in comparison.targets for c in t.intents
    )


# --- end to end: two real runs of the scripted targets through the engine and the CLI -------


def engine_run(root: Path, cases: list[dict[str, Any]], target: dict[str, Any]) -> str:
    suite = write_suite(root, samples=3, cases=cases, targets=[target])
    plan = build_plan(suite)
    store = RunStore.in_folder(Path(plan.output_dir))
    run_id = start_run(plan, store)
    asyncio.run(Engine(plan, store, run_id).execute())
    store.close()
    return run_id


def support_cases(bad: set[int]) -> list[dict[str, Any]]:
    """40 cases, 20 per intent; echoing a `bad` case's message leaves a template placeholder."""
    out = []
    for i in range(40):
        text = f"¿Dónde está mi reembolso? ({i})" + (" Hola {first_name}" if i in bad else "")
        out.append(
            case_dict(
                f"c{i:03d}",
                intent="refund_status" if i < 20 else "order_status",
                messages=[{"role": "user", "content": text}],
            )
        )
    return out


ECHO = {"name": "bot", "model": "fake/scripted", "params": {"extra": {"echo": True}}}


def test_identical_runs_flag_nothing_and_exit_0(tmp_path: Path) -> None:
    cases = support_cases(set())
    first = engine_run(tmp_path, cases, ECHO)
    second = engine_run(tmp_path, cases, ECHO)
    report = tmp_path / "cmp.json"
    done = cli("compare", first, second, "--out", str(tmp_path / "out"), "--json", str(report))
    assert done.exit_code == 0, done.output
    assert "no regression flagged" in done.stdout
    data = json.loads(report.read_text(encoding="utf-8"))
    assert data["schema_version"] == 2 and data["failed"] is False
    (target,) = data["targets"]
    assert target["overall"]["paired"] == 120 and target["overall"]["regressed"] == 0
    assert [v["kind"] for v in data["verdicts"]] == ["no_change"]


def test_an_injected_regression_is_flagged_for_its_intent_and_exits_1(tmp_path: Path) -> None:
    """Main ran the old model, the branch a new one that fails 8 of 20 refund cases; the runs
    live in two stores and the single targets have different names."""
    cases = support_cases(bad=set(range(8)))
    old = engine_run(tmp_path / "main", cases, {"name": "old", "model": "reference"})
    new = engine_run(tmp_path / "branch", cases, {**ECHO, "name": "new"})
    report = tmp_path / "cmp.json"
    done = cli(
        "compare",
        old,
        new,
        "--out",
        str(tmp_path / "branch" / "out"),
        "--baseline-out",
        str(tmp_path / "main" / "out"),
        "--json",
        str(report),
    )
    assert done.exit_code == 1, done.output
    assert "REGRESSION: refund_status: 24 answers regressed, 0 improved" in done.stdout
    assert "Holm-adjusted significant at 0.05" in done.stdout
    data = json.loads(report.read_text(encoding="utf-8"))
    (target,) = data["targets"]
    assert (target["baseline_target"], target["candidate_target"]) == ("old", "new")
    by_intent = {c["intent"]: c for c in target["intents"]}
    refund, order = by_intent["refund_status"], by_intent["order_status"]
    assert refund["significant"] and refund["regressed"] == 24 and refund["p_value"] < 1e-6
    assert refund["new_findings"] == [
        {"code": "template.placeholder", "severity": "major", "answers": 24}
    ]
    assert not order["significant"] and order["regressed"] == 0 and order["both_pass"] == 60
    assert data["changed_cases"] == []  # the same cases, a different model


# --- noise -----------------------------------------------------------------------------------

NOISE_PLAN = make_plan({"refund_status": 14, "order_status": 13, "cancel_order": 13})


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_symmetric_flips_are_never_flagged(data: st.DataObject) -> None:
    """Any baseline, and a candidate with as many pass->fail as fail->pass flips per intent."""
    base = {
        (c.id, s): data.draw(st.booleans(), label=f"{c.id}#{s}")
        for c in NOISE_PLAN.cases
        for s in range(3)
    }
    after = dict(base)
    for intent in ("refund_status", "order_status", "cancel_order"):
        keys = [k for k in base if k[0].startswith(intent)]
        passing = [k for k in keys if base[k]]
        failing = [k for k in keys if not base[k]]
        flips = data.draw(st.integers(0, min(len(passing), len(failing))), label=intent)
        for k in data.draw(st.permutations(passing))[:flips]:
            after[k] = False
        for k in data.draw(st.permutations(failing))[:flips]:
            after[k] = True
    comparison = compare_runs(
        make_run("a", NOISE_PLAN, lambda c, s: base[(c.id, s)]),
        NOISE_PLAN,
        make_run("b", NOISE_PLAN, lambda c, s: after[(c.id, s)]),
        NOISE_PLAN,
    )
    assert not flagged_regression(comparison)
    for change in comparison.targets[0].intents:
        assert change.regressed == change.improved
        assert change.pass_rate_before == change.pass_rate_after


#: Each case's own pass probability (cases differ in difficulty), averaging 0.5 / 0.4 / 0.3 per
#: intent: far below every assist bar, so decisions stay `human` and only the test can fire.
_spread = random.Random(7)
CASE_RATES = {
    c.id: {"refund_status": 0.5, "order_status": 0.4, "cancel_order": 0.3}[c.intent]
    + _spread.uniform(-0.25, 0.25)
    for c in NOISE_PLAN.cases
}


def noisy_comparison(rng: random.Random, drop: float = 0.0) -> Any:
    """Two runs of the same model: each answer passes with its case's probability,
    independently; `drop` lowers every refund_status case's in the candidate (a real
    regression)."""

    def sampler(shift: float) -> Callable[[Case, int], Answer]:
        def answer(case: Case, sample: int) -> Answer:
            worse = shift if case.intent == "refund_status" else 0.0
            return rng.random() < CASE_RATES[case.id] - worse

        return answer

    return compare_runs(
        make_run("a", NOISE_PLAN, sampler(0.0)),
        NOISE_PLAN,
        make_run("b", NOISE_PLAN, sampler(drop)),
        NOISE_PLAN,
    )


def test_the_false_flag_rate_under_pure_noise_stays_below_alpha() -> None:
    """200 comparisons of a model with itself. The intent tests and the overall test form one
    Holm family, so the comparison fails (exit 1) at most alpha of the time under no change."""
    rng = random.Random(20260101)
    runs = [noisy_comparison(rng) for _ in range(200)]
    by_intent = sum(any(c.significant for c in r.targets[0].intents) for r in runs) / len(runs)
    overall = sum(r.targets[0].overall.significant for r in runs) / len(runs)
    flagged = sum(flagged_regression(r) for r in runs) / len(runs)
    assert by_intent <= 0.05 + 0.03, by_intent
    assert overall <= 0.05 + 0.03, overall
    assert flagged <= 0.05 + 0.03, flagged
    assert sum(r.failed for r in runs) == sum(flagged_regression(r) for r in runs)
    # ... and a real drop in one intent's pass rate (0.5 -> 0.1 over 42 answers) is caught by
    # the same procedure (measured: 97% of 300 comparisons; 86% for a drop to 0.2).
    caught = [noisy_comparison(rng, drop=0.4) for _ in range(40)]
    assert sum(any(c.significant for c in r.targets[0].intents) for r in caught) >= 0.85 * 40


def test_holm_corrects_across_intents_and_the_overall_test() -> None:
    """Two intents each 5 regressions, 0 improvements: p=1/32 each is below 0.05 but not below
    Holm's 0.025, so neither intent alone is flagged; together (p=1/1024) they are."""
    plan = make_plan({"refund_status": 20, "order_status": 20})
    worse = {"refund_status-00", "refund_status-01", "order_status-00", "order_status-01"}

    def candidate(case: Case, sample: int) -> Answer:
        # 5 failures per intent: cases 00 (3 samples) and 01 (samples 0, 1)
        return not (case.id in worse and (case.id.endswith("00") or sample < 2))

    comparison = compare_runs(
        make_run("a", plan, lambda c, s: True), plan, make_run("b", plan, candidate), plan
    )
    (target,) = comparison.targets
    assert [(c.regressed, c.significant) for c in target.intents] == [(5, False), (5, False)]
    assert target.intents[0].p_value == pytest.approx(1 / 32)
    assert target.overall.significant and target.overall.p_value == pytest.approx(1 / 1024)
    assert comparison.failed


# --- decisions -------------------------------------------------------------------------------


def test_a_worse_decision_exits_1_without_a_significant_test(tmp_path: Path) -> None:
    """Low risk, 40 cases x 3 all passing is automated; one failed sample (McNemar p=0.5)
    drops pass^3's lower bound below 0.90: automate -> assist."""
    plan = make_plan({"order_status": 40}, risk="low")
    before = make_run("base", plan, lambda c, s: True)
    after = make_run("cand", plan, lambda c, s: not (c.id == "order_status-07" and s == 1))
    comparison = compare_runs(before, plan, after, plan)
    (change,) = comparison.targets[0].intents
    assert (change.regressed, change.p_value, change.significant) == (1, 0.5, False)
    assert (change.decision_before, change.decision_after) == ("automate", "assist")
    assert change.decision_worse and comparison.failed
    assert comparison.failures == ["order_status: decision automate -> assist"]

    store_run(tmp_path, plan, before)
    store_run(tmp_path, plan, after)
    done = cli("compare", "base", "cand", "--out", str(tmp_path))
    assert done.exit_code == 1, done.output
    assert "REGRESSION: order_status: decision automate -> assist" in done.stdout
    assert "not significant at 0.05 after Holm" in done.stdout
    # The other way round nothing got worse.
    assert cli("compare", "cand", "base", "--out", str(tmp_path)).exit_code == 0


def test_a_different_decision_policy_is_flagged_as_not_comparable_on_its_own() -> None:
    plan = make_plan({"order_status": 40}, risk="low")
    strict = plan.model_copy(update={"decision_policy": {**DEFAULT_POLICY, "version": "2"}})
    run = make_run("a", plan, lambda c, s: True)
    comparison = compare_runs(run, plan, run, strict)
    assert comparison.policies_differ
    assert any(v.kind == "policy_changed" for v in comparison.verdicts)


# --- pairing ---------------------------------------------------------------------------------


def test_unpaired_results_are_counted_and_reported() -> None:
    plan = make_plan({"refund_status": 20, "order_status": 20}, targets=("bot", "extra"))
    before = make_run("a", plan, lambda c, s: True)
    before = before.model_copy(
        update={
            "results": [
                *before.results,
                *(result("a", "extra", c.id, 0, True) for c in plan.cases[:4]),
            ]
        }
    )
    # the candidate stopped after 2 samples, and only knows target `bot`
    after = make_run("b", plan, lambda c, s: True, samples=2).model_copy(
        update={"targets": plan.suite.targets[:1]}
    )
    comparison = compare_runs(before, plan, after, plan)
    (target,) = comparison.targets
    assert (target.overall.paired, target.overall.baseline_only) == (80, 40)
    assert {c.intent: c.baseline_only for c in target.intents} == {
        "order_status": 20,
        "refund_status": 20,
    }
    assert comparison.baseline_only_targets == {"extra": 4}
    texts = [v.text for v in comparison.verdicts if v.kind == "unpaired"]
    assert any("40 answers only in the baseline" in t for t in texts)
    assert "target 'extra' is only in the baseline run (4 answers, not compared)" in texts
    assert not comparison.failed  # 2 samples of 20 cases still decide `assist`, as before


def test_provider_errors_count_as_not_passed() -> None:
    plan = make_plan({"refund_status": 10})
    comparison = compare_runs(
        make_run("a", plan, lambda c, s: True),
        plan,
        make_run("b", plan, lambda c, s: "error" if s == 0 else True),
        plan,
    )
    change = comparison.targets[0].intents[0]
    assert change.regressed == 10 and change.pass_rate_after == pytest.approx(2 / 3)
    assert change.significant and comparison.failed


def test_targets_pair_by_name_by_single_target_or_explicitly() -> None:
    two = make_plan({"refund_status": 5}, targets=("gpt", "llama"))
    other = make_plan({"refund_status": 5}, targets=("claude", "mistral"))
    base = make_run("a", two, lambda c, s: True, target="gpt")
    cand = make_run("b", other, lambda c, s: True, target="claude")
    with pytest.raises(NotComparable, match="no target in common"):
        compare_runs(base, two, cand, other)
    paired = compare_runs(base, two, cand, other, target_map={"gpt": "claude"})
    assert [(t.baseline_target, t.candidate_target) for t in paired.targets] == [("gpt", "claude")]
    assert paired.baseline_only_targets == {"llama": 0}
    with pytest.raises(NotComparable, match="target 'nope' is not in baseline run 'a'"):
        compare_runs(base, two, cand, other, target_map={"nope": "claude"})
    one, renamed = make_plan({"refund_status": 5}), make_plan({"refund_status": 5}, targets=("v2",))
    single = compare_runs(
        make_run("a", one, lambda c, s: True),
        one,
        make_run("b", renamed, lambda c, s: True, target="v2"),
        renamed,
    )
    assert single.targets[0].label == "bot -> v2" and single.targets[0].overall.paired == 15
    elsewhere = make_plan({"order_status": 5})  # other case ids: nothing to pair
    with pytest.raises(NotComparable, match="share no answer to compare"):
        compare_runs(
            make_run("a", one, lambda c, s: True),
            one,
            make_run("b", elsewhere, lambda c, s: True),
            elsewhere,
        )


def test_usage_errors_exit_2_with_a_clear_message(tmp_path: Path) -> None:
    plan = make_plan({"refund_status": 5})
    store_run(tmp_path, plan, make_run("base", plan, lambda c, s: True))
    other = make_plan({"refund_status": 5}, targets=("x", "y"))
    store_run(tmp_path, other, make_run("two", other, lambda c, s: True, target="x"))
    out = str(tmp_path)

    unknown = cli("compare", "base", "nope", "--out", out)
    assert unknown.exit_code == 2
    assert "no run with id 'nope' (latest: " in unknown.stderr and "base" in unknown.stderr
    no_store = cli("compare", "base", "base", "--out", str(tmp_path / "empty"))
    assert no_store.exit_code == 2 and "no run store here" in no_store.stderr
    bad_alpha = cli("compare", "base", "base", "--out", out, "--alpha", "1")
    assert bad_alpha.exit_code == 2 and "--alpha must be between 0 and 1" in bad_alpha.stderr
    unpaired = cli("compare", "base", "two", "--out", out)
    assert unpaired.exit_code == 2 and "no target in common" in unpaired.stderr
    bad_pair = cli("compare", "base", "two", "--out", out, "--pair", "bot")
    assert bad_pair.exit_code == 2 and "BASELINE_TARGET=CANDIDATE_TARGET" in bad_pair.stderr
    assert cli("compare", "base", "two", "--out", out, "--pair", "bot=x").exit_code == 0
    for done in (unknown, no_store, bad_alpha, unpaired, bad_pair):
        assert "Traceback" not in done.output
