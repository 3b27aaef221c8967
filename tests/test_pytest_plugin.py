"""The pytest plugin as CI uses it: one item per case x target, findings with evidence in the
failure text, the suite's gates deciding the exit code, xdist giving the same results, hermetic
replays, and no effect at all unless enabled. Plus `assert_guardrails` for users' own tests."""

from __future__ import annotations

import importlib.metadata
import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from builders import POLICY, case_dict, write_suite
from hypothesis import given, settings
from hypothesis import strategies as st

from evals.assertions import assert_guardrails, quote
from evals.pytest_plugin import verdict
from evals.records import (
    Case,
    CaseResult,
    Finding,
    FlakyPolicy,
    Gates,
    PolicyBook,
    Response,
    Run,
    RunPlan,
    Suite,
    Versions,
)
from evals.scorecard import build_scorecard
from evals.store import RunStore

pytest_plugins = ["pytester"]

PLUGIN = ("-p", "evals.pytest_plugin")
GOOD = "Tu reembolso de EUR 10.00 llegará en 10 días hábiles."
FABRICATED = "Tu reembolso llegará pronto. Además te regalamos un cupón de 20 euros."


def scripted(*replies: str, name: str = "bot") -> dict[str, Any]:
    return {"name": name, "model": "fake/scripted", "params": {"extra": {"replies": list(replies)}}}


ECHO = {"name": "echo", "model": "fake/scripted", "params": {"extra": {"echo": True}}}
REFERENCE = {"name": "reference", "model": "reference"}


def junit_outcomes(path: Path) -> dict[str, str]:
    """testcase name -> passed | failed | xfailed, from pytest's own JUnit XML."""
    out = {}
    for case in ET.parse(path).getroot().iter("testcase"):
        if case.find("failure") is not None or case.find("error") is not None:
            outcome = "failed"
        elif case.find("skipped") is not None:
            outcome = "xfailed"
        else:
            outcome = "passed"
        out[case.attrib["name"]] = outcome
    return out


def only_run(report_dir: Path) -> tuple[RunStore, str]:
    store = RunStore.in_folder(report_dir)
    runs = store.runs()
    assert len(runs) == 1
    return store, runs[0].id


def test_a_passing_suite_exits_0_with_one_junit_testcase_per_case_and_target(
    pytester: pytest.Pytester,
) -> None:
    write_suite(pytester.path, n_cases=2, samples=2, targets=[ECHO, REFERENCE])
    recorded = pytester.runpytest(
        *PLUGIN,
        "--evals-suite",
        "suite.yaml",
        "--evals-replay",
        "record",
        "--evals-report-dir",
        "rec",
    )
    assert recorded.ret == 0
    assert (pytester.path / "cassettes" / "echo.jsonl").is_file()

    done = pytester.runpytest(*PLUGIN, "--evals-suite", "suite.yaml", "--junitxml", "junit.xml")
    assert done.ret == 0
    done.assert_outcomes(passed=4)
    done.stdout.fnmatch_lines(
        ["*replay mode 'replay'*", "*decisions (policy*", "all gates passed — 8 of 8 answers*"]
    )
    assert junit_outcomes(pytester.path / "junit.xml") == {
        f"refund_status/es/{case}[{target}]": "passed"
        for case in ("c000", "c001")
        for target in ("echo", "reference")
    }
    # The run is stored like any other (so `evals show` and `evals report` work on it) and its
    # reports are written; the JUnit XML carries short properties, not the results payload.
    store, run_id = only_run(pytester.path / "out" / "pytest")
    assert store.run(run_id).status == "finished"
    assert len(store.run(run_id).results) == 8
    assert (pytester.path / "out" / "pytest" / "reports" / run_id / "scorecard.json").is_file()
    xml = (pytester.path / "junit.xml").read_text(encoding="utf-8")
    assert "evals_stability" in xml and "evals_results" not in xml


def test_a_fabricated_policy_fails_its_item_with_the_finding_and_the_quoted_span(
    pytester: pytest.Pytester,
) -> None:
    write_suite(
        pytester.path,
        n_cases=2,
        targets=[scripted(FABRICATED)],
        extra={"gates": {"cases_must_pass": True}},
    )
    done = pytester.runpytest(*PLUGIN, "--evals-suite", "suite.yaml", "--evals-replay", "off")
    assert done.ret == pytest.ExitCode.TESTS_FAILED
    done.assert_outcomes(failed=2)
    done.stdout.fnmatch_lines(
        [
            "*refund_status/es/c000[[]bot[]]*",
            "FAILED: 0 of 1 sample(s) passed",
            '*response: "Tu reembolso llegará pronto.*',
            "*- critical policy.unsupported: *cupón*",
            '*span [[]*[]]: "cupón"',
            "*checked against: policy:acme*",
            "GATE FAILED: case 'c000' [[]bot[]]*",
        ]
    )
    assert "Traceback" not in done.stdout.str()


def test_the_decision_gate_alone_decides_the_exit_code_when_cases_only_xfail(
    pytester: pytest.Pytester,
) -> None:
    # The critical-finding gate is off here so that only the decision gate is in play.
    off = {"max_critical": None}
    write_suite(pytester.path, n_cases=2, targets=[scripted(FABRICATED)], extra={"gates": off})
    tolerated = pytester.runpytest(*PLUGIN, "--evals-suite", "suite.yaml", "--evals-replay", "off")
    assert tolerated.ret == 0
    tolerated.assert_outcomes(xfailed=2)

    write_suite(
        pytester.path,
        n_cases=2,
        targets=[scripted(FABRICATED)],
        extra={
            "gates": {**off, "decisions": [{"intent": "refund_status", "at_least": "automate"}]}
        },
    )
    gated = pytester.runpytest(
        *PLUGIN, "--evals-suite", "suite.yaml", "--evals-replay", "off", "-rx"
    )
    assert gated.ret == pytest.ExitCode.TESTS_FAILED
    gated.assert_outcomes(xfailed=2)
    gated.stdout.fnmatch_lines(
        [
            "GATE FAILED: target 'bot', intent 'refund_status': decision is human*",
            "*XFAIL*c000*FAILED: 0 of 1 sample(s) passed",
            '*critical policy.unsupported x2 "regalamos"',
        ]
    )


@pytest.mark.parametrize(
    ("policy", "outcome"), [("fail", "failed"), ("majority", "passed"), ("pass", "passed")]
)
def test_a_flaky_case_follows_the_suites_flaky_policy_and_is_shown_as_flaky(
    pytester: pytest.Pytester, policy: str, outcome: str
) -> None:
    write_suite(
        pytester.path,
        n_cases=1,
        samples=3,
        targets=[scripted(GOOD, FABRICATED, GOOD)],
        # The flaky policy alone: a critical sample would fail the run under max_critical: 0.
        extra={"gates": {"cases_must_pass": True, "flaky": policy, "max_critical": None}},
    )
    done = pytester.runpytest(*PLUGIN, "--evals-suite", "suite.yaml", "--evals-replay", "off", "-v")
    done.assert_outcomes(**{outcome: 1})
    if outcome == "passed":
        done.stdout.fnmatch_lines(["*refund_status/es/c000[[]bot[]] PASSED (flaky)*"])
    counted = "failing" if outcome == "failed" else "passing"
    done.stdout.fnmatch_lines(
        [
            "*0 stable pass, 0 stable fail, 1 flaky*",
            f"*flaky: refund_status/es/c000[[]bot[]] 2 of 3 passed, counted as {counted}*",
        ]
    )
    if outcome == "failed":
        done.stdout.fnmatch_lines(["FLAKY: 2 of 3 sample(s) passed; counted as failing*"])
    assert done.ret == (0 if outcome == "passed" else 1)


def test_a_replay_miss_fails_with_the_case_and_the_command_that_records_it(
    pytester: pytest.Pytester,
) -> None:
    write_suite(pytester.path, n_cases=1, targets=[ECHO])
    done = pytester.runpytest(*PLUGIN, "--evals-suite", "suite.yaml")
    assert done.ret == pytest.ExitCode.TESTS_FAILED
    done.assert_outcomes(failed=1)
    done.stdout.fnmatch_lines(
        [
            "*ERROR replay miss: no recorded answer for case 'c000' sample 0 of target 'echo'*"
            "this case was never recorded for this target.",
            "*evals run *suite.yaml --replay auto",
            "*pytest -p evals.pytest_plugin --evals-suite suite.yaml --evals-replay record",
            "GATE FAILED: target 'echo': 1 answer(s) failed with an error*",
        ]
    )


def test_xdist_gives_the_same_items_outcomes_and_scorecard(pytester: pytest.Pytester) -> None:
    # Echo answers with the customer's message, so each case's outcome is fixed by its text
    # whichever process answers it.
    cases = [
        case_dict(f"c{i:03d}", messages=[{"role": "user", "content": text}])
        for i, text in enumerate([GOOD, FABRICATED, GOOD, FABRICATED, GOOD, GOOD])
    ]
    off = {"gates": {"max_critical": None}}  # fabricated answers xfail rather than fail the run
    write_suite(pytester.path, samples=2, targets=[ECHO, REFERENCE], cases=cases, extra=off)
    record = pytester.runpytest(*PLUGIN, "--evals-suite", "suite.yaml", "--evals-replay", "record")
    assert record.ret == 0
    cassette = pytester.path / "cassettes" / "echo.jsonl"
    before = cassette.read_text(encoding="utf-8")

    runs = {}
    for name, extra in [("serial", ()), ("xdist", ("-n", "2"))]:
        args = (*PLUGIN, "--evals-suite", "suite.yaml", "--evals-report-dir", f"out/{name}")
        args += ("--junitxml", f"{name}.xml", *extra)
        if extra:
            done = pytester.runpytest_subprocess(*args)
            done.stdout.fnmatch_lines(["*2 workers*"])
        else:
            done = pytester.runpytest(*args)
        assert done.ret == 0
        done.assert_outcomes(passed=10, xfailed=2)
        store, run_id = only_run(pytester.path / "out" / name)
        runs[name] = (junit_outcomes(pytester.path / f"{name}.xml"), store, run_id)

    assert runs["serial"][0] == runs["xdist"][0]
    assert len(runs["serial"][0]) == 12
    cards = [build_scorecard(store.run(rid), store.plan(rid)) for _, store, rid in runs.values()]
    for part in ("decisions", "cases", "gate_failures"):
        assert getattr(cards[0], part) == getattr(cards[1], part), part
    timing = {"latency_p50_ms", "latency_p95_ms"}  # the reference target answers live
    assert [s.model_dump(exclude=timing) for s in cards[0].scores] == [
        s.model_dump(exclude=timing) for s in cards[1].scores
    ]
    assert len(cards[1].failing) == len(cards[0].failing) == 4
    assert cassette.read_text(encoding="utf-8") == before  # replays never rewrite a cassette


def test_the_plugin_does_nothing_unless_enabled(pytester: pytest.Pytester) -> None:
    write_suite(pytester.path, n_cases=2, targets=[REFERENCE])
    pytester.makepyfile(test_plain="def test_plain():\n    assert True\n")
    plain = pytester.runpytest()
    plain.assert_outcomes(passed=1)
    assert "supportgate" not in plain.stdout.str()
    unknown = pytester.runpytest("--evals-suite", "suite.yaml")
    assert unknown.ret == pytest.ExitCode.USAGE_ERROR
    unknown.stderr.fnmatch_lines(["*unrecognized arguments: --evals-suite*"])
    # No pytest11 entry point: installing supportgate cannot switch it on elsewhere.
    entry_points = importlib.metadata.entry_points(group="pytest11")
    assert not [ep for ep in entry_points if ep.value.startswith("evals")]


def test_ini_options_and_a_conftest_enable_the_suite_next_to_ordinary_tests(
    pytester: pytest.Pytester,
) -> None:
    write_suite(pytester.path, n_cases=2, targets=[scripted(GOOD), REFERENCE])
    pytester.makeini(
        "[pytest]\nevals_suite = suite.yaml\nevals_targets =\n    bot\n"
        "evals_replay = off\nevals_report_dir = reports-here\n"
    )
    pytester.makeconftest('pytest_plugins = ["evals.pytest_plugin"]\n')
    pytester.makepyfile(test_plain="def test_plain():\n    assert True\n")
    everything = pytester.runpytest("-v")
    everything.assert_outcomes(passed=3)
    everything.stdout.fnmatch_lines(
        ["*suite.yaml::refund_status/es/c000[[]bot[]] PASSED*", "*test_plain.py::test_plain*"]
    )
    assert "[reference]" not in everything.stdout.str()
    assert (pytester.path / "reports-here" / "runs.sqlite").is_file()
    # A suite named only in the ini file does not join a run of explicitly named tests.
    named = pytester.runpytest("test_plain.py")
    named.assert_outcomes(passed=1)


@pytest.mark.parametrize(
    ("args", "suite_extra", "message"),
    [
        ((), {"samples": 0}, "*suite.yaml:*field 'samples'*"),
        (("--evals-target", "nope"), {}, "*no target named nope (the suite has: reference)*"),
        ((), {"guardrails": ["no-such-guardrail"]}, "*unknown guardrail*no-such-guardrail*"),
    ],
)
def test_bad_input_is_a_usage_error_without_a_traceback(
    pytester: pytest.Pytester, args: tuple[str, ...], suite_extra: dict[str, Any], message: str
) -> None:
    write_suite(pytester.path, targets=[REFERENCE], extra=suite_extra)
    done = pytester.runpytest(*PLUGIN, "--evals-suite", "suite.yaml", *args)
    assert done.ret == pytest.ExitCode.USAGE_ERROR
    done.stderr.fnmatch_lines([message])
    assert "Traceback" not in done.stderr.str() + done.stdout.str()


# --- item outcomes agree with the run's gates ------------------------------------------------

SAMPLE = st.sampled_from(["pass", "fail", "critical", "error"])
CRITICAL = Finding(
    guardrail="policy", code="policy.unsupported", severity="critical", message="invented"
)


def _plan(cases: list[Case], samples: int, gates: Gates) -> RunPlan:
    suite = Suite.model_validate(
        {
            "name": "prop",
            "cases": [{"path": "x"}],
            "targets": [{"name": "bot", "model": "fake/scripted"}],
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


def _result(case: str, sample: int, kind: str) -> CaseResult:
    response = Response(text="x", error="boom" if kind == "error" else None)
    return CaseResult(
        run_id="r",
        case_id=case,
        target="bot",
        sample=sample,
        seed=sample,
        response=response,
        findings=[CRITICAL] if kind == "critical" else [],
        passed=kind == "pass",
    )


@settings(max_examples=150, deadline=None)
@given(
    patterns=st.lists(st.lists(SAMPLE, min_size=3, max_size=3), min_size=1, max_size=4),
    must_pass=st.booleans(),
    flaky=st.sampled_from(["fail", "pass", "majority"]),
    max_errors=st.integers(min_value=0, max_value=2),
    max_critical=st.sampled_from([0, 1, 2, None]),
)
def test_an_item_fails_only_when_the_gate_fails_and_exactly_then_without_tolerated_errors(
    patterns: list[list[str]],
    must_pass: bool,
    flaky: FlakyPolicy,
    max_errors: int,
    max_critical: int | None,
) -> None:
    cases = [Case.model_validate(case_dict(f"c{i}")) for i in range(len(patterns))]
    gates = Gates(
        cases_must_pass=must_pass, flaky=flaky, max_errors=max_errors, max_critical=max_critical
    )
    plan = _plan(cases, 3, gates)
    by_case = {
        case.id: [_result(case.id, s, kind) for s, kind in enumerate(pattern)]
        for case, pattern in zip(cases, patterns, strict=True)
    }
    items = [verdict(case, "bot", by_case[case.id], plan).outcome for case in cases]
    run = Run(
        id="r",
        suite="prop",
        started=datetime(2026, 1, 1, tzinfo=UTC),
        config_hash="h",
        versions=Versions(package="0", guardrails="0", policy_books={}, cases="0"),
        targets=plan.suite.targets,
        results=[r for results in by_case.values() for r in results],
    )
    gate_fails = bool(build_scorecard(run, plan).gate_failures)
    if "failed" in items:
        assert gate_fails
    # Without a tolerance the build fails exactly when an item fails, like the CLI's exit code.
    if max_errors == 0 and max_critical in (0, None):
        assert ("failed" in items) == gate_fails
    if not must_pass:
        assert all(
            o != "failed"
            for o, p in zip(items, patterns, strict=True)
            if "error" not in p and ("critical" not in p or max_critical != 0)
        )


# --- assert_guardrails ---------------------------------------------------------------------

CASE = {
    "language": "es",
    "company": "acme",
    "messages": [{"role": "user", "content": "¿Dónde está mi reembolso?"}],
    "facts": {"amount": "EUR 10.00"},
}


def test_assert_guardrails_raises_with_every_finding_and_its_evidence() -> None:
    with pytest.raises(AssertionError) as caught:
        assert_guardrails(FABRICATED, CASE, POLICY["text"])
    text = str(caught.value)
    assert "critical policy.unsupported" in text
    assert "span [" in text and '"cupón"' in text
    assert "checked against: policy:acme" in text
    assert f"response: {quote(FABRICATED)}" in text


def test_assert_guardrails_returns_the_findings_of_a_good_answer() -> None:
    book = PolicyBook.model_validate(POLICY)
    assert assert_guardrails(GOOD, Case.model_validate(case_dict("c1")), book) == []
    assert assert_guardrails(GOOD, CASE, dict(POLICY)) == []


def test_assert_guardrails_loads_a_policy_file_and_refuses_a_missing_policy(
    tmp_path: Path,
) -> None:
    path = tmp_path / "acme.yaml"
    path.write_text(json.dumps(POLICY), encoding="utf-8")
    with pytest.raises(AssertionError, match=r"policy\.unsupported"):
        assert_guardrails(FABRICATED, CASE, path)
    with pytest.raises(ValueError, match="no policy given"):
        assert_guardrails(FABRICATED, CASE)
    assert assert_guardrails(FABRICATED, CASE, guardrails=["template"]) == []
    with pytest.raises(ValueError, match="field 'language'"):
        assert_guardrails(GOOD, {**CASE, "language": "Spanish!"}, path)
    with pytest.raises(ValueError, match="policy book is 'acme' but the case is for company"):
        assert_guardrails(GOOD, {**CASE, "company": "other"}, PolicyBook.model_validate(POLICY))


def test_assert_guardrails_fails_a_users_test_pytest_style(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_bot=f"""
from evals.assertions import assert_guardrails

def test_reply():
    assert_guardrails({FABRICATED!r}, {CASE!r}, {POLICY["text"]!r})
"""
    )
    done = pytester.runpytest()
    done.assert_outcomes(failed=1)
    done.stdout.fnmatch_lines(
        ["E*AssertionError: * guardrail finding(s) of severity critical/major*", '*"cupón"*']
    )
    assert "assertions.py" not in done.stdout.str()  # __tracebackhide__: the user's line only


@given(st.text())
def test_quoted_untrusted_text_is_one_line_that_decodes_to_the_original(text: str) -> None:
    quoted = quote(text)
    assert json.loads(quoted) == text
    assert not any(ch in quoted for ch in "\n\r\x1b\x00")
