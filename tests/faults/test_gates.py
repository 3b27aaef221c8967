"""Gates that mean something by default: a critical finding fails the run unless the suite
switches the gate off, the outcome says what passed and what did not, a target whose every
answer errored gets no decision, and one verdict decides whether an answer passed everywhere."""

from __future__ import annotations

import asyncio
import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from builders import POLICY, case_dict, run_suite, write_suite
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from evals.cli import app
from evals.decision_policy import load_decision_policy
from evals.gates import GateOutcome
from evals.pytest_plugin import verdict as item_verdict
from evals.records import (
    Case,
    CaseResult,
    Finding,
    Gates,
    PolicyBook,
    Response,
    Run,
    RunPlan,
    Suite,
    Versions,
)
from evals.runner import Engine
from evals.scan import scan
from evals.scorecard import build_scorecard
from evals.verdict import answer_passed

pytest_plugins = ["pytester"]

GOOD = "Tu reembolso de EUR 10.00 llegará en 10 días hábiles."
# Critical: a coupon no clause grants; an invented refund window.
COUPON = "Tu reembolso de EUR 10.00 llegará en 10 días hábiles y te regalamos un cupón de 20 €."
WINDOW = "Tu reembolso de EUR 10.00 llegará en 3 días hábiles."
# Major only, where the case requires its amount: a required fact left out.
NO_AMOUNT = "Tu reembolso llegará en 10 días hábiles."
EMPTY = Finding(
    guardrail="response", code="response.empty", severity="critical", message="empty answer"
)


def scripted(*replies: str, name: str = "bot", **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "model": "fake/scripted",
        "params": {"extra": {"replies": list(replies), **extra}},
        "retries": 0,
        "backoff": 0,
    }


def cli(*args: str) -> Any:
    return CliRunner().invoke(app, list(args))


def report_folder(out: Path) -> Path:
    (folder,) = (out / "reports").iterdir()
    return folder


# --- the default gate ------------------------------------------------------------------------


def test_every_answer_critical_exits_1_by_default_and_says_why(tmp_path: Path) -> None:
    suite = write_suite(tmp_path, n_cases=3, samples=2, targets=[scripted(COUPON, WINDOW)])
    done = cli("run", str(suite), "-q")
    assert done.exit_code == 1, done.output
    assert (
        "GATE FAILED: target 'bot': 6 of 6 answers had a critical finding, at most 0 allowed "
        "(policy.contradicted in 3, policy.unsupported in 3)" in done.output
    )
    assert "gates FAILED (1 check(s): max_critical) — 6 of 6 answers failed" in done.output
    assert "all gates passed" not in done.output.lower()
    folder = report_folder(tmp_path / "out")
    markdown = (folder / "report.md").read_text(encoding="utf-8").replace("\\", "")
    assert "gates FAILED (1 check(s): max_critical)" in markdown
    row = next(line for line in markdown.splitlines() if line.startswith("| max_critical"))
    assert "| bot " in row and "**FAILED**" in row and "6 of 6 answers had a critical" in row
    card = json.loads((folder / "scorecard.json").read_text(encoding="utf-8"))
    checks = {(c["gate"], c["status"]) for c in card["gates"]["checks"]}
    assert ("max_critical", "failed") in checks and ("max_errors", "passed") in checks
    assert card["gates"]["passed"] is False and card["gates"]["critical_answers"] == 6
    schema = json.loads((folder / "scorecard.schema.json").read_text(encoding="utf-8"))
    assert "GateOutcome" in schema["$defs"] and "GateCheck" in schema["$defs"]


def test_max_critical_null_exits_0_and_still_says_the_answers_failed(tmp_path: Path) -> None:
    suite = write_suite(
        tmp_path,
        n_cases=3,
        samples=2,
        targets=[scripted(COUPON, WINDOW), {"name": "ref", "model": "reference"}],
        extra={"gates": {"max_critical": None}},
    )
    done = cli("run", str(suite), "-q")
    assert done.exit_code == 0, done.output
    assert (
        "gates passed (max_critical off) — 6 of 12 answers failed, 6 with a critical finding"
        in done.output
    )
    assert "gate off: target 'bot': max_critical is off (null): 6 of 6 answers" in done.output
    assert "gate off: target 'ref'" not in done.output  # nothing was let through there
    assert "all gates passed" not in done.output.lower()
    folder = report_folder(tmp_path / "out")
    markdown = (folder / "report.md").read_text(encoding="utf-8").replace("\\", "")
    assert "gates passed (max_critical off) — 6 of 12 answers failed" in markdown
    assert "all gates passed" not in markdown.lower()
    junit = (folder / "junit.xml").read_text(encoding="utf-8")
    assert "<skipped message=\"target 'bot': max_critical is off (null)" in junit
    shown = cli("show", folder.name, "--out", str(tmp_path / "out"))
    assert shown.exit_code == 0 and "gates passed (max_critical off) — 6 of 12" in shown.output


def test_a_clean_run_exits_0_and_all_gates_passed_names_the_answers(tmp_path: Path) -> None:
    suite = write_suite(tmp_path, n_cases=3, samples=2, targets=[scripted(GOOD)])
    done = cli("run", str(suite), "-q")
    assert done.exit_code == 0, done.output
    assert "all gates passed — 6 of 6 answers passed" in done.output
    assert "GATE FAILED" not in done.output and "gate off" not in done.output


def test_major_only_failures_pass_the_gates_but_the_headline_does_not_hide_them(
    tmp_path: Path,
) -> None:
    cases = [case_dict(f"c{i}", expect={"required_facts": ["amount"]}) for i in range(2)]
    store, run_id = run_suite(write_suite(tmp_path, cases=cases, targets=[scripted(NO_AMOUNT)]))
    card = build_scorecard(store.run(run_id), store.plan(run_id))
    assert card.passed
    assert [f.code for r in card.failing for f in r.findings] == ["facts.missing"] * 2
    assert card.gates.headline == (
        "gates passed (min_pass_rate not set) — 2 of 2 answers failed, 0 with a critical finding"
    )


def test_the_bundled_demo_switches_the_gate_off_and_says_so_in_its_file() -> None:
    demo = Path(__file__).resolve().parents[2] / "cases" / "suites" / "demo.yaml"
    suite = Suite.model_validate(yaml.safe_load(demo.read_text(encoding="utf-8")))
    assert suite.gates.max_critical is None and Gates().max_critical == 0
    text = demo.read_text(encoding="utf-8")
    assert "max_critical: null" in text and "shows the reports, not a gate" in text


# --- the outcome record, over every mix of answers and gate settings ---------------------------

KINDS = st.sampled_from(["pass", "major", "critical", "empty", "error"])
MAJOR = Finding(guardrail="facts", code="facts.missing", severity="major", message="missing")
CRITICAL = Finding(
    guardrail="policy", code="policy.unsupported", severity="critical", message="invented"
)


def make_plan(cases: list[Case], samples: int, gates: Gates, targets: list[str]) -> RunPlan:
    suite = Suite.model_validate(
        {
            "name": "gates",
            "cases": [{"path": "x"}],
            "targets": [{"name": t, "model": "fake/scripted"} for t in targets],
            "samples": samples,
            "gates": gates.model_dump(),
        }
    )
    return RunPlan(
        suite=suite,
        suite_path="suite.yaml",
        cases=cases,
        policies={"acme": PolicyBook.model_validate(POLICY)},
        replay_dir="cassettes",
        output_dir="out",
    )


def make_result(case: str, target: str, sample: int, kind: str) -> CaseResult:
    findings = {"major": [MAJOR], "critical": [CRITICAL], "empty": [EMPTY]}.get(kind, [])
    response = Response(
        text="" if kind == "empty" else "x", error="boom" if kind == "error" else None
    )
    return CaseResult(
        run_id="r",
        case_id=case,
        target=target,
        sample=sample,
        seed=sample,
        response=response,
        findings=findings,
        passed=answer_passed(response, findings, ("critical", "major")),
    )


def make_run(plan: RunPlan, results: list[CaseResult]) -> Run:
    return Run(
        id="r",
        suite="gates",
        started=datetime(2026, 1, 1, tzinfo=UTC),
        config_hash="h",
        versions=Versions(package="0", guardrails="0", policy_books={}, cases="0"),
        targets=plan.suite.targets,
        results=results,
    )


@settings(max_examples=100, deadline=None)
@given(
    kinds=st.lists(KINDS, min_size=1, max_size=12),
    max_critical=st.sampled_from([0, 1, 3, None]),
    max_errors=st.integers(min_value=0, max_value=2),
)
def test_the_headline_never_says_all_gates_passed_over_a_failing_answer(
    kinds: list[str], max_critical: int | None, max_errors: int
) -> None:
    cases = [Case.model_validate(case_dict(f"c{i}")) for i in range(len(kinds))]
    gates = Gates(max_critical=max_critical, max_errors=max_errors)
    plan = make_plan(cases, 1, gates, ["bot"])
    results = [make_result(c.id, "bot", 0, k) for c, k in zip(cases, kinds, strict=True)]
    card = build_scorecard(make_run(plan, results), plan)
    outcome: GateOutcome = card.gates
    critical = sum(k in ("critical", "empty") for k in kinds)
    errors = kinds.count("error")
    failing = sum(k != "pass" for k in kinds)
    expected_pass = (max_critical is None or critical <= max_critical) and errors <= max_errors
    assert card.passed is expected_pass is outcome.passed
    assert (outcome.critical_answers, outcome.errored_answers) == (critical, errors)
    assert outcome.failed_answers == failing == len(card.failing)
    assert outcome.headline.startswith("all gates passed") is (expected_pass and not failing)
    if expected_pass and failing:
        assert outcome.headline.startswith("gates passed (")
        assert f"{failing} of {len(kinds)} answers failed" in outcome.headline
        if critical and max_critical is None:
            assert "max_critical off" in outcome.headline
    if not expected_pass:
        assert outcome.headline.startswith("gates FAILED")
    (check,) = [c for c in outcome.checks if c.gate == "max_critical"]
    assert check.status == (
        "off" if max_critical is None else "failed" if critical > max_critical else "passed"
    )


def test_an_empty_answer_finding_fails_the_answer_and_the_default_gate() -> None:
    cases = [Case.model_validate(case_dict("c0")), Case.model_validate(case_dict("c1"))]
    plan = make_plan(cases, 1, Gates(), ["bot"])
    results = [make_result("c0", "bot", 0, "empty"), make_result("c1", "bot", 0, "pass")]
    assert [r.passed for r in results] == [False, True]
    card = build_scorecard(make_run(plan, results), plan)
    assert card.gate_failures == [
        "target 'bot': 1 of 2 answers had a critical finding, at most 0 allowed "
        "(response.empty in 1)"
    ]


# --- no decision from zero real answers -------------------------------------------------------


def test_a_target_whose_every_answer_errored_gets_no_decision(tmp_path: Path) -> None:
    errors = {str(n): "permanent" for n in range(1, 61)}
    suite = write_suite(
        tmp_path,
        n_cases=10,
        samples=3,
        targets=[scripted(GOOD, name="down", errors=errors), scripted(COUPON, name="bad")],
        extra={"gates": {"max_errors": 100, "max_critical": None}},
    )
    store, run_id = run_suite(suite)
    card = build_scorecard(store.run(run_id), store.plan(run_id))
    down, bad = card.decision("down", "refund_status"), card.decision("bad", "refund_status")
    assert down is not None and bad is not None
    assert down.outcome == "insufficient_evidence" and down.more_answers_needed is None
    assert down.reasons[0].startswith("no decision: every answer errored (30 of 30 calls failed")
    # Thirty real answers that all failed are evidence: that target is decided human.
    assert bad.outcome == "human"
    assert card.gates.undecided == ["down/refund_status"]
    assert "down/refund_status" in card.gates.lines()[-2]
    from evals.scope import build_scope

    scope = build_scope(card, "fp").model_dump(mode="json")
    down_scope = next(t for t in scope["targets"] if t["target"] == "down")["intents"][0]
    assert down_scope["decision"] == "insufficient_evidence"
    assert down_scope["reasons"][0].startswith("no decision: every answer errored")


def test_a_required_decision_is_not_reached_when_every_answer_errored(tmp_path: Path) -> None:
    suite = write_suite(
        tmp_path,
        n_cases=2,
        targets=[scripted(GOOD, errors={"1": "permanent", "2": "permanent"})],
        extra={
            "gates": {
                "max_errors": 5,
                "decisions": [{"intent": "refund_status", "at_least": "assist"}],
            }
        },
    )
    done = cli("run", str(suite), "-q")
    assert done.exit_code == 1, done.output
    assert (
        "GATE FAILED: target 'bot', intent 'refund_status': decision is insufficient evidence, "
        "required at least assist (no decision: every answer errored" in done.output
    )
    assert "decisions not reached: bot/refund_status" in done.output


def test_some_errors_among_real_answers_still_decide() -> None:
    # Twenty errors and ten real answers that failed: the real answers are evidence.
    cases = [Case.model_validate(case_dict(f"c{i}")) for i in range(10)]
    plan = make_plan(cases, 3, Gates(max_errors=100), ["bot"])
    results = [
        make_result(c.id, "bot", s, "error" if s else "critical") for c in cases for s in range(3)
    ]
    card = build_scorecard(make_run(plan, results), plan, load_decision_policy())
    (decision,) = card.decisions
    assert decision.outcome == "human" and not decision.reasons[0].startswith("no decision")


# --- one verdict: run, scan and the pytest plugin agree ----------------------------------------

TEXTS = [GOOD, COUPON, WINDOW, NO_AMOUNT, "", "Hola."]


def test_scan_and_run_agree_on_pass_or_fail_of_the_same_answer(tmp_path: Path) -> None:
    case = Case.model_validate(case_dict("c0"))
    book = PolicyBook.model_validate(POLICY)
    plan = make_plan([case], 1, Gates(), ["bot"])
    engine = Engine(plan, None, "r", clients={})
    judged = [engine.judge(case, "bot", 0, 0, Response(text=t)) for t in TEXTS]
    source = tmp_path / "t.jsonl"
    rows = [
        {
            "id": f"t{i}",
            "company": "acme",
            "language": case.language,
            "intent": case.intent,
            "messages": [m.model_dump() for m in case.messages],
            "facts": case.facts,
            "response": text,
        }
        for i, text in enumerate(TEXTS)
    ]
    source.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    out = io.StringIO()
    totals, issues = scan(source, {"acme": book}, out)
    assert not issues
    scanned = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [s["passed"] for s in scanned] == [r.passed for r in judged]
    assert [[f["code"] for f in s["findings"]] for s in scanned] == [
        [f.code for f in r.findings] for r in judged
    ]
    # Both good and bad answers are in the mix, so agreement is not trivial.
    assert {r.passed for r in judged} == {True, False} and totals.passed >= 1


def test_a_broken_guardrail_is_an_error_in_scan_as_in_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from guardrails.registry import GuardrailSet

    def broken(self: GuardrailSet, case: Case, text: str) -> list[Finding]:
        raise RuntimeError("boom")

    monkeypatch.setattr(GuardrailSet, "run", broken)
    case = Case.model_validate(case_dict("c0"))
    engine = Engine(make_plan([case], 1, Gates(), ["bot"]), None, "r", clients={})
    ran = engine.judge(case, "bot", 0, 0, Response(text=GOOD))
    source = tmp_path / "t.jsonl"
    row = {"id": "t0", "company": "acme", "language": "es", "response": GOOD}
    row["messages"] = [{"role": "user", "content": "¿Y mi reembolso?"}]
    source.write_text(json.dumps(row) + "\n", encoding="utf-8")
    out = io.StringIO()
    scan(source, {"acme": PolicyBook.model_validate(POLICY)}, out)
    scanned = json.loads(out.getvalue())
    assert (
        ran.passed is False and ran.response.error == "guardrail check failed: RuntimeError: boom"
    )
    assert scanned["passed"] is False and scanned["error"] == ran.response.error


def test_a_pytest_item_with_a_critical_finding_fails_like_the_cli_under_default_gates(
    pytester: pytest.Pytester,
) -> None:
    write_suite(pytester.path, n_cases=2, targets=[scripted(COUPON, GOOD)])
    done = pytester.runpytest(
        "-p", "evals.pytest_plugin", "--evals-suite", "suite.yaml", "--evals-replay", "off"
    )
    assert done.ret == pytest.ExitCode.TESTS_FAILED
    done.assert_outcomes(failed=1, passed=1)
    done.stdout.fnmatch_lines(
        [
            "*a critical finding fails the run under gates.max_critical: 0",
            "GATE FAILED: target 'bot': 1 of 2 answers had a critical finding*",
            "gates FAILED (1 check(s): max_critical)*",
        ]
    )


def test_the_item_verdict_tolerates_a_critical_finding_only_when_the_gate_does() -> None:
    case = Case.model_validate(case_dict("c0"))
    results = [make_result("c0", "bot", 0, "critical")]
    outcomes = {
        setting: item_verdict(
            case, "bot", results, make_plan([case], 1, Gates(max_critical=setting), ["bot"])
        ).outcome
        for setting in (0, 1, None)
    }
    assert outcomes == {0: "failed", 1: "xfailed", None: "xfailed"}
    passing = [make_result("c0", "bot", 0, "pass")]
    assert (
        item_verdict(case, "bot", passing, make_plan([case], 1, Gates(), ["bot"])).outcome
        == "passed"
    )


def test_engine_judge_is_usable_without_a_store() -> None:
    # The engine judges with the suite's fail_on: a major finding passes if fail_on is critical.
    case = Case.model_validate(case_dict("c0"))
    plan = make_plan([case], 1, Gates(fail_on=["critical"]), ["bot"])
    engine = Engine(plan, None, "r", clients={})
    assert engine.judge(case, "bot", 0, 0, Response(text=NO_AMOUNT)).passed
    assert not engine.judge(case, "bot", 0, 0, Response(text=COUPON)).passed
    asyncio.run(engine.close())


@pytest.mark.parametrize("value", ["off", "false", "-1"])
def test_a_gate_count_written_as_a_switch_or_negative_is_an_input_error(
    tmp_path: Path, value: str
) -> None:
    suite = write_suite(tmp_path, n_cases=1, targets=[scripted(GOOD)])
    text = suite.read_text(encoding="utf-8") + f"gates:\n  max_critical: {value}\n"
    suite.write_text(text, encoding="utf-8")
    done = cli("validate", str(suite))
    assert done.exit_code == 2
    assert "suite.yaml" in done.output and "gates.max_critical" in done.output
    assert "Traceback" not in done.output
    ran = cli("run", str(suite), "-q")
    assert ran.exit_code == 2 and "gates.max_critical" in ran.output
