"""After a run: score it, decide, and write every report, the automation scope and (last) the
compliance manifest into `<store folder>/reports/<run id>/` (`evals verify` checks them), then
the store's run index, `<store folder>/index.html` (`reports.run_index`).

One function serves `evals run`, `evals run --resume`, `evals report` and the pytest plugin, so
they write the same files from the same scorecard. Reports go beside the store they were built
from (the `--out` the command was given), never into the folder recorded when the run was first
made: a copy of a store rebuilds its reports in the copy, and the original's evidence stays as it
was. A run whose hash chain no longer verifies is refused (reports rebuilt from altered results
would vouch for them), and an existing manifest is replaced only when asked (`force`) and only
while the store still matches it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from evals.compliance import (
    MANIFEST_NAME,
    ChainCheck,
    RunTampered,
    store_differences,
    verify_chain,
    write_manifest,
)
from evals.decision_policy import DecisionPolicy
from evals.errors import InputError
from evals.scope import build_scope, run_fingerprint, write_scope
from evals.scorecard import Scorecard, build_scorecard
from evals.store import RunStore


@dataclass(frozen=True)
class Published:
    card: Scorecard
    folder: Path
    files: list[Path]


def report_folder(store: RunStore, run_id: str) -> Path:
    """Where a run's reports go by default: beside the store they are built from."""
    return store.path.parent / "reports" / run_id


def check_publishable(
    store: RunStore, run_id: str, folder: Path, *, force: bool, existing_checked: bool = False
) -> ChainCheck:
    """Raise RunTampered if the run's hash chain fails verification, InputError if `folder`
    already holds a manifest and `force` is not set, RunTampered if it is set but the store no
    longer matches that manifest (replacing it would destroy the evidence of the edit), unless
    the caller checked that already (`existing_checked`: before a resume appended results).
    Cheap enough to call before a resume. Returns the chain check, which the manifest records."""
    chain, check = verify_chain(store, run_id)
    if chain.status == "tampered":
        raise RunTampered(chain)
    manifest = folder / MANIFEST_NAME
    if not manifest.exists():
        return check
    if not force:
        raise InputError.single(
            manifest,
            "a manifest already exists here and is never replaced without --force "
            "(check it first with `evals verify`, or write elsewhere with --to DIR)",
        )
    if existing_checked:
        return check
    differences = store_differences(store, run_id, manifest)
    if differences:
        raise RunTampered(
            chain.model_copy(
                update={
                    "status": "tampered",
                    "problems": [
                        f"the store no longer matches {manifest}, which --force would replace: "
                        + problem
                        for problem in differences
                    ],
                }
            )
        )
    return check


def publish(
    store: RunStore,
    run_id: str,
    *,
    policy: DecisionPolicy | None = None,
    folder: Path | None = None,
    force: bool = False,
    existing_checked: bool = False,
) -> Published:
    from reports import write_reports
    from reports.run_index import write_index

    folder = folder or report_folder(store, run_id)
    checked = check_publishable(
        store, run_id, folder, force=force, existing_checked=existing_checked
    )
    if store.is_scan(run_id):  # a scored scan: scored from streaming aggregates, flat in size
        from evals.scan_score import publish_scan, streamable

        scan_plan = store.plan(run_id, scan_cases=False)
        if streamable(store, run_id, scan_plan):
            card, files = publish_scan(store, run_id, scan_plan, folder, policy, checked)
            write_index(store)
            return Published(card, folder, files)
    plan = store.plan(run_id)
    run = store.run(run_id)
    card = build_scorecard(run, plan, policy)
    files = write_reports(card, plan, folder, run.results)
    files.append(write_scope(build_scope(card, run_fingerprint(run, plan)), folder))
    # Last: the manifest hashes every file above, so an edited report is detectable.
    files.append(write_manifest(store, run_id, plan, card, folder, files, policy, checked))
    # The store's run index (OUT/index.html), outside every run's verified report folder.
    write_index(store)
    return Published(card, folder, files)
