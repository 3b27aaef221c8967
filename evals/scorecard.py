"""The scorecard of a run: scores, decisions, case stability and gates, in one versioned record.

Every report (terminal, markdown, HTML, JSON, JUnit), the automation scope and the pytest plugin
render this one record, so they cannot disagree.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import Field, model_validator

from evals.decision_policy import DecisionPolicy, plan_policy, source_label
from evals.decisions import Decision, decide
from evals.gates import GateOutcome, check_gates
from evals.judge.status import JudgeStatus
from evals.judge.summary import JudgeSummary, judge_summary
from evals.records import CaseResult, Record, Run, RunPlan, Target, Versions
from evals.scores import CaseOutcome, Score, scores
from evals.verdict import result_passed

#: Version of the scorecard's JSON; bump on any change an older reader could misread.
#: 2: `gates` (every gate checked, with status and reason) and `gates.max_critical`.
#: 3: `decisions[].reach` (passing cases to reach each higher level); `more_cases_needed` and
#: `more_answers_needed` now count passing cases (and their answers) to the next level up.
SCORECARD_VERSION = 3


class PolicyRef(Record):
    name: str
    version: str
    hash: str
    source: str = Field(
        description="where the policy came from: `bundled`, or its file relative to the suite"
    )

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
    gates: GateOutcome = Field(description="every gate checked, passed, failed or off, and why")
    gate_failures: list[str] = Field(
        description="the reasons of the failed checks in `gates` (empty: the run passes)"
    )
    failing: list[CaseResult] = Field(description="answers that did not pass, with findings")
    failing_not_listed: int = Field(
        default=0,
        ge=0,
        description="failing answers not in `failing` (a large scan lists the worst; every "
        "answer is in the run store)",
        exclude_if=lambda value: value == 0,
    )
    passing_not_listed: int = Field(
        default=0,
        ge=0,
        description="passing answers a large scan's HTML report does not list",
        exclude_if=lambda value: value == 0,
    )
    cases_not_listed: int = Field(
        default=0,
        ge=0,
        description="cases not in `cases` (a large scan lists the first failing and passing)",
        exclude_if=lambda value: value == 0,
    )
    judge: JudgeSummary | None = Field(
        default=None,
        description="the LLM judge: status, calibration, cost, advisory findings (absent: none)",
        exclude_if=lambda value: value is None,
    )

    @model_validator(mode="after")
    def _one_gate_verdict(self) -> Scorecard:
        if self.gate_failures != self.gates.failures:
            raise ValueError("gate_failures must list the reasons of the failed gate checks")
        return self

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


def build_scorecard(run: Run, plan: RunPlan, policy: DecisionPolicy | None = None) -> Scorecard:
    """Score a stored run and decide every (target, intent) under its decision policy."""
    policy = policy or plan_policy(plan)
    cases = {c.id: c for c in plan.cases}
    all_scores, outcomes = scores(run.results, cases)
    decisions = [decide(s, policy) for s in all_scores if s.group == "intent"]
    target_scores = {s.target: s for s in all_scores if s.group == "target"}
    gates = check_gates(plan, target_scores, decisions, outcomes)
    return assemble(
        run,
        plan,
        policy,
        scores=all_scores,
        decisions=decisions,
        cases=outcomes,
        gates=gates,
        failing=[r for r in run.results if not result_passed(r)],
        judge=_judge(run),
    )


def assemble(
    run: Run,
    plan: RunPlan,
    policy: DecisionPolicy,
    *,
    scores: list[Score],
    decisions: list[Decision],
    cases: list[CaseOutcome],
    gates: GateOutcome,
    failing: list[CaseResult],
    judge: JudgeSummary | None = None,
    cases_not_listed: int = 0,
    failing_not_listed: int = 0,
    passing_not_listed: int = 0,
) -> Scorecard:
    """A scorecard of a stored run from what was computed of it (by `build_scorecard` from the
    whole run, or by a scored scan from streaming aggregates)."""
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
            source=source_label(policy.source, plan.suite_path),
        ),
        scores=scores,
        decisions=decisions,
        cases=cases,
        gates=gates,
        gate_failures=gates.failures,
        failing=failing,
        judge=judge,
        cases_not_listed=cases_not_listed,
        failing_not_listed=failing_not_listed,
        passing_not_listed=passing_not_listed,
    )


def _judge(run: Run) -> JudgeSummary | None:
    if run.versions.judge is None:
        return None
    return judge_summary(JudgeStatus.model_validate(run.versions.judge), run.results)
