"""A scored scan's scorecard and reports, from streaming aggregates: memory flat in its answers.

`evals run` scores a run from every answer held in memory (`evals.scorecard`); a scan of a
million transcripts cannot. Here the same scores come from the store in passes that hold no
answer: per-case outcomes and per-score answer counts are SQL aggregates, the findings stream
in result order into the same `Tally` that `evals.scores` uses, so the numbers are the ones
`build_scorecard` would give. What a report lists is bounded: every failing answer up to
`FAILING_SHOWN` (the worst first when there are more), the first `PASSING_SHOWN` passing
answers, and the first `CASES_SHOWN` failing and passing cases; the scorecard says how many are
not listed (every answer stays in the store: `evals show`, the findings file). Below those
bounds the reports are byte for byte what `evals report` writes from the whole run.

The scope's run fingerprint hashes the run and plan JSON as they stream, so `evals approve`
recomputes the same value from the whole run.
"""

from __future__ import annotations

import hashlib
import heapq
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from evals.decision_policy import DecisionPolicy, plan_policy
from evals.decisions import decide
from evals.gates import check_gates
from evals.records import SEVERITIES, CaseResult, RunPlan, Severity
from evals.scorecard import Scorecard, assemble
from evals.scores import CaseOutcome, Group, Tally, score_keys, scores_of, stability
from evals.store import RunStore
from evals.verdict import result_passed

if TYPE_CHECKING:
    from evals.compliance import ChainCheck

#: Failing answers a scan's reports list (the worst first when there are more).
FAILING_SHOWN = 1000
#: Passing answers a scan's HTML report lists for spot checks (the first, in store order).
PASSING_SHOWN = 1000
#: Failing (not stable-pass) cases, and stable-pass cases, the scorecard lists each.
CASES_SHOWN = 1000

_ANSWERS = """
SELECT r.target, COALESCE(c.intent, '?'), COALESCE(c.language, '?'),
       COUNT(*), SUM(r.passed != 0), SUM(r.error IS NOT NULL)
FROM results r LEFT JOIN scan_cases c ON (c.run_id, c.case_id) = (r.run_id, r.case_id)
WHERE r.run_id = ? GROUP BY 1, 2, 3
"""
_OUTCOMES = """
SELECT r.target, r.case_id, COALESCE(c.intent, '?'), COALESCE(c.language, '?'), c.kind, c.risk,
       COUNT(*), SUM(r.passed != 0), SUM(r.error IS NOT NULL)
FROM results r LEFT JOIN scan_cases c ON (c.run_id, c.case_id) = (r.run_id, r.case_id)
WHERE r.run_id = ? GROUP BY r.target, r.case_id ORDER BY r.target, r.case_id
"""
# An advisory finding (an LLM judge's that may not gate) is shown, never scored.
_FINDINGS = """
SELECT f.target, f.case_id, f.sample, f.code, f.severity,
       COALESCE(c.intent, '?'), COALESCE(c.language, '?')
FROM findings f
JOIN results r ON (r.run_id, r.case_id, r.target, r.sample)
                = (f.run_id, f.case_id, f.target, f.sample)
LEFT JOIN scan_cases c ON (c.run_id, c.case_id) = (f.run_id, f.case_id)
WHERE f.run_id = ? AND COALESCE(json_extract(f.evidence, '$.advisory'), 0) = 0
ORDER BY f.target, f.case_id, f.sample, f.position
"""
# What the streaming path does not aggregate: usage figures, which a scan never records.
_USAGE = """
SELECT 1 FROM results WHERE run_id = ? AND error IS NULL AND (
    json_extract(response, '$.latency_ms') IS NOT NULL
    OR json_extract(response, '$.prompt_tokens') IS NOT NULL
    OR json_extract(response, '$.completion_tokens') IS NOT NULL
    OR json_extract(response, '$.cost_usd') IS NOT NULL) LIMIT 1
"""


def streamable(store: RunStore, run_id: str, plan: RunPlan) -> bool:
    """Whether the run is a scored scan this module scores exactly: its cases kept apart, no
    judge, no gate that lists every case, no usage figures (else `build_scorecard` does)."""
    if not store.is_scan(run_id) or plan.suite.gates.cases_must_pass:
        return False
    if store.run(run_id, with_results=False).versions.judge is not None:
        return False
    return store.db.execute(_USAGE, (run_id,)).fetchone() is None


class _Shown:
    """The cases a scorecard lists: the first CASES_SHOWN failing and CASES_SHOWN passing."""

    def __init__(self) -> None:
        self.cases: list[CaseOutcome] = []
        self.kept = {True: 0, False: 0}
        self.hidden = 0

    def add(self, outcome: CaseOutcome) -> None:
        passing = outcome.stability == "stable_pass"
        if self.kept[passing] < CASES_SHOWN:
            self.kept[passing] += 1
            self.cases.append(outcome)
        else:
            self.hidden += 1


def _tallies(store: RunStore, run_id: str) -> tuple[dict[tuple[str, Group, str], Tally], _Shown]:
    tallies: dict[tuple[str, Group, str], Tally] = {}
    for target, intent, language, answers, passed, errors in store.db.execute(_ANSWERS, (run_id,)):
        for key in score_keys(target, intent, language):
            tallies.setdefault(key, Tally()).add_answers(answers, passed, errors)
    answer: tuple[object, ...] | None = None
    found: list[tuple[str, Severity]] = []
    keys: list[tuple[str, Group, str]] = []

    def flush() -> None:
        for key in keys:
            tallies[key].add_findings(found)

    for target, case_id, sample, code, severity, intent, language in store.db.execute(
        _FINDINGS, (run_id,)
    ):
        if (target, case_id, sample) != answer:
            flush()
            answer, found = (target, case_id, sample), []
            keys = score_keys(target, intent, language)
        found.append((code, severity))
    flush()
    shown = _Shown()
    for row in store.db.execute(_OUTCOMES, (run_id,)):
        target, case_id, intent, language, kind, risk, samples, passed, errors = row
        outcome = CaseOutcome(
            target=target,
            case_id=case_id,
            intent=intent,
            language=language,
            samples=samples,
            passed=passed,
            errors=errors,
            stability=stability(passed, samples),
        )
        for key in score_keys(target, intent, language):
            tallies.setdefault(key, Tally()).add_outcome(outcome, kind, risk)
        shown.add(outcome)
    return tallies, shown


def _rank(result: CaseResult) -> tuple[int, int, int]:
    """Errors first, then by worst finding, then most findings (as the markdown report orders
    its worst answers): lower is worse."""
    worst = min((SEVERITIES.index(f.severity) for f in result.findings), default=len(SEVERITIES))
    return (result.response.error is None, worst, -len(result.findings))


class _Answers:
    """One pass over every stored answer: the ones the reports list, and the run fingerprint
    (sha256 of the run's and the plan's JSON, computed as `evals.scope.run_fingerprint` does
    from the whole run, streamed)."""

    def __init__(self, store: RunStore, run_id: str, plan: RunPlan) -> None:
        #: a heap of the failing answers to list, the least bad (then the latest) on top
        self.failing: list[tuple[int, int, int, int, CaseResult]] = []
        self.passing: list[tuple[int, CaseResult]] = []
        self.failing_total = 0
        self.passing_total = 0
        digest = hashlib.sha256()
        header = store.run(run_id, with_results=False).model_dump_json()
        if not header.endswith('"results":[]}'):
            raise AssertionError("the run's JSON no longer ends with its results")
        digest.update(header[: -len("]}")].encode())
        for index, result in enumerate(store.results(run_id)):
            digest.update((b"," if index else b"") + result.model_dump_json().encode())
            self._keep(index, result)
        digest.update(b"]}")
        for chunk in _plan_json(store, run_id, plan):
            digest.update(chunk.encode())
        self.fingerprint = digest.hexdigest()

    def _keep(self, index: int, result: CaseResult) -> None:
        if result_passed(result):
            self.passing_total += 1
            if len(self.passing) < PASSING_SHOWN:
                self.passing.append((index, result))
            return
        self.failing_total += 1
        rank = _rank(result)
        heapq.heappush(self.failing, (-rank[0], -rank[1], -rank[2], -index, result))
        if len(self.failing) > FAILING_SHOWN:
            heapq.heappop(self.failing)  # the least bad, latest

    def shown(self) -> tuple[list[CaseResult], list[CaseResult]]:
        """(every listed answer, the listed failing ones), each in store order."""
        failing = sorted(((-i, r) for *_, i, r in self.failing), key=lambda x: x[0])
        both = sorted(failing + self.passing, key=lambda x: x[0])
        return [r for _, r in both], [r for _, r in failing]


def _plan_json(store: RunStore, run_id: str, plan: RunPlan) -> Iterator[str]:
    """The JSON of the run's whole plan (its cases read into it, as `RunStore.plan` does),
    in pieces: the plan without cases around the stored cases' JSON."""
    text = plan.model_dump_json()
    start = '{"suite":' + plan.suite.model_dump_json() + ',"suite_path":'
    marker = '"cases":[]'
    at = text.find(marker, len(start))
    if not text.startswith(start) or at < 0 or plan.cases:
        raise AssertionError("a scan's plan must hold no cases: they are kept apart")
    yield text[: at + len(marker) - 1]
    for index, body in enumerate(store.scan_case_bodies(run_id)):
        yield ("," if index else "") + body
    yield text[at + len(marker) - 1 :]


def scan_scorecard(
    store: RunStore, run_id: str, plan: RunPlan, policy: DecisionPolicy | None = None
) -> tuple[Scorecard, list[CaseResult], str]:
    """The scorecard of a scored scan (`plan` without its cases), the answers its reports
    list, and the run fingerprint of its scope."""
    policy = policy or plan_policy(plan)
    run = store.run(run_id, with_results=False)
    tallies, cases = _tallies(store, run_id)
    answers = _Answers(store, run_id, plan)
    listed, failing = answers.shown()
    all_scores = scores_of(tallies)
    decisions = [decide(s, policy) for s in all_scores if s.group == "intent"]
    target_scores = {s.target: s for s in all_scores if s.group == "target"}
    gates = check_gates(plan, target_scores, decisions, [])
    card = assemble(
        run,
        plan,
        policy,
        scores=all_scores,
        decisions=decisions,
        cases=cases.cases,
        gates=gates,
        failing=failing,
        cases_not_listed=cases.hidden,
        failing_not_listed=answers.failing_total - len(failing),
        passing_not_listed=answers.passing_total - len(answers.passing),
    )
    return card, listed, answers.fingerprint


def report_plan(
    store: RunStore, run_id: str, plan: RunPlan, card: Scorecard, listed: list[CaseResult]
) -> RunPlan:
    """The plan the reports are rendered with: holding the cases they list, in plan order."""
    from evals.records import Case

    ids = {o.case_id for o in card.cases} | {r.case_id for r in listed}
    cases = [Case.model_validate_json(body) for body in store.scan_case_bodies(run_id, ids)]
    return plan.model_copy(update={"cases": cases})


def publish_scan(
    store: RunStore,
    run_id: str,
    plan: RunPlan,
    folder: Path,
    policy: DecisionPolicy | None,
    chain: ChainCheck | None = None,
) -> tuple[Scorecard, list[Path]]:
    """Write a scored scan's reports, scope and manifest into `folder` (after the caller has
    checked the run may be published): what `evals.publish.publish` writes for a run."""
    from evals.compliance import write_manifest
    from evals.scope import build_scope, write_scope
    from reports import write_reports

    card, listed, fingerprint = scan_scorecard(store, run_id, plan, policy)
    files = write_reports(card, report_plan(store, run_id, plan, card, listed), folder, listed)
    files.append(write_scope(build_scope(card, fingerprint), folder))
    files.append(write_manifest(store, run_id, plan, card, folder, files, policy, chain))
    return card, files
