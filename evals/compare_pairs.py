"""The answers behind a comparison's counts: which pairs changed, and which answers had no pair.

`evals.compare` counts paired answers to test whether a candidate got worse; a QA engineer then
needs the answers themselves: which case and sample regressed, what the model said before and
after, and which findings appeared or disappeared. This module builds those records from the
two runs' results (the same pairing by target, case and sample as the counts), so the terminal,
the JSON and the HTML comparison all list the same pairs.

A pair is listed when its verdict changed (regressed: passed before, not after; improved: the
reverse) or, with the same verdict, when its findings changed (a code appeared or disappeared).
Pairs that agree in verdict and findings are the bulk of a run and carry nothing to read.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Literal

from pydantic import Field

from evals.records import SEVERITIES, CaseResult, Finding, Record, Severity
from evals.verdict import result_passed

PairChange = Literal["regressed", "improved", "findings_changed"]

#: Severity rank: lower is worse (critical 0).
SEVERITY_RANK: dict[Severity, int] = {s: i for i, s in enumerate(SEVERITIES)}


class FindingNote(Record):
    """A finding as the comparison shows it: what, how bad, and the words it points at."""

    code: str
    severity: Severity
    message: str
    quote: str | None = Field(default=None, description="the answer's offending text, if any")


class AnswerSide(Record):
    """One run's answer to a case and sample."""

    passed: bool
    text: str = Field(description="the answer as stored ('' when the call failed)")
    error: str | None = Field(default=None, description="the provider or guardrail error")
    findings: list[FindingNote]


class AnswerPair(Record):
    """A case and sample whose answer changed between the runs, before and after."""

    baseline_target: str
    candidate_target: str
    case_id: str
    intent: str
    sample: int = Field(ge=0)
    change: PairChange
    before: AnswerSide
    after: AnswerSide
    appeared: list[FindingNote] = Field(
        description="the candidate's findings whose code the baseline's answer did not have"
    )
    disappeared: list[FindingNote] = Field(
        description="the baseline's findings whose code the candidate's answer does not have"
    )


class UnpairedAnswer(Record):
    """An answer only one run has (not compared): which, and whether it passed."""

    side: Literal["baseline", "candidate"]
    target: str
    case_id: str
    intent: str
    sample: int = Field(ge=0)
    passed: bool
    error: str | None = None


def _note(finding: Finding) -> FindingNote:
    span = finding.evidence.span
    return FindingNote(
        code=finding.code,
        severity=finding.severity,
        message=finding.message,
        quote=span.text if span is not None else None,
    )


def _side(result: CaseResult) -> AnswerSide:
    return AnswerSide(
        passed=result_passed(result),
        text=result.response.text,
        error=result.response.error,
        findings=[_note(f) for f in result.findings],
    )


def _only_in(mine: Iterable[Finding], theirs: Iterable[Finding]) -> list[FindingNote]:
    codes = {f.code for f in theirs}
    return [_note(f) for f in mine if f.code not in codes]


def answer_pair(
    baseline_target: str, candidate_target: str, intent: str, before: CaseResult, after: CaseResult
) -> AnswerPair | None:
    """The pair's record if its verdict or its findings changed, else None."""
    passed_before, passed_after = result_passed(before), result_passed(after)
    appeared = _only_in(after.findings, before.findings)
    disappeared = _only_in(before.findings, after.findings)
    change: PairChange
    if passed_before and not passed_after:
        change = "regressed"
    elif passed_after and not passed_before:
        change = "improved"
    elif appeared or disappeared:
        change = "findings_changed"
    else:
        return None
    return AnswerPair(
        baseline_target=baseline_target,
        candidate_target=candidate_target,
        case_id=after.case_id,
        intent=intent,
        sample=after.sample,
        change=change,
        before=_side(before),
        after=_side(after),
        appeared=appeared,
        disappeared=disappeared,
    )


def unpaired_answer(
    side: Literal["baseline", "candidate"], intent: str, result: CaseResult
) -> UnpairedAnswer:
    return UnpairedAnswer(
        side=side,
        target=result.target,
        case_id=result.case_id,
        intent=intent,
        sample=result.sample,
        passed=result_passed(result),
        error=result.response.error,
    )


def at_least(severity: Severity, threshold: Severity) -> bool:
    """Whether `severity` is `threshold` or worse."""
    return SEVERITY_RANK[severity] <= SEVERITY_RANK[threshold]


def new_severity(pair: AnswerPair, threshold: Severity) -> list[FindingNote]:
    """Findings of `threshold` or worse in the candidate's answer when the baseline's answer
    had none that bad (an errored baseline answer had none: nothing of it was checked)."""
    if any(at_least(f.severity, threshold) for f in pair.before.findings):
        return []
    return [f for f in pair.after.findings if at_least(f.severity, threshold)]


def pairs_in_order(pairs: Iterable[AnswerPair]) -> list[AnswerPair]:
    """Regressed first, then findings changed, then improved; by target, case and sample."""
    order: Mapping[PairChange, int] = {"regressed": 0, "findings_changed": 1, "improved": 2}
    return sorted(pairs, key=lambda p: (order[p.change], p.candidate_target, p.case_id, p.sample))
