"""Run totals per target and intent, and the suite's gates that decide the exit code."""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field

from tabulate import tabulate

from evals.records import CaseResult, RunPlan


@dataclass
class Tally:
    answers: int = 0
    passed: int = 0
    errors: int = 0
    latencies: list[float] = field(default_factory=list)
    cost: float = 0.0

    def add(self, result: CaseResult) -> None:
        self.answers += 1
        self.passed += int(result.passed)
        self.errors += int(result.response.error is not None)
        if result.response.latency_ms is not None and not result.response.cached:
            self.latencies.append(result.response.latency_ms)
        self.cost += result.response.cost_usd or 0.0

    @property
    def failed(self) -> int:
        return self.answers - self.passed - self.errors

    @property
    def pass_rate(self) -> float:
        return self.passed / self.answers if self.answers else 0.0

    def latency(self, q: float) -> float | None:
        if not self.latencies:
            return None
        if len(self.latencies) == 1:
            return self.latencies[0]
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[int(q * 100) - 1]


def tally(results: Iterable[CaseResult], plan: RunPlan) -> dict[tuple[str, str], Tally]:
    """Tallies keyed by (target, intent); intent '*' holds the target's total."""
    intent_of = {c.id: c.intent for c in plan.cases}
    out: dict[tuple[str, str], Tally] = {}
    for result in results:
        for intent in ("*", intent_of.get(result.case_id, "?")):
            out.setdefault((result.target, intent), Tally()).add(result)
    return out


def gate_failures(plan: RunPlan, tallies: dict[tuple[str, str], Tally]) -> list[str]:
    """Plain-language reasons the run fails its gates (empty: every gate passes)."""
    gates = plan.suite.gates
    reasons = []
    expected = len(plan.cases) * plan.suite.samples
    for target in plan.suite.targets:
        total = tallies.get((target.name, "*"), Tally())
        if total.answers < expected:
            reasons.append(
                f"target '{target.name}': only {total.answers} of {expected} answers are stored"
            )
        if total.errors > gates.max_errors:
            reasons.append(
                f"target '{target.name}': {total.errors} answer(s) failed with an error "
                f"(at most {gates.max_errors} allowed)"
            )
        if gates.min_pass_rate is not None and total.pass_rate < gates.min_pass_rate:
            reasons.append(
                f"target '{target.name}': pass rate {total.pass_rate:.2f} is below the "
                f"required {gates.min_pass_rate:.2f}"
            )
    return reasons


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def summary_table(tallies: dict[tuple[str, str], Tally]) -> str:
    rows = []
    for (target, intent), t in sorted(
        tallies.items(), key=lambda kv: (kv[0][0], kv[0][1] != "*", kv[0][1])
    ):
        rows.append(
            [
                target,
                "ALL" if intent == "*" else intent,
                t.answers,
                t.passed,
                t.failed,
                t.errors,
                f"{t.pass_rate:.0%}",
                _ms(t.latency(0.5)),
                _ms(t.latency(0.95)),
            ]
        )
    return tabulate(
        rows,
        headers=[
            "target",
            "intent",
            "answers",
            "passed",
            "failed",
            "errors",
            "pass",
            "p50 ms",
            "p95 ms",
        ],
        tablefmt="simple",
    )
