"""The run's gates, checked one by one into a record every report renders.

Each check names its gate, the target it applies to (or none for the whole run), the setting the
suite gave it, whether it passed, failed or was switched off, and a plain reason. The outcome's
headline never says "all gates passed" while answers failed: when gates pass over failing
answers, it says which settings let them through, e.g.
"gates passed (max_critical off) — 36 of 72 answers failed".

Gates, per target unless noted:

- `complete`: every case x sample has a stored answer (an interrupted run fails it);
- `max_errors`: answers whose call failed (default 0);
- `max_critical`: answers with a critical finding (default 0; null switches it off);
- `min_pass_rate`: the target's pass rate (default: not set);
- `decisions`: each decision the suite requires is reached;
- `cases_must_pass`: every case passes under `gates.flaky` (default: off).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from evals.decision_policy import RANK
from evals.decisions import Decision
from evals.records import Gates, Record, RunPlan
from evals.scan import SCAN_MODEL
from evals.scores import CaseOutcome, Score

GateName = Literal[
    "complete", "max_errors", "max_critical", "min_pass_rate", "decisions", "cases_must_pass"
]
GateStatus = Literal["passed", "failed", "off"]

#: Failing cases listed one by one under `cases_must_pass`; the rest are counted.
MAX_CASES_LISTED = 20


class GateCheck(Record):
    gate: GateName
    target: str | None = Field(description="the target checked; None: the whole run")
    status: GateStatus
    setting: str = Field(description="the gate's setting in the suite, e.g. '0' or 'null'")
    observed: float | None = Field(
        default=None,
        description="what was measured: answers stored, errored or with a critical finding, or "
        "the pass rate (None for decision and case checks)",
    )
    reason: str = Field(min_length=1, description="what was measured, in plain language")


class GateOutcome(Record):
    """Every gate checked, with what the run's answers were, and one headline."""

    passed: bool = Field(description="no check failed")
    headline: str = Field(description="one line: what passed and what did not")
    checks: list[GateCheck]
    answers: int = Field(ge=0, description="answers stored")
    failed_answers: int = Field(ge=0, description="answers that did not pass (errors included)")
    critical_answers: int = Field(ge=0, description="answers with a critical finding")
    errored_answers: int = Field(ge=0, description="answers whose call failed")
    undecided: list[str] = Field(
        description="'target/intent' whose decision was not reached (insufficient evidence, "
        "including every answer errored)"
    )

    @model_validator(mode="after")
    def _consistent(self) -> GateOutcome:
        if self.passed != all(c.status != "failed" for c in self.checks):
            raise ValueError("passed must say whether every check passed or was off")
        return self

    @property
    def failures(self) -> list[str]:
        return [c.reason for c in self.checks if c.status == "failed"]

    def lines(self) -> list[str]:
        """The end-of-run lines: every failed check, every switched-off check that let something
        through, the decisions not reached, then the headline."""
        out = [f"GATE FAILED: {c.reason}" for c in self.checks if c.status == "failed"]
        out += [f"gate off: {c.reason}" for c in self.checks if c.status == "off" and c.observed]
        if self.undecided:
            shown = ", ".join(self.undecided[:10])
            more = f" and {len(self.undecided) - 10} more" if len(self.undecided) > 10 else ""
            out.append(f"decisions not reached: {shown}{more}")
        out.append(self.headline)
        return out


def case_passes(outcome: CaseOutcome, flaky: str) -> bool:
    """Whether a case counts as passing under a gate's flaky policy."""
    if outcome.stability != "flaky":
        return outcome.stability == "stable_pass"
    if flaky == "pass":
        return True
    if flaky == "majority":
        return outcome.passed * 2 > outcome.samples
    return False


def _answers(n: int) -> str:
    return "1 answer" if n == 1 else f"{n} answers"


def _critical_codes(score: Score) -> str:
    codes = [f"{c.code} in {c.answers}" for c in score.findings if c.severity == "critical"]
    return f" ({', '.join(codes[:3])})" if codes else ""


def _target_checks(gates: Gates, name: str, total: Score | None, expected: int) -> list[GateCheck]:
    answers = total.answers if total else 0
    checks = [
        GateCheck(
            gate="complete",
            target=name,
            status="passed" if answers >= expected else "failed",
            setting=str(expected),
            observed=answers,
            reason=f"target '{name}': "
            + (
                f"all {expected} answers stored"
                if answers >= expected
                else f"only {answers} of {expected} answers stored"
            ),
        )
    ]
    if total is None:
        return checks
    over = total.errors > gates.max_errors
    checks.append(
        GateCheck(
            gate="max_errors",
            target=name,
            status="failed" if over else "passed",
            setting=str(gates.max_errors),
            observed=total.errors,
            reason=f"target '{name}': {total.errors} answer(s) failed with an error "
            f"(at most {gates.max_errors} allowed)",
        )
    )
    critical = total.critical_answers
    if gates.max_critical is None:
        checks.append(
            GateCheck(
                gate="max_critical",
                target=name,
                status="off",
                setting="null",
                observed=critical,
                reason=f"target '{name}': max_critical is off (null): {critical} of "
                f"{_answers(total.answers)} had a critical finding, not gated"
                + _critical_codes(total),
            )
        )
    else:
        checks.append(
            GateCheck(
                gate="max_critical",
                target=name,
                status="failed" if critical > gates.max_critical else "passed",
                setting=str(gates.max_critical),
                observed=critical,
                reason=f"target '{name}': {critical} of {_answers(total.answers)} had a critical "
                f"finding, at most {gates.max_critical} allowed" + _critical_codes(total),
            )
        )
    if gates.min_pass_rate is not None:
        below = total.pass_rate < gates.min_pass_rate
        checks.append(
            GateCheck(
                gate="min_pass_rate",
                target=name,
                status="failed" if below else "passed",
                setting=f"{gates.min_pass_rate:g}",
                observed=total.pass_rate,
                reason=f"target '{name}': pass rate {total.pass_rate:.2f} "
                + ("is below" if below else "reaches")
                + f" the required {gates.min_pass_rate:.2f}",
            )
        )
    return checks


def _decision_checks(plan: RunPlan, decisions: list[Decision]) -> list[GateCheck]:
    checks = []
    target_names = [t.name for t in plan.suite.targets]
    for gate in plan.suite.gates.decisions:
        setting = f"{gate.intent} at least {gate.at_least}"
        for name in [gate.target] if gate.target else target_names:
            found = [
                d
                for d in decisions
                if d.target == name and (gate.intent == "*" or d.intent == gate.intent)
            ]
            if not found:
                checks.append(
                    GateCheck(
                        gate="decisions",
                        target=name,
                        status="failed",
                        setting=setting,
                        reason=f"target '{name}': no decision for intent '{gate.intent}' "
                        f"(required at least {gate.at_least})",
                    )
                )
            for d in found:
                reached = RANK[d.outcome] >= RANK[gate.at_least]
                checks.append(
                    GateCheck(
                        gate="decisions",
                        target=name,
                        status="passed" if reached else "failed",
                        setting=setting,
                        reason=f"target '{name}', intent '{d.intent}': decision is "
                        f"{d.outcome.replace('_', ' ')}, required at least {gate.at_least}"
                        + ("" if reached else f" ({d.reasons[0]})"),
                    )
                )
    return checks


def _case_checks(plan: RunPlan, outcomes: list[CaseOutcome]) -> list[GateCheck]:
    gates = plan.suite.gates
    setting = f"true (flaky: {gates.flaky})"
    checks = []
    failing = [o for o in outcomes if not case_passes(o, gates.flaky)]
    for o in failing[:MAX_CASES_LISTED]:
        checks.append(
            GateCheck(
                gate="cases_must_pass",
                target=o.target,
                status="failed",
                setting=setting,
                reason=f"case '{o.case_id}' [{o.target}]: {o.passed} of {o.samples} samples passed"
                + (f" (flaky, counted as failing under flaky: {gates.flaky})" if o.passed else ""),
            )
        )
    if len(failing) > MAX_CASES_LISTED:
        checks.append(
            GateCheck(
                gate="cases_must_pass",
                target=None,
                status="failed",
                setting=setting,
                reason=f"... and {len(failing) - MAX_CASES_LISTED} more failing cases",
            )
        )
    if not failing:
        checks.append(
            GateCheck(
                gate="cases_must_pass",
                target=None,
                status="passed",
                setting=setting,
                reason=f"every case passed ({len(outcomes)} cases x targets)",
            )
        )
    return checks


def _headline(gates: Gates, checks: list[GateCheck], totals: list[Score], undecided: int) -> str:
    answers = sum(s.answers for s in totals)
    failed = sum(s.answers - s.passed for s in totals)
    critical = sum(s.critical_answers for s in totals)
    errors = sum(s.errors for s in totals)
    failed_checks = [c for c in checks if c.status == "failed"]
    if failed_checks:
        names = sorted({c.gate for c in failed_checks})
        return (
            f"gates FAILED ({len(failed_checks)} check(s): {', '.join(names)}) — "
            f"{failed} of {answers} answers failed, {critical} with a critical finding"
        )
    undecided_note = f"; {undecided} decision(s) not reached" if undecided else ""
    if not failed:
        return f"all gates passed — {answers} of {answers} answers passed{undecided_note}"
    # Gates passed over failing answers: say which settings let them through.
    let_through = []
    if critical:
        let_through.append(
            "max_critical off"
            if gates.max_critical is None
            else f"max_critical {gates.max_critical} tolerated"
        )
    if errors:
        let_through.append(f"max_errors {gates.max_errors} tolerated")
    if failed - errors > critical or not let_through:
        let_through.append(
            "min_pass_rate not set"
            if gates.min_pass_rate is None
            else f"min_pass_rate {gates.min_pass_rate:g} reached"
        )
    return (
        f"gates passed ({', '.join(let_through)}) — {failed} of {answers} answers failed, "
        f"{critical} with a critical finding{undecided_note}"
    )


def check_gates(
    plan: RunPlan,
    target_scores: dict[str, Score],
    decisions: list[Decision],
    outcomes: list[CaseOutcome],
) -> GateOutcome:
    """Check every gate of the suite against a scored run."""
    gates = plan.suite.gates
    checks: list[GateCheck] = []
    for target in plan.suite.targets:
        expected = len(plan.cases_for(target)) * plan.suite.samples
        total = target_scores.get(target.name)
        # A scanned bot answered what its transcripts hold: no answer of it can be missing.
        want = (total.answers if total else 0) if target.model == SCAN_MODEL else expected
        checks += _target_checks(gates, target.name, total, want)
    checks += _decision_checks(plan, decisions)
    if gates.cases_must_pass:
        checks += _case_checks(plan, outcomes)
    totals = list(target_scores.values())
    undecided = [
        f"{d.target}/{d.intent}" for d in decisions if d.outcome == "insufficient_evidence"
    ]
    return GateOutcome(
        passed=all(c.status != "failed" for c in checks),
        headline=_headline(gates, checks, totals, len(undecided)),
        checks=checks,
        answers=sum(s.answers for s in totals),
        failed_answers=sum(s.answers - s.passed for s in totals),
        critical_answers=sum(s.critical_answers for s in totals),
        errored_answers=sum(s.errors for s in totals),
        undecided=undecided,
    )
