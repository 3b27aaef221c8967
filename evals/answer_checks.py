"""Checking written answers at validate time: every case's reference answer and every labelled
response goes through the guardrails a run would use, so a reference that contradicts its own
case's facts is found by `evals validate`, not as a failing `reference` target at run time.

A reference must pass (no finding of a severity the suite fails on). A labelled response must
raise exactly its labelled families (a family is raised when its guardrail gives a finding of a
failing severity, critical or major, as `benchmarks/guardrail_accuracy.py` counts it).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from evals.case_files import Located
from evals.errors import InputIssue
from evals.records import FAMILIES, Case, Finding, LabelledResponse, PolicyBook, Severity
from guardrails.registry import GuardrailContext, GuardrailSet, UnknownGuardrail

#: Severities that fail an answer unless a suite says otherwise (`gates.fail_on`).
DEFAULT_FAIL_ON: tuple[Severity, ...] = ("critical", "major")
#: Findings quoted per failing answer (the rest are counted).
SHOWN_FINDINGS = 3
SPAN_QUOTE = 80


@dataclass(frozen=True)
class AnswerProblem:
    """A written answer that disagrees with the guardrails, named at its file and line."""

    kind: str  # "reference" or "labelled"
    issue: InputIssue


def _quote(text: str) -> str:
    text = " ".join(text.split())
    return repr(text if len(text) <= SPAN_QUOTE else text[: SPAN_QUOTE - 1] + "…")


def describe(findings: Iterable[Finding]) -> str:
    """`facts.contradiction (critical) 'within the last 14 days': message [vs facts.x: 1]`."""
    shown = []
    items = list(findings)
    for finding in items[:SHOWN_FINDINGS]:
        text = f"{finding.code} ({finding.severity})"
        span = finding.evidence.span
        if span is not None:
            text += f" {_quote(span.text)}"
        text += f": {finding.message}"
        against = finding.evidence.checked_against
        if against:
            source = finding.evidence.source
            text += f" [checked against {source + ': ' if source else ''}{_quote(against)}]"
        shown.append(text)
    if len(items) > SHOWN_FINDINGS:
        shown.append(f"and {len(items) - SHOWN_FINDINGS} more")
    return "; ".join(shown)


class AnswerChecker:
    """Guardrails built once per set of policy books and guardrail names."""

    def __init__(self, policies: Mapping[str, PolicyBook], names: list[str] | None = None):
        self.checks = GuardrailSet.build(GuardrailContext(policies=dict(policies)), names)
        self.policies = policies

    def findings(self, case: Case, text: str) -> list[Finding] | str:
        """The findings, or the error text of a guardrail that broke (never a pass)."""
        try:
            return self.checks.run(case, text)
        except Exception as exc:  # a broken check must be reported, never counted as a pass
            return f"a guardrail failed on it: {type(exc).__name__}: {exc}"


def check_references(
    cases: Iterable[Located[Case]],
    policies: Mapping[str, PolicyBook],
    *,
    guardrails: list[str] | None = None,
    fail_on: Iterable[Severity] = DEFAULT_FAIL_ON,
    suite: str | None = None,
) -> tuple[int, list[AnswerProblem]]:
    """(references checked, those that fail). Cases without a reference or whose company has
    no policy book (a structural error reported elsewhere) are skipped. `suite` names the suite
    whose guardrails and gates are used."""
    failing = set(fail_on)
    try:
        checker = AnswerChecker(policies, guardrails)
    except UnknownGuardrail as exc:
        issue = InputIssue(suite or "guardrails", str(exc), field="guardrails")
        return 0, [AnswerProblem("reference", issue)]
    checked = 0
    problems: list[AnswerProblem] = []
    for located in cases:
        case = located.item
        if case.reference is None or case.company not in policies:
            continue
        checked += 1
        found = checker.findings(case, case.reference)
        if isinstance(found, str):
            message = found
        else:
            bad = [f for f in found if f.severity in failing]
            if not bad:
                continue
            message = f"the reference answer fails the guardrails: {describe(bad)}"
        issue = located.issue(message, field="reference", record=case.id)
        problems.append(AnswerProblem("reference", issue))
    return checked, problems


def check_labelled(
    labelled: Iterable[Located[LabelledResponse]],
    cases: Mapping[str, Case],
    policies: Mapping[str, PolicyBook],
) -> tuple[int, list[AnswerProblem]]:
    """(labelled responses checked, those whose raised families differ from their labels).
    Responses whose case or policy book is unknown (reported elsewhere) are skipped."""
    checker = AnswerChecker(policies)
    failing = set(DEFAULT_FAIL_ON)
    checked = 0
    problems: list[AnswerProblem] = []
    for located in labelled:
        item = located.item
        case = cases.get(item.case)
        if case is None or case.company not in policies:
            continue
        checked += 1
        found = checker.findings(case, item.response)
        if isinstance(found, str):
            message = found
        else:
            raised = {f.guardrail for f in found if f.severity in failing} & set(FAMILIES)
            expected = set(item.families)
            if raised == expected:
                continue
            parts = []
            extra = [f for f in found if f.guardrail in raised - expected and f.severity in failing]
            if extra:
                parts.append(
                    f"raises {', '.join(sorted(raised - expected))} it is not labelled with: "
                    f"{describe(extra)}"
                )
            if expected - raised:
                parts.append(f"does not raise {', '.join(sorted(expected - raised))}")
            labels = ", ".join(sorted(expected)) or "none (clean)"
            message = f"labelled {labels}, but the guardrails {'; and '.join(parts)}"
        issue = located.issue(message, field="families", record=item.id)
        problems.append(AnswerProblem("labelled", issue))
    return checked, problems
