"""The automation scope: which intent each target may handle, and a product owner's approval.

`evals run` writes `scope.yaml` beside the reports: every (target, intent) with its decision,
the run it came from (id and a fingerprint of everything stored for it), the decision policy's
version and hash, and an evidence summary. `evals approve SCOPE --by NAME --note ...` records an
approval in the run store, but only if the scope still says what the run says: the run's
fingerprint, the decision policy (as stored with the run and as the file reads now) and every
decision are checked again, so an edited scope, a changed run or a changed policy is refused.
So is a run whose evidence does not verify (its hash chain, the manifest beside the scope),
one whose gates failed, a target or intent whose every answer errored (nothing was
measured), and a run whose policy books, cases or targets no longer read as the suite's files
on disk do (`evals.input_drift`): an approval covers what production will actually use.

Baselines are never in a scope: `reference` (answers written to pass) and any target the suite
marks `baseline: true` are scored and decided for comparison, not offered for approval. A scope
that would automate or assist nothing (every intent insufficient evidence) is approved only
when the approver confirms it (`--yes`): approving it changes nothing in production, which is
rarely what was meant.
"""

from __future__ import annotations

import hashlib
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import yaml
from pydantic import Field, ValidationError

from evals.compliance import MANIFEST_NAME, verify
from evals.decision_policy import Outcome, load_decision_policy, plan_policy, resolve_label
from evals.errors import InputError, issues_from_validation
from evals.input_drift import input_drift
from evals.records import Record, Run, RunPlan
from evals.scorecard import Scorecard, build_scorecard
from evals.store import RunStore
from evals.yaml_lines import load_yaml

APPROVALS_SCHEMA = """
CREATE TABLE IF NOT EXISTS approvals (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id TEXT NOT NULL,
    scope_sha256 TEXT NOT NULL,
    run_fingerprint TEXT NOT NULL,
    policy_hash TEXT NOT NULL,
    approved_by TEXT NOT NULL,
    note TEXT NOT NULL,
    approved_at TEXT NOT NULL,
    scope TEXT NOT NULL
);
"""


class EvidenceSummary(Record):
    answers: int
    passed: int
    pass_rate: float
    interval: tuple[float, float] = Field(description="95% Wilson interval of the pass rate")
    cases: int
    pass_k: float
    k: int
    flaky_cases: int
    critical_answers: int


class ScopeEntry(Record):
    intent: str
    decision: Outcome
    risk: str
    evidence: EvidenceSummary
    reasons: list[str]


class TargetScope(Record):
    target: str
    model: str
    intents: list[ScopeEntry]


class PolicySummary(Record):
    name: str
    version: str
    hash: str
    source: str


class Scope(Record):
    schema_version: Literal[1] = 1
    run_id: str
    suite: str
    run_fingerprint: str = Field(description="sha256 of the run as stored (header and results)")
    decision_policy: PolicySummary
    generated: datetime
    targets: list[TargetScope]


class Approval(Record):
    run_id: str
    scope_sha256: str
    run_fingerprint: str
    policy_hash: str
    policy_name: str = Field(
        default="", description="the decision policy's name@version, as the scope states it"
    )
    approved_by: str = Field(min_length=1)
    note: str
    approved_at: datetime


class NeedsConfirmation(Exception):
    """The scope may be approved, but only if the approver confirms (`--yes`)."""

    def __init__(self, reasons: list[str]) -> None:
        self.reasons = reasons
        super().__init__("; ".join(reasons))


class ScopeRefused(Exception):
    """The scope may not be approved; `problems` says why, one reason each."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


def run_fingerprint(run: Run, plan: RunPlan) -> str:
    """sha256 over the stored run: header, plan and every result with its findings."""
    digest = hashlib.sha256(run.model_dump_json().encode("utf-8"))
    digest.update(plan.model_dump_json().encode("utf-8"))
    return digest.hexdigest()


def build_scope(card: Scorecard, fingerprint: str) -> Scope:
    targets = []
    for target in card.targets:
        if target.is_baseline:
            continue
        entries = []
        for d in [d for d in card.decisions if d.target == target.name]:
            s = card.score(target.name, "intent", d.intent)
            assert s is not None  # every decision comes from a score
            entries.append(
                ScopeEntry(
                    intent=d.intent,
                    decision=d.outcome,
                    risk=d.risk,
                    evidence=EvidenceSummary(
                        answers=s.answers,
                        passed=s.passed,
                        pass_rate=round(s.pass_rate, 4),
                        interval=(round(s.pass_rate_ci.low, 4), round(s.pass_rate_ci.high, 4)),
                        cases=s.cases,
                        pass_k=round(s.pass_k, 4),
                        k=s.k,
                        flaky_cases=s.flaky,
                        critical_answers=s.critical_answers,
                    ),
                    reasons=d.reasons,
                )
            )
        targets.append(TargetScope(target=target.name, model=target.model, intents=entries))
    policy = card.decision_policy
    return Scope(
        run_id=card.run_id,
        suite=card.suite,
        run_fingerprint=fingerprint,
        decision_policy=PolicySummary(
            name=policy.name, version=policy.version, hash=policy.hash, source=policy.source
        ),
        generated=datetime.now(UTC),
        targets=targets,
    )


def write_scope(scope: Scope, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "scope.yaml"
    header = (
        f"# Automation scope of run {scope.run_id} (suite {scope.suite}).\n"
        "# Approve it with: evals approve <this file> --by 'Your Name' --note '...'\n"
        "# Any edit to the decisions makes the approval fail. Baselines (reference answers,\n"
        "# targets marked `baseline: true`) are decided in the reports but never listed here.\n"
    )
    body = yaml.safe_dump(
        scope.model_dump(mode="json"), sort_keys=False, allow_unicode=True, width=100
    )
    path.write_text(header + body, encoding="utf-8")
    return path


def load_scope(path: Path) -> Scope:
    if not path.is_file():
        raise InputError.single(path, "scope file not found")
    data, lines = load_yaml(path)
    if not isinstance(data, dict):
        raise InputError.single(path, "a scope file must be a mapping")
    try:
        return Scope.model_validate(data)
    except ValidationError as exc:
        raise InputError(issues_from_validation(exc, file=path, line_of=lines)) from None


def _decisions(scope: Scope) -> dict[tuple[str, str], str]:
    return {(t.target, e.intent): e.decision for t in scope.targets for e in t.intents}


def check_scope(
    scope: Scope, store: RunStore, suite: Path | None = None
) -> tuple[RunPlan, list[str]]:
    """Everything that no longer matches between a scope and its run and policy. The run's
    inputs are compared with its suite's files where the run found them, or with `suite` (the
    same suite checked out elsewhere, e.g. after a CI run's folder was downloaded)."""
    plan = store.plan(scope.run_id)
    on_disk = plan.model_copy(update={"suite_path": str(suite.resolve())}) if suite else plan
    run = store.run(scope.run_id)
    problems = []
    if run.status != "finished":
        problems.append(f"run {run.id} is {run.status}, not finished")
    if run_fingerprint(run, plan) != scope.run_fingerprint:
        problems.append(f"run {run.id} changed since the scope was written (fingerprint differs)")
    # The scope may have been decided under the run's own policy or re-decided under another
    # (`evals report --decision-policy`); either way that policy must read today as it did.
    policy = plan_policy(plan)
    source = resolve_label(scope.decision_policy.source, on_disk.suite_path)
    if source is not None:
        try:
            current = load_decision_policy(source)
        except InputError as exc:
            problems.append(f"the decision policy file no longer loads: {exc}")
        else:
            if current.content_hash() != scope.decision_policy.hash:
                problems.append(
                    f"the decision policy file {source} changed since the scope was written "
                    f"(hash {current.content_hash()}, scope says {scope.decision_policy.hash})"
                )
            elif policy.content_hash() != scope.decision_policy.hash:
                policy = current
    if policy.content_hash() != scope.decision_policy.hash and not problems:
        problems.append(
            f"the decision policy the scope names (hash {scope.decision_policy.hash}) is neither "
            f"the run's (hash {policy.content_hash()}) nor readable from "
            f"{scope.decision_policy.source or 'its source'}"
        )
    card = build_scorecard(run, plan, policy)
    baselines = {t.name for t in plan.suite.targets if t.is_baseline}
    actual = {(d.target, d.intent): d.outcome for d in card.decisions if d.target not in baselines}
    claimed = _decisions(scope)
    for target in sorted({t for t, _ in claimed} & baselines):
        problems.append(
            f"target '{target}' is a baseline (reference answers, or `baseline: true` in the "
            "suite): it is compared with, never approved, so it cannot be in a scope"
        )
    claimed = {k: v for k, v in claimed.items() if k[0] not in baselines}
    for key in sorted(set(actual) | set(claimed)):
        if actual.get(key) != claimed.get(key):
            problems.append(
                f"target '{key[0]}', intent '{key[1]}': the scope says "
                f"{claimed.get(key, 'nothing')}, the run decides {actual.get(key, 'nothing')}"
            )
    if card.gate_failures:
        shown = "; ".join(card.gate_failures[:5])
        more = f" (and {len(card.gate_failures) - 5} more)" if len(card.gate_failures) > 5 else ""
        problems.append(f"run {run.id} failed its gates: {shown}{more}")
    problems += _undecided(run, plan)
    problems += input_drift(on_disk)
    return plan, problems


def _undecided(run: Run, plan: RunPlan) -> list[str]:
    """(target, intent) pairs whose every answer errored: nothing was measured, so whatever
    decision the scope shows for them (or the lack of one) cannot be approved."""
    intents = {c.id: c.intent for c in plan.cases}
    answers: dict[tuple[str, str], list[str | None]] = {}
    for r in run.results:
        answers.setdefault((r.target, intents.get(r.case_id, "?")), []).append(r.response.error)
    problems = []
    for target in plan.suite.targets:
        if target.is_baseline:
            continue
        mine = {k: v for k, v in answers.items() if k[0] == target.name}
        if not mine:
            problems.append(f"target '{target.name}' has no decision: it has no answers")
            continue
        if all(e is not None for errors in mine.values() for e in errors):
            total = sum(len(v) for v in mine.values())
            first = next(e for errors in mine.values() for e in errors)
            problems.append(
                f"target '{target.name}' has no decision: all {total} of its answers errored "
                f"(first: {first})"
            )
            continue
        for (_, intent), errors in sorted(mine.items()):
            if all(e is not None for e in errors):
                problems.append(
                    f"target '{target.name}', intent '{intent}' has no decision: all "
                    f"{len(errors)} of its answers errored (first: {errors[0]})"
                )
    return problems


def _db(store: RunStore) -> sqlite3.Connection:
    store.db.executescript(APPROVALS_SCHEMA)
    return store.db


def summary(scope: Scope, plan: RunPlan | None = None) -> list[str]:
    """What approving the scope means, in lines a product owner reads before saying yes: the
    run, the decision policy, and each target's intents grouped by decision."""
    policy = scope.decision_policy
    lines = [
        f"run {scope.run_id} (suite {scope.suite}), decided under decision policy "
        f"{policy.name}@{policy.version} (hash {policy.hash})"
    ]
    for target in scope.targets:
        lines.append(f"target '{target.target}' ({target.model}):")
        for outcome in ("automate", "assist", "human", "insufficient_evidence"):
            intents = [e.intent for e in target.intents if e.decision == outcome]
            if intents:
                label = outcome.replace("_", " ")
                lines.append(f"  {label} ({len(intents)}): {', '.join(intents)}")
    if not scope.targets:
        lines.append("no target to approve")
    if plan is not None:
        baselines = [t.name for t in plan.suite.targets if t.is_baseline]
        if baselines:
            lines.append(f"not in the scope (baselines): {', '.join(baselines)}")
    return lines


def confirmations(scope: Scope) -> list[str]:
    """Why approving this scope needs the approver's explicit confirmation (empty: none)."""
    entries = [e for t in scope.targets for e in t.intents]
    if entries and all(e.decision == "insufficient_evidence" for e in entries):
        return [
            f"every one of the {len(entries)} intents in the scope is insufficient evidence: "
            "approving it lets the model handle nothing on its own or as a draft"
        ]
    return []


def approve(
    scope_path: Path,
    store: RunStore,
    *,
    by: str,
    note: str,
    confirmed: bool = False,
    suite: Path | None = None,
) -> Approval:
    """Record a product owner's approval of a scope, or raise ScopeRefused saying why not, or
    NeedsConfirmation when it would be recorded only with the approver's confirmation."""
    if not by.strip():
        raise InputError.single(scope_path, "--by must name the person approving")
    scope = load_scope(scope_path)
    if suite is not None and not suite.is_file():
        raise InputError.single(suite, "--suite: no such suite file")
    _, problems = check_scope(scope, store, suite)
    if not scope.targets:
        problems.append("the scope lists no target: every target of the run is a baseline")
    # The run's evidence must hold: its hash chain, and the manifest written beside the scope.
    manifest = scope_path.parent / MANIFEST_NAME
    evidence = verify(store, scope.run_id, manifest if manifest.is_file() else None)
    if evidence.status == "tampered":
        problems += [f"the run's evidence does not verify: {p}" for p in evidence.problems]
    if problems:
        raise ScopeRefused(problems)
    reasons = confirmations(scope)
    if reasons and not confirmed:
        raise NeedsConfirmation(reasons)
    raw = scope_path.read_bytes()
    approval = Approval(
        run_id=scope.run_id,
        scope_sha256=hashlib.sha256(raw).hexdigest(),
        run_fingerprint=scope.run_fingerprint,
        policy_hash=scope.decision_policy.hash,
        policy_name=_policy_name(scope),
        approved_by=by.strip(),
        note=note,
        approved_at=datetime.now(UTC),
    )
    db = _db(store)
    with db:
        db.execute(
            "INSERT INTO approvals (run_id, scope_sha256, run_fingerprint, policy_hash, "
            "approved_by, note, approved_at, scope) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                approval.run_id,
                approval.scope_sha256,
                approval.run_fingerprint,
                approval.policy_hash,
                approval.approved_by,
                approval.note,
                approval.approved_at.isoformat(),
                raw.decode("utf-8"),
            ),
        )
    return approval


def _policy_name(scope: Scope) -> str:
    return f"{scope.decision_policy.name}@{scope.decision_policy.version}"


def _stored_policy_name(scope_text: str) -> str:
    """The policy name@version of an approved scope, read back from its stored text."""
    try:
        data = yaml.safe_load(scope_text)
        policy = data["decision_policy"]
        return f"{policy['name']}@{policy['version']}"
    except (yaml.YAMLError, TypeError, KeyError):
        return "?"


def approvals(store: RunStore, run_id: str | None = None) -> list[Approval]:
    db = _db(store)
    query = (
        "SELECT run_id, scope_sha256, run_fingerprint, policy_hash, approved_by, note, "
        "approved_at, scope FROM approvals"
    )
    rows = (
        db.execute(query + " WHERE run_id = ? ORDER BY id", (run_id,))
        if run_id
        else db.execute(query + " ORDER BY id")
    )
    return [
        Approval(
            run_id=r[0],
            scope_sha256=r[1],
            run_fingerprint=r[2],
            policy_hash=r[3],
            approved_by=r[4],
            note=r[5],
            approved_at=datetime.fromisoformat(r[6]),
            policy_name=_stored_policy_name(r[7]),
        )
        for r in rows
    ]
