"""Whether one answer passed: the only place supportgate decides it.

An answer passes when its call returned (no provider or guardrail error) and no finding has a
severity the suite fails on (`gates.fail_on`, critical and major by default). `evals run`, the
pytest plugin (through the engine), `evals scan` and `evals compare` all go through here, so the
same answer to the same case under the same policy gets the same verdict everywhere.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from evals.records import Case, CaseResult, Finding, Response, Severity
from guardrails.registry import GuardrailSet


def counted(findings: Iterable[Finding]) -> list[Finding]:
    """The findings a verdict, gate, pass rate or decision may count: all but the advisory ones
    (raised by an LLM judge that may not gate; see evals/judge/status.py)."""
    return [f for f in findings if not f.evidence.advisory]


def answer_passed(
    response: Response, findings: Iterable[Finding], fail_on: Iterable[Severity]
) -> bool:
    """The verdict: the call returned and no counted finding has a failing severity."""
    failing = set(fail_on)
    return response.ok and not any(f.severity in failing for f in counted(findings))


def result_passed(result: CaseResult) -> bool:
    """A stored result's verdict; an errored call never counts as a pass, whatever is stored."""
    return result.passed and result.response.ok


def has_critical(findings: Iterable[Finding]) -> bool:
    """Whether an answer carries a critical finding (what `gates.max_critical` counts)."""
    return any(f.severity == "critical" for f in counted(findings))


@dataclass(frozen=True)
class Judged:
    """An answer after the guardrails: the response (carrying the error if a guardrail broke),
    its findings and the verdict."""

    response: Response
    findings: list[Finding]
    passed: bool


def judge_answer(
    checks: GuardrailSet, case: Case, response: Response, fail_on: Iterable[Severity]
) -> Judged:
    """Check an answer with every guardrail and give the verdict.

    A call that failed is not checked (there is nothing to check) and does not pass. A guardrail
    that raises turns the answer into an error: a broken check is never a pass.
    """
    findings: list[Finding] = []
    if response.ok:
        try:
            findings = checks.run(case, response.text)
        except Exception as exc:
            response = response.model_copy(
                update={"error": f"guardrail check failed: {type(exc).__name__}: {exc}"}
            )
            findings = []
    return Judged(response, findings, answer_passed(response, findings, fail_on))


def add_judge(
    judged: Judged,
    findings: Iterable[Finding],
    error: str | None,
    fail_on: Iterable[Severity],
) -> Judged:
    """The verdict after an LLM judge: its findings are added to the rules' (never replacing or
    downgrading one), and a judge that gates and failed makes the answer an error (a check
    that could not run is never a pass)."""
    response = judged.response
    if error is not None and response.ok:
        response = response.model_copy(update={"error": f"judge failed: {error}"})
    merged = [*judged.findings, *findings]
    return Judged(response, merged, answer_passed(response, merged, fail_on))
