"""The compliance evidence bundle: a manifest of everything that produced a run, and `verify`.

The run store chains every result to the one before it (see `evals.store`), so an edit inside
the store breaks the chain. The store alone cannot catch an editor who recomputes the whole
chain, or who removes the last results and the head with them; the manifest can. Written
beside the reports when a run ends, it records the versions and content hashes of the package,
guardrails, policy books, cases, decision policy and targets (model strings and parameters, the
NAME of the API key variable at most, never a key), the run header's hash, the number of
results and the chain head, and the sha256 of every report file. Archive it (or its sha256,
which `verify` prints) somewhere the store's editors cannot reach, and `verify` names what
changed since.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import evals
from evals.compliance_chain import ChainCheck, ChainWalk, check_chain
from evals.compliance_evidence import (
    cases_entry,
    file_sha256,
    plugin_entries,
    store_evidence,
    stored_inputs,
)
from evals.compliance_verify import store_differences, verify, verify_chain
from evals.decision_policy import DecisionPolicy, labelled, plan_policy
from evals.errors import InputError
from evals.manifest import (
    DISTRIBUTION,
    MANIFEST_NAME,
    DecisionPolicyEntry,
    FileEntry,
    Manifest,
    Package,
    VerifyReport,
    body_sha256,
    read_manifest,
)
from evals.records import RunPlan
from evals.scorecard import Scorecard
from evals.store import RunStore

__all__ = [
    "MANIFEST_NAME",
    "ChainCheck",
    "ChainWalk",
    "Manifest",
    "RunTampered",
    "VerifyReport",
    "plugin_entries",
    "read_manifest",
    "store_differences",
    "verify",
    "verify_chain",
    "write_manifest",
]


class RunTampered(Exception):
    """A run whose hash chain fails verification, or that no longer matches the manifest about
    to be replaced: nothing may be published from it."""

    def __init__(self, report: VerifyReport) -> None:
        self.report = report
        super().__init__(
            f"run {report.run_id} fails verification ({len(report.problems)} problem(s)): "
            + "; ".join(report.problems[:5])
        )


# --- the manifest --------------------------------------------------------------------------


def _file_entry(path: Path, folder: Path) -> FileEntry:
    if not path.is_file():
        raise InputError.single(path, "report file not found; it cannot be listed in the manifest")
    resolved, base = path.resolve(), folder.resolve()
    shown = (
        resolved.relative_to(base).as_posix() if resolved.is_relative_to(base) else str(resolved)
    )
    return FileEntry(path=shown, sha256=file_sha256(path), size=path.stat().st_size)


def write_manifest(
    store: RunStore,
    run_id: str,
    plan: RunPlan,
    scorecard: Scorecard,
    folder: Path,
    files: list[Path],
    decided: DecisionPolicy | None = None,
    chain: ChainCheck | None = None,
) -> Path:
    """Write `folder/manifest.json` for a run and the report files already written for it.

    `plan` is the plan the run was made with (the store keeps the same); `files` are listed as
    given, so the manifest never depends on which reports exist. `decided` is the decision
    policy the scorecard was decided under (default: the run's own); the manifest carries it.
    """
    header = store.run_header(run_id)
    versions, _, problems = stored_inputs(store, header)
    if versions is None:
        raise InputError.single(store.path, "; ".join(problems), record=run_id, field="versions")
    if chain is None:
        found = check_chain(header, store.iter_chain_links(run_id), plan)
        chain = ChainCheck(found[0], found[3])
    chain_status, walk = chain.status, chain.walk
    evidence = store_evidence(
        header, versions, plan, walk, cases_entry(store, run_id, plan, versions)
    )
    # its source as a label (`bundled`, a path in the suite's folder), never a machine path
    policy = labelled(decided or plan_policy(plan), plan.suite_path)
    if policy.content_hash() != scorecard.decision_policy.hash:
        raise ValueError("the scorecard was decided under another policy than the one given")
    manifest = Manifest(
        written=datetime.now(UTC).isoformat(timespec="seconds"),
        written_by=Package(name=DISTRIBUTION, version=evals.__version__),
        **dict(evidence),
        decision_policy=DecisionPolicyEntry(
            name=policy.name,
            version=policy.version,
            hash=policy.content_hash(),
            source=policy.source,
            policy=policy.model_dump(mode="json"),
        ),
        chain_at_write=chain_status,
        gates_passed=scorecard.passed,
        files=[_file_entry(path, folder) for path in files],
    )
    manifest = manifest.model_copy(update={"body_sha256": body_sha256(manifest)})
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / MANIFEST_NAME
    partial = path.with_suffix(".json.partial")
    partial.write_text(manifest.model_dump_json(indent=2) + "\n", encoding="utf-8")
    partial.replace(path)  # a reader never sees half a manifest
    return path
