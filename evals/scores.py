"""Aggregate stored results into scores per (target, intent), per target and per language.

A score counts answers (pass rate with a 95% Wilson interval) and cases (pass^k: a case counts
only if all of its k samples passed, again with a Wilson interval, over cases). Provider errors
count as answers that did not pass. Each case is also classified by its samples: stable pass,
stable fail or flaky.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from pydantic import Field

from evals.proportions import wilson
from evals.records import SEVERITIES, Case, CaseResult, Kind, Record, Risk, Severity
from evals.verdict import counted

Group = Literal["intent", "target", "language"]
Stability = Literal["stable_pass", "stable_fail", "flaky"]

RISK_ORDER: tuple[Risk, ...] = ("low", "medium", "high", "critical")


class Interval(Record):
    low: float = Field(ge=0, le=1)
    high: float = Field(ge=0, le=1)


class CodeCount(Record):
    code: str
    severity: Severity
    findings: int = Field(ge=0, description="findings with this code")
    answers: int = Field(ge=0, description="answers with at least one")


class CaseOutcome(Record):
    """One case's samples for one target, classified."""

    target: str
    case_id: str
    intent: str
    language: str
    samples: int
    passed: int
    errors: int
    stability: Stability


class Score(Record):
    target: str
    group: Group
    key: str = Field(description="the intent, the language, or '*' for the whole target")
    kind: Kind | Literal["mixed"]
    risk: Risk = Field(description="the highest risk among the cases")
    languages: list[str]
    cases: int
    answers: int
    passed: int
    failed: int = Field(description="answered but a guardrail failed it")
    errors: int = Field(description="no answer: the call failed")
    pass_rate: float
    pass_rate_ci: Interval
    k: int = Field(description="fewest samples any case has (pass^k's k)")
    cases_all_passed: int
    pass_k: float
    pass_k_ci: Interval
    stable_pass: int
    stable_fail: int
    flaky: int
    findings: list[CodeCount] = Field(description="by code, most answers first")
    answers_by_severity: dict[Severity, int] = Field(
        description="answers with at least one finding of each severity"
    )
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    tokens_per_answer: float | None
    cost_per_answer_usd: float | None = Field(description="None when no cost is known")

    @property
    def critical_answers(self) -> int:
        return self.answers_by_severity.get("critical", 0)


def quantile(values: Sequence[float], q: float) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[round(q * 100) - 1]


def stability(passed: int, samples: int) -> Stability:
    if passed == samples:
        return "stable_pass"
    return "stable_fail" if passed == 0 else "flaky"


def _interval(successes: int, n: int) -> Interval:
    low, high = wilson(successes, n)
    return Interval(low=low, high=high)


@dataclass
class _Bucket:
    results: list[CaseResult] = field(default_factory=list)
    outcomes: list[CaseOutcome] = field(default_factory=list)
    cases: list[Case] = field(default_factory=list)


def case_outcomes(results: Iterable[CaseResult], cases: dict[str, Case]) -> list[CaseOutcome]:
    grouped: dict[tuple[str, str], list[CaseResult]] = {}
    for result in results:
        grouped.setdefault((result.target, result.case_id), []).append(result)
    out = []
    for (target, case_id), items in sorted(grouped.items()):
        case = cases.get(case_id)
        passed = sum(r.passed for r in items)
        out.append(
            CaseOutcome(
                target=target,
                case_id=case_id,
                intent=case.intent if case else "?",
                language=case.language if case else "?",
                samples=len(items),
                passed=passed,
                errors=sum(r.response.error is not None for r in items),
                stability=stability(passed, len(items)),
            )
        )
    return out


def _score(target: str, group: Group, key: str, bucket: _Bucket) -> Score:
    results = bucket.results
    answers = len(results)
    passed = sum(r.passed for r in results)
    errors = sum(r.response.error is not None for r in results)
    outcomes = bucket.outcomes
    all_passed = sum(o.stability == "stable_pass" for o in outcomes)
    kinds = {c.kind for c in bucket.cases}
    risk = max((c.risk for c in bucket.cases), key=RISK_ORDER.index, default="low")
    codes: dict[str, list[int]] = {}
    severity_of: dict[str, Severity] = {}
    by_severity = dict.fromkeys(SEVERITIES, 0)
    for result in results:
        seen: set[str] = set()
        kept = counted(result.findings)  # an advisory judge finding is shown, never scored
        for finding in kept:
            counts = codes.setdefault(finding.code, [0, 0])
            counts[0] += 1
            if finding.code not in seen:
                counts[1] += 1
                seen.add(finding.code)
            severity_of.setdefault(finding.code, finding.severity)
        for severity in {f.severity for f in kept}:
            by_severity[severity] += 1
    ok = [r.response for r in results if r.response.error is None]
    latencies = [r.latency_ms for r in ok if r.latency_ms is not None]
    tokens = [
        (r.prompt_tokens or 0) + (r.completion_tokens or 0)
        for r in ok
        if r.prompt_tokens is not None or r.completion_tokens is not None
    ]
    costs = [r.cost_usd for r in ok if r.cost_usd is not None]
    return Score(
        target=target,
        group=group,
        key=key,
        kind=kinds.pop() if len(kinds) == 1 else "mixed",
        risk=risk,
        languages=sorted({c.language for c in bucket.cases}),
        cases=len(outcomes),
        answers=answers,
        passed=passed,
        failed=answers - passed - errors,
        errors=errors,
        pass_rate=passed / answers if answers else 0.0,
        pass_rate_ci=_interval(passed, answers),
        k=min((o.samples for o in outcomes), default=0),
        cases_all_passed=all_passed,
        pass_k=all_passed / len(outcomes) if outcomes else 0.0,
        pass_k_ci=_interval(all_passed, len(outcomes)),
        stable_pass=all_passed,
        stable_fail=sum(o.stability == "stable_fail" for o in outcomes),
        flaky=sum(o.stability == "flaky" for o in outcomes),
        findings=[
            CodeCount(code=code, severity=severity_of[code], findings=n, answers=a)
            for code, (n, a) in sorted(codes.items(), key=lambda kv: (-kv[1][1], kv[0]))
        ],
        answers_by_severity=by_severity,
        latency_p50_ms=quantile(latencies, 0.5),
        latency_p95_ms=quantile(latencies, 0.95),
        tokens_per_answer=statistics.fmean(tokens) if tokens else None,
        cost_per_answer_usd=statistics.fmean(costs) if costs else None,
    )


def scores(
    results: Sequence[CaseResult], cases: dict[str, Case]
) -> tuple[list[Score], list[CaseOutcome]]:
    """Scores for every (target, intent), target ('*') and (target, language)."""
    outcomes = case_outcomes(results, cases)
    buckets: dict[tuple[str, Group, str], _Bucket] = {}

    def keys(target: str, case: Case | None) -> list[tuple[str, Group, str]]:
        intent = case.intent if case else "?"
        language = case.language if case else "?"
        return [(target, "target", "*"), (target, "intent", intent), (target, "language", language)]

    for result in results:
        for key in keys(result.target, cases.get(result.case_id)):
            buckets.setdefault(key, _Bucket()).results.append(result)
    for outcome in outcomes:
        case = cases.get(outcome.case_id)
        for key in keys(outcome.target, case):
            bucket = buckets.setdefault(key, _Bucket())
            bucket.outcomes.append(outcome)
            if case is not None:
                bucket.cases.append(case)
    order = {"target": 0, "intent": 1, "language": 2}
    return [
        _score(target, group, key, bucket)
        for (target, group, key), bucket in sorted(
            buckets.items(), key=lambda kv: (kv[0][0], order[kv[0][1]], kv[0][2])
        )
    ], outcomes


def with_passing_cases(score: Score, cases: int, k: int) -> Score:
    """`score` as it would be after `cases` more cases of `k` samples that all pass: the counts
    `decide()` reads, recomputed with the same intervals `scores()` uses."""
    if cases <= 0:
        return score
    answers = score.answers + cases * k
    passed = score.passed + cases * k
    all_cases = score.cases + cases
    all_passed = score.cases_all_passed + cases
    return score.model_copy(
        update={
            "cases": all_cases,
            "answers": answers,
            "passed": passed,
            "pass_rate": passed / answers,
            "pass_rate_ci": _interval(passed, answers),
            "k": min(score.k, k) if score.cases else k,
            "cases_all_passed": all_passed,
            "pass_k": all_passed / all_cases,
            "pass_k_ci": _interval(all_passed, all_cases),
            "stable_pass": score.stable_pass + cases,
        }
    )


def score_from_counts(
    *,
    target: str,
    key: str,
    kind: Kind,
    risk: Risk,
    cases: int,
    k: int,
    all_passed: int,
    failed: int,
    critical: int,
    stable_fail: int,
) -> Score:
    """The Score `scores()` builds for one intent of `cases` cases x `k` samples, no errors, in
    which `failed` answers failed (`critical` of them with a critical finding, the others with a
    major one) and `all_passed` cases passed every sample: what a planner or a simulation needs
    to ask `decide()` without building every answer (`benchmarks/decision_soundness.py` checks
    it equals what `scores()` builds from the records)."""
    answers = cases * k
    passed = answers - failed
    major = failed - critical
    codes = [
        CodeCount(code=code, severity=severity, findings=count, answers=count)
        for severity, code, count in (
            ("critical", "policy.unsupported", critical),
            ("major", "handoff.missing", major),
        )
        if count
    ]
    codes.sort(key=lambda c: (-c.answers, c.code))
    return Score(
        target=target,
        group="intent",
        key=key,
        kind=kind,
        risk=risk,
        languages=["en"],
        cases=cases,
        answers=answers,
        passed=passed,
        failed=failed,
        errors=0,
        pass_rate=passed / answers if answers else 0.0,
        pass_rate_ci=_interval(passed, answers),
        k=k,
        cases_all_passed=all_passed,
        pass_k=all_passed / cases if cases else 0.0,
        pass_k_ci=_interval(all_passed, cases),
        stable_pass=all_passed,
        stable_fail=stable_fail,
        flaky=cases - all_passed - stable_fail,
        findings=codes,
        answers_by_severity={"critical": critical, "major": major, "minor": 0},
        latency_p50_ms=None,
        latency_p95_ms=None,
        tokens_per_answer=None,
        cost_per_answer_usd=None,
    )
