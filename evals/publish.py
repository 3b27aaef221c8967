"""After a run: score it, decide, and write every report, the automation scope and (last) the
compliance manifest into `<output folder>/reports/<run id>/` (`evals verify` checks them).

One function serves `evals run`, `evals report` and the pytest plugin, so they write the same
files from the same scorecard.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from evals.compliance import write_manifest
from evals.decision_policy import DecisionPolicy
from evals.records import RunPlan
from evals.scope import build_scope, run_fingerprint, write_scope
from evals.scorecard import Scorecard, build_scorecard
from evals.store import RunStore


@dataclass(frozen=True)
class Published:
    card: Scorecard
    folder: Path
    files: list[Path]


def report_folder(plan: RunPlan, run_id: str) -> Path:
    return Path(plan.output_dir) / "reports" / run_id


def publish(
    store: RunStore,
    run_id: str,
    *,
    policy: DecisionPolicy | None = None,
    folder: Path | None = None,
) -> Published:
    from reports import write_reports

    plan = store.plan(run_id)
    run = store.run(run_id)
    card = build_scorecard(run, plan, policy)
    folder = folder or report_folder(plan, run_id)
    files = write_reports(card, plan, folder)
    files.append(write_scope(build_scope(card, run_fingerprint(run, plan)), folder))
    # Last: the manifest hashes every file above, so an edited report is detectable.
    files.append(write_manifest(store, run_id, plan, card, folder, files))
    return Published(card, folder, files)
