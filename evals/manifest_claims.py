"""The manifest's claims that `verify` recomputes rather than compares with the store: the
decision policy the run was decided under, whether its gates passed, what the chain said when
the manifest was written, and who wrote it when.

`evals.compliance` compares the sections the store holds (versions, policy books, cases,
targets, run, chain) and the report files; this module covers the rest, so an edit to any
field of a manifest is named. A manifest of schema 2 carries the decision policy's content,
so its hash and the gates are recomputed from the manifest and the store alone, also for a
run re-decided under another policy (`evals report --decision-policy`).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pydantic import ValidationError

import evals
from evals.decision_policy import (
    DecisionPolicy,
    labelled,
    load_decision_policy,
    plan_policy,
    resolve_label,
    source_label,
)
from evals.errors import InputError
from evals.manifest import (
    DISTRIBUTION,
    MANIFEST_VERSION,
    DecisionPolicyEntry,
    Manifest,
    body_sha256,
)
from evals.records import Run, RunPlan
from evals.scorecard import build_scorecard
from evals.store import RunHeader

Found = tuple[list[str], list[str]]  # (problems, notes)


def _ident(policy: DecisionPolicy) -> str:
    return f"{policy.name}@{policy.version}#{policy.content_hash()}"


def _carried_policy(entry: DecisionPolicyEntry) -> tuple[DecisionPolicy | None, list[str]]:
    assert entry.policy is not None
    try:
        policy = DecisionPolicy.model_validate(entry.policy)
    except ValidationError as exc:
        return None, [
            "the manifest's decision_policy.policy no longer reads as a decision policy "
            f"(edited?): {exc.errors()[0]['msg']}"
        ]
    if policy.content_hash() != entry.hash:
        return policy, [
            f"decision_policy.hash {entry.hash} is not the hash of the decision policy the "
            f"manifest carries ({policy.content_hash()}): one of them was edited"
        ]
    return policy, []


def _named_policy(
    entry: DecisionPolicyEntry, own: DecisionPolicy, suite_path: str
) -> DecisionPolicy | None:
    """A schema-1 manifest names its policy only: the run's own, or the file it came from."""
    if entry.hash == own.content_hash():
        return own
    source = resolve_label(entry.source, suite_path)
    if source is not None:
        try:
            loaded = load_decision_policy(source)
        except InputError:
            return None
        if loaded.content_hash() == entry.hash:
            return labelled(loaded, suite_path)
    return None


def decision_policy(
    entry: DecisionPolicyEntry, plan: RunPlan
) -> tuple[DecisionPolicy | None, Found]:
    """The policy the manifest says the run was decided under, and what does not add up."""
    own = labelled(plan_policy(plan), plan.suite_path)
    problems: list[str] = []
    notes: list[str] = []
    if entry.policy is not None:
        policy, problems = _carried_policy(entry)
    else:
        policy = _named_policy(entry, own, plan.suite_path)
        if policy is None:
            return None, (
                [
                    f"the manifest names decision policy hash {entry.hash}, which is neither the "
                    f"run's ({own.content_hash()}) nor what {entry.source or 'its source'} holds, "
                    "and (schema 1) does not carry it: decision_policy and gates_passed cannot "
                    "be confirmed"
                ],
                notes,
            )
    if policy is None:
        return None, (problems, notes)
    for field in ("name", "version", "source"):
        said, actual = getattr(entry, field), getattr(policy, field)
        if field == "source":  # manifests written before sources became labels held paths
            said, actual = (source_label(x, plan.suite_path) for x in (said, actual))
        if said != actual:
            problems.append(
                f"decision_policy.{field} was changed since the manifest was written (manifest "
                f"'{said}', the policy it was decided under says '{actual}')"
            )
    if policy.content_hash() != own.content_hash():
        notes.append(
            f"decided under decision policy {_ident(policy)}, not the run's own {_ident(own)} "
            "(re-decided with `evals report --decision-policy`)"
        )
    return policy, (problems, notes)


def gates(manifest: Manifest, run: Run, plan: RunPlan, policy: DecisionPolicy) -> list[str]:
    """gates_passed, recomputed from the stored results under the manifest's policy."""
    card = build_scorecard(run, plan, policy)
    if card.passed == manifest.gates_passed:
        return []
    said = "passed" if manifest.gates_passed else "failed"
    now = "passes" if card.passed else "fails: " + "; ".join(card.gate_failures[:3])
    problem = (
        f"gates_passed was changed since the manifest was written: it says the gates {said}, "
        f"the stored run under decision policy {_ident(policy)} {now}"
    )
    if manifest.written_by.version != evals.__version__:
        problem += (
            f" (the manifest was written by supportgate {manifest.written_by.version}, this is "
            f"{evals.__version__}: if the gate rules changed between them, write the reports "
            "again with `evals report --force`)"
        )
    return [problem]


def bookkeeping(manifest: Manifest, header: RunHeader, chain_now: str) -> Found:
    """body_sha256, schema_version, written, written_by and chain_at_write."""
    problems: list[str] = []
    notes: list[str] = []
    carries = manifest.decision_policy.policy is not None or manifest.body_sha256 is not None
    if manifest.schema_version < 1 or (manifest.schema_version < 2 and carries):
        problems.append(
            f"schema_version {manifest.schema_version} was edited: a manifest of that schema "
            "carries neither the decision policy nor body_sha256"
        )
    elif manifest.schema_version < MANIFEST_VERSION:
        notes.append(
            f"manifest schema {manifest.schema_version}: written before manifests carried the "
            "decision policy's content and a hash of their body"
        )
    elif manifest.body_sha256 is None:
        problems.append("body_sha256 was removed from the manifest")
    if manifest.body_sha256 is not None and manifest.body_sha256 != body_sha256(manifest):
        problems.append(
            "the manifest was edited after it was written: its fields no longer hash to its "
            f"body_sha256 ({manifest.body_sha256[:16]}…, now {body_sha256(manifest)[:16]}…)"
        )
    if manifest.written_by.name != DISTRIBUTION:
        problems.append(
            f"written_by.name was changed: '{manifest.written_by.name}', not '{DISTRIBUTION}'"
        )
    try:
        written = datetime.fromisoformat(manifest.written)
        started = datetime.fromisoformat(header.started)
    except ValueError:
        problems.append(f"written ('{manifest.written}') is not a time: the manifest was edited")
    else:
        written = written if written.tzinfo else written.replace(tzinfo=UTC)
        started = started if started.tzinfo else started.replace(tzinfo=UTC)
        if written < started.replace(microsecond=0):
            problems.append(
                f"written ({manifest.written}) is before the run started ({header.started}): "
                "the manifest was edited"
            )
        elif written > datetime.now(UTC) + timedelta(days=1):
            problems.append(f"written ({manifest.written}) is in the future: edited")
    # What the chain said when the manifest was written can only be what it says now, unless
    # the store was edited since (which the chain check reports on its own).
    if chain_now != "tampered" and manifest.chain_at_write != chain_now:
        problems.append(
            f"chain_at_write was changed: the manifest says '{manifest.chain_at_write}', the "
            f"run's chain verifies as '{chain_now}'"
        )
    return problems, notes
