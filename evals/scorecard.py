"""The scorecard of a run: scores, decisions, case stability and gates, in one versioned record.

Every report (terminal, markdown, HTML, JSON, JUnit), the automation scope and the pytest plugin
render this one record, so they cannot disagree.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from evals.decision_policy import RANK, DecisionPolicy, plan_policy
from evals.decisions import Decision, decide
from evals.records import CaseResult, Gates, Record, Run, RunPlan, Target, Versions
from evals.scores import CaseOutcome, Score, scores

#: Version of the scorecard's JSON; bump on any change an older reader could misread.
SCORECARD_VERSION = 1


class PolicyRef(Record):
    name: str
    version: str
    hash: str
    source: str

    @property
    def ident(self) -> str:
        return f"{self.name}@{self.version}#{self.hash}"


class Scorecard(Record):
    schema_version: int = SCORECARD_VERSION
    run_id: str
    suite: str
    status: str
    started: datetime
    finished: datetime | None
    config_hash: str
    versions: Versions
    targets: list[Target]
    samples: int = Field(description="samples per case and target the suite asked for")
    decision_policy: PolicyRef
    scores: list[Score]
    decisions: list[Decision]
    cases: list[CaseOutcome]
    gate_failures: list[str] = Field(description="why the run fails its gates (empty: passes)")
    failing: list[CaseResult] = Field(description="answers that did not pass, with findings")

    @property
    def passed(self) -> bool:
        return not self.gate_failures

    def score(self, target: str, group: str, key: str) -> Score | None:
        for s in self.scores:
            if (s.target, s.group, s.key) == (target, group, key):
                return s
        return None

    def decision(self, target: str, intent: str) -> Decision | None:
        for d in self.decisions:
            if (d.target, d.intent) == (target, intent):
                return d
        return None


def case_passes(outcome: CaseOutcome, flaky: str) -> bool:
    """Whether a case counts as passing under a gate's flaky policy."""
    if outcome.stability != "flaky":
        return outcome.stability == "stable_pass"
    if flaky == "pass":
        return True
    if flaky == "majority":
        return outcome.passed * 2 > outcome.samples
    return False


def gate_failures(
    plan: RunPlan,
    target_scores: dict[str, Score],
    decisions: list[Decision],
    outcomes: list[CaseOutcome],
) -> list[str]:
    """Plain-language reasons the run fails its gates (empty: every gate passes)."""
    gates: Gates = plan.suite.gates
    reasons = []
    expected = len(plan.cases) * plan.suite.samples
    for target in plan.suite.targets:
        total = target_scores.get(target.name)
        answers = total.answers if total else 0
        if answers < expected:
            reasons.append(f"target '{target.name}': only {answers} of {expected} answers stored")
        if total is None:
            continue
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
    target_names = [t.name for t in plan.suite.targets]
    for gate in gates.decisions:
        wanted = [gate.target] if gate.target else target_names
        for name in wanted:
            found = [
                d
                for d in decisions
                if d.target == name and (gate.intent == "*" or d.intent == gate.intent)
            ]
            if not found:
                reasons.append(
                    f"target '{name}': no decision for intent '{gate.intent}' "
                    f"(required at least {gate.at_least})"
                )
            for d in found:
                if RANK[d.outcome] < RANK[gate.at_least]:
                    reasons.append(
                        f"target '{name}', intent '{d.intent}': decision is "
                        f"{d.outcome.replace('_', ' ')}, required at least {gate.at_least} "
                        f"({d.reasons[0]})"
                    )
    if gates.cases_must_pass:
        failing = [o for o in outcomes if not case_passes(o, gates.flaky)]
        for o in failing[:20]:
            reasons.append(
                f"case '{o.case_id}' [{o.target}]: {o.passed} of {o.samples} samples passed"
                + (f" (flaky, counted as failing under flaky: {gates.flaky})" if o.passed else "")
            )
        if len(failing) > 20:
            reasons.append(f"... and {len(failing) - 20} more failing cases")
    return reasons


def build_scorecard(run: Run, plan: RunPlan, policy: DecisionPolicy | None = None) -> Scorecard:
    """Score a stored run and decide every (target, intent) under its decision policy."""
    policy = policy or plan_policy(plan)
    cases = {c.id: c for c in plan.cases}
    all_scores, outcomes = scores(run.results, cases)
    decisions = [decide(s, policy) for s in all_scores if s.group == "intent"]
    target_scores = {s.target: s for s in all_scores if s.group == "target"}
    return Scorecard(
        run_id=run.id,
        suite=run.suite,
        status=run.status,
        started=run.started,
        finished=run.finished,
        config_hash=run.config_hash,
        versions=run.versions,
        targets=run.targets,
        samples=plan.suite.samples,
        decision_policy=PolicyRef(
            name=policy.name,
            version=policy.version,
            hash=policy.content_hash(),
            source=policy.source,
        ),
        scores=all_scores,
        decisions=decisions,
        cases=outcomes,
        gate_failures=gate_failures(plan, target_scores, decisions, outcomes),
        failing=[r for r in run.results if not r.passed],
    )
