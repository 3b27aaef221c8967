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
from evals.records import SEVERITIES, Case, CaseResult, Kind, Record, Response, Risk, Severity
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
class Tally:
    """The running counts one score is built from: answers and their findings, cases and their
    outcomes, added one at a time (or many answers at once), so a score of millions of answers
    is computed without holding them (`evals.scan_score` feeds it from the store)."""

    answers: int = 0
    passed: int = 0
    errors: int = 0
    cases: int = 0
    all_passed: int = 0
    stable_fail: int = 0
    flaky: int = 0
    k: int | None = None
    kinds: set[str] = field(default_factory=set)
    risk: Risk | None = None
    languages: set[str] = field(default_factory=set)
    #: per code: [findings, answers with at least one]
    codes: dict[str, list[int]] = field(default_factory=dict)
    severity_of: dict[str, Severity] = field(default_factory=dict)
    by_severity: dict[Severity, int] = field(default_factory=lambda: dict.fromkeys(SEVERITIES, 0))
    latencies: list[float] = field(default_factory=list)
    tokens: list[int] = field(default_factory=list)
    costs: list[float] = field(default_factory=list)

    def add_answers(self, answers: int, passed: int, errors: int) -> None:
        self.answers += answers
        self.passed += passed
        self.errors += errors

    def add_findings(self, findings: Iterable[tuple[str, Severity]]) -> None:
        """One answer's counted findings (code, severity), in order."""
        seen: set[str] = set()
        severities: set[Severity] = set()
        for code, severity in findings:
            counts = self.codes.setdefault(code, [0, 0])
            counts[0] += 1
            if code not in seen:
                counts[1] += 1
                seen.add(code)
            self.severity_of.setdefault(code, severity)
            severities.add(severity)
        for severity in severities:
            self.by_severity[severity] += 1

    def add_usage(self, response: Response) -> None:
        """An answered call's latency, tokens and cost, where known."""
        if response.error is not None:
            return
        if response.latency_ms is not None:
            self.latencies.append(response.latency_ms)
        if response.prompt_tokens is not None or response.completion_tokens is not None:
            self.tokens.append((response.prompt_tokens or 0) + (response.completion_tokens or 0))
        if response.cost_usd is not None:
            self.costs.append(response.cost_usd)

    def add_outcome(self, outcome: CaseOutcome, kind: str | None, risk: Risk | None) -> None:
        """One case's outcome; `kind` and `risk` are its case's (None: the case is unknown)."""
        self.cases += 1
        self.all_passed += outcome.stability == "stable_pass"
        self.stable_fail += outcome.stability == "stable_fail"
        self.flaky += outcome.stability == "flaky"
        self.k = outcome.samples if self.k is None else min(self.k, outcome.samples)
        if kind is not None and risk is not None:
            self.kinds.add(kind)
            self.languages.add(outcome.language)
            if self.risk is None or RISK_ORDER.index(risk) > RISK_ORDER.index(self.risk):
                self.risk = risk

    def score(self, target: str, group: Group, key: str) -> Score:
        answers, passed, errors = self.answers, self.passed, self.errors
        kinds = set(self.kinds)
        return Score(
            target=target,
            group=group,
            key=key,
            kind=kinds.pop() if len(kinds) == 1 else "mixed",
            risk=self.risk or "low",
            languages=sorted(self.languages),
            cases=self.cases,
            answers=answers,
            passed=passed,
            failed=answers - passed - errors,
            errors=errors,
            pass_rate=passed / answers if answers else 0.0,
            pass_rate_ci=_interval(passed, answers),
            k=self.k or 0,
            cases_all_passed=self.all_passed,
            pass_k=self.all_passed / self.cases if self.cases else 0.0,
            pass_k_ci=_interval(self.all_passed, self.cases),
            stable_pass=self.all_passed,
            stable_fail=self.stable_fail,
            flaky=self.flaky,
            findings=[
                CodeCount(code=code, severity=self.severity_of[code], findings=n, answers=a)
                for code, (n, a) in sorted(self.codes.items(), key=lambda kv: (-kv[1][1], kv[0]))
            ],
            answers_by_severity=dict(self.by_severity),
            latency_p50_ms=quantile(self.latencies, 0.5),
            latency_p95_ms=quantile(self.latencies, 0.95),
            tokens_per_answer=statistics.fmean(self.tokens) if self.tokens else None,
            cost_per_answer_usd=statistics.fmean(self.costs) if self.costs else None,
        )


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


#: The order of a target's scores: the whole target, then per intent, then per language.
GROUP_ORDER: dict[Group, int] = {"target": 0, "intent": 1, "language": 2}


def score_keys(target: str, intent: str, language: str) -> list[tuple[str, Group, str]]:
    """The scores an answer (or a case) of `target` counts in."""
    return [(target, "target", "*"), (target, "intent", intent), (target, "language", language)]


def scores_of(tallies: dict[tuple[str, Group, str], Tally]) -> list[Score]:
    """The scores of the tallies, in the order `scores()` gives them."""
    return [
        tally.score(target, group, key)
        for (target, group, key), tally in sorted(
            tallies.items(), key=lambda kv: (kv[0][0], GROUP_ORDER[kv[0][1]], kv[0][2])
        )
    ]


def scores(
    results: Sequence[CaseResult], cases: dict[str, Case]
) -> tuple[list[Score], list[CaseOutcome]]:
    """Scores for every (target, intent), target ('*') and (target, language)."""
    outcomes = case_outcomes(results, cases)
    tallies: dict[tuple[str, Group, str], Tally] = {}

    def keys(target: str, case: Case | None) -> list[tuple[str, Group, str]]:
        return score_keys(target, case.intent if case else "?", case.language if case else "?")

    for result in results:
        kept = [(f.code, f.severity) for f in counted(result.findings)]  # advisory: never scored
        for key in keys(result.target, cases.get(result.case_id)):
            tally = tallies.setdefault(key, Tally())
            tally.add_answers(1, int(result.passed), int(result.response.error is not None))
            tally.add_findings(kept)
            tally.add_usage(result.response)
    for outcome in outcomes:
        case = cases.get(outcome.case_id)
        for key in keys(outcome.target, case):
            tally = tallies.setdefault(key, Tally())
            tally.add_outcome(outcome, case.kind if case else None, case.risk if case else None)
    return scores_of(tallies), outcomes


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
