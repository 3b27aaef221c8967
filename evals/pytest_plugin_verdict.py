"""How a pytest item of a suite ends (passed, failed, xfailed) under the suite's gates, and the
text that explains it: each sample, every finding with its evidence, the command that records a
missing answer."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from evals.assertions import RESPONSE_QUOTE_LIMIT, describe_findings, quote
from evals.gates import case_passes
from evals.records import Case, CaseResult, Finding, Gates, RunPlan
from evals.scores import CaseOutcome, case_outcomes
from evals.verdict import has_critical

ItemOutcome = Literal["passed", "failed", "xfailed"]


def item_name(case: Case, target: str) -> str:
    return f"{case.intent}/{case.language}/{case.id}[{target}]"


@dataclass(frozen=True)
class Verdict:
    outcome: ItemOutcome
    case: CaseOutcome
    message: str


def verdict(case: Case, target: str, results: list[CaseResult], plan: RunPlan) -> Verdict:
    """How an item ends, following the suite's gates: a provider error fails it unless
    `gates.max_errors` tolerates errors, and so does a critical finding unless
    `gates.max_critical` tolerates them (or is off); otherwise it passes if the case passes
    under `gates.flaky`, and a failing case is a failure when `gates.cases_must_pass`, else
    xfailed (the run's gates, applied once on the controller, decide whether the build fails)."""
    gates = plan.suite.gates
    outcome = case_outcomes(results, {case.id: case})[0]
    critical = any(has_critical(r.findings) for r in results)
    if (outcome.errors and gates.max_errors == 0) or (critical and gates.max_critical == 0):
        result: ItemOutcome = "failed"
    elif case_passes(outcome, gates.flaky):
        result = "passed"
    else:
        result = "failed" if gates.cases_must_pass else "xfailed"
    # An xfail reason is listed in pytest's short summary (-rx): one line per sample there, the
    # full evidence in the failure section, the run's reports and `evals show`.
    brief = result == "xfailed"
    message = describe_case(case, target, results, outcome, plan, brief)
    if critical and gates.max_critical == 0:
        message += "\na critical finding fails the run under gates.max_critical: 0"
    return Verdict(result, outcome, message)


def _headline(outcome: CaseOutcome, gates: Gates) -> str:
    counts = f"{outcome.passed} of {outcome.samples} sample(s) passed"
    if outcome.errors:
        counts += f", {outcome.errors} got no answer (error)"
    if outcome.stability == "flaky":
        counted = "passing" if case_passes(outcome, gates.flaky) else "failing"
        return f"FLAKY: {counts}; counted as {counted} under gates.flaky: {gates.flaky}"
    if outcome.stability == "stable_pass":
        return f"passed: {counts}"
    return f"FAILED: {counts}"


def _brief_findings(findings: list[Finding]) -> str:
    """Findings grouped by code, each with its count and first quoted span."""
    groups: dict[str, list[Finding]] = {}
    for finding in findings:
        groups.setdefault(finding.code, []).append(finding)
    parts = []
    for code, same in groups.items():
        span = next((f.evidence.span for f in same if f.evidence.span is not None), None)
        part = f"{same[0].severity} {code}" + (f" x{len(same)}" if len(same) > 1 else "")
        parts.append(part + (f" {quote(span.text, 50)}" if span is not None else ""))
    return "; ".join(parts)


def describe_case(
    case: Case,
    target: str,
    results: list[CaseResult],
    outcome: CaseOutcome,
    plan: RunPlan,
    brief: bool = False,
) -> str:
    """An item's failure (or xfail) text: what happened to each sample, every finding with its
    evidence (`brief`: each finding's code and quoted span on its sample's line), and for a
    replay miss the command that records the missing answers."""
    model = next((t.model for t in plan.suite.targets if t.name == target), "?")
    lines = [_headline(outcome, plan.suite.gates)]
    if not brief:
        lines.append(
            f"case '{case.id}': intent {case.intent}, {case.kind}, {case.language}, "
            f"company {case.company}, risk {case.risk}; target '{target}' ({model})"
        )
    fail_on = set(plan.suite.gates.fail_on)
    misses = False
    for result in sorted(results, key=lambda r: r.sample):
        head = f"sample {result.sample} (seed {result.seed})"
        error = result.response.error
        if error is not None:
            misses = misses or error.startswith("replay miss")
            lines.append(f"{head}: ERROR {error}")
            continue
        if result.passed:
            lines.append(f"{head}: passed")
            continue
        failing = [f for f in result.findings if f.severity in fail_on]
        if brief:
            lines.append(f"{head}: {_brief_findings(failing)}")
            continue
        lines.append(f"{head}: failed, {len(failing)} finding(s) of severity {'/'.join(fail_on)}")
        lines.append(f"    response: {quote(result.response.text, RESPONSE_QUOTE_LIMIT)}")
        lines.extend(describe_findings(failing, "    "))
    if misses:
        suite = shown_path(Path(plan.suite_path))
        lines.append(
            "record the missing answers (with network and keys), then commit the cassettes:\n"
            f"    pytest -p evals.pytest_plugin --evals-suite {suite} --evals-replay record\n"
            f"    (or: evals run {suite} --replay record)"
        )
    return "\n".join(lines)


def shown_path(path: Path) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:  # another drive (Windows)
        return str(path)
