"""`verify`: a run's hash chain recomputed and, given its manifest, the store and the report
files compared with it; every difference named in plain language."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from pydantic import ValidationError

from evals import manifest_claims as claims
from evals.compliance_chain import ChainCheck, check_chain, short
from evals.compliance_evidence import (
    Evidence,
    cases_entry,
    file_sha256,
    store_evidence,
    stored_inputs,
)
from evals.errors import InputError
from evals.manifest import MANIFEST_NAME, Manifest, VerifyReport, read_manifest
from evals.records import RunPlan
from evals.store import ChainLink, RunStore


def _differences(path: str, manifest: object, now: object) -> Iterator[tuple[str, object, object]]:
    if isinstance(manifest, dict) and isinstance(now, dict):
        for key in sorted(set(manifest) | set(now), key=str):
            yield from _differences(f"{path}.{key}", manifest.get(key), now.get(key))
    elif manifest != now:
        yield path, manifest, now


_MEANING = {
    "package": "the package version that made the run",
    "guardrails": "the guardrails",
    "policy_books": "a policy book",
    "cases": "the cases",
    "targets": "a target's configuration",
    "judge": "the LLM judge or its calibration",
    "run": "the run record",
    "plugins": "a plugin",
}


def _compare(
    manifest: Manifest, evidence: Evidence, links: Callable[[], Iterable[ChainLink]]
) -> list[str]:
    """What changed in the store since the manifest was written, in plain language."""
    problems = []
    recorded, stored = manifest.model_dump(mode="json"), evidence.model_dump(mode="json")
    for section, meaning in _MEANING.items():
        then_now = recorded.get(section), stored.get(section)
        for path, then, now in _differences(section, *then_now):
            problems.append(
                f"{meaning} changed since the manifest was written ({path}: manifest "
                f"{short(then)}, store {short(now)})"
            )
    then, now = manifest.chain, evidence.chain
    if then.header_sha256 != now.header_sha256:
        problems.append(
            "the run header (suite, start time, config hash, versions, targets or plan) changed "
            "since the manifest was written"
        )
    if (then.head, then.results, then.chained) != (now.head, now.results, now.chained):
        chained = [x for x in links() if not x.unchained]  # read only when something changed
        heads = [x.chain for x in chained]
        if then.head is not None and then.head in heads and then.results < now.results:
            added = chained[heads.index(then.head) + 1 :]
            problems.append(
                f"{len(added)} result(s) were added after the manifest was written: "
                + "; ".join(x.label for x in added[:10])
            )
        else:
            problems.append(
                f"the results changed since the manifest was written: it records "
                f"{then.results} ({then.chained} chained) ending at chain head "
                f"{short(then.head)}, the store has {now.results} ({now.chained} chained) "
                f"ending at {short(now.head)}"
            )
    return problems


def _check_files(manifest: Manifest, folder: Path) -> list[str]:
    problems = []
    for entry in manifest.files:
        path = Path(entry.path)
        path = path if path.is_absolute() else folder / path
        if not path.is_file():
            problems.append(f"report file {entry.path} listed in the manifest is missing")
        elif file_sha256(path) != entry.sha256:
            problems.append(
                f"report file {entry.path} was changed after the manifest was written "
                f"(sha256 {short(entry.sha256)} in the manifest, now "
                f"{short(file_sha256(path))})"
            )
        elif path.stat().st_size != entry.size:
            problems.append(
                f"the size the manifest records for report file {entry.path} was changed "
                f"({entry.size}, the file has {path.stat().st_size} bytes)"
            )
    return problems + _unlisted(manifest, folder)


#: Unlisted entries of a report folder named one by one; more are counted.
UNLISTED_SHOWN = 20


def _unlisted(manifest: Manifest, folder: Path) -> list[str]:
    """Files (and folders) in the manifest's folder that the manifest does not list: a report
    dropped in beside the run's own would otherwise pass as part of the evidence."""
    listed = {(folder / entry.path).resolve() for entry in manifest.files}
    listed.add((folder / MANIFEST_NAME).resolve())
    extra: list[str] = []
    count = 0
    with os.scandir(folder) as entries:  # one level: reports are written flat
        for entry in entries:
            if Path(entry.path).resolve() in listed:
                continue
            count += 1
            if len(extra) < UNLISTED_SHOWN:
                extra.append(entry.name + ("/" if entry.is_dir() else ""))
    if not count:
        return []
    more = f" and {count - len(extra)} more" if count > len(extra) else ""
    return [
        f"{count} file(s) in the report folder {folder} are not listed in the manifest (added "
        f"after it was written, or left from another run): {', '.join(sorted(extra))}{more}"
    ]


def _recompute(store: RunStore, manifest: Manifest, plan: RunPlan) -> tuple[list[str], list[str]]:
    """The decision policy and gates_passed, recomputed from the store."""
    policy, (problems, notes) = claims.decision_policy(manifest.decision_policy, plan)
    if policy is None:
        return problems, notes
    try:
        plan = store.plan(manifest.run.id)  # with a scored scan's cases, which the gates read
        run = store.run(manifest.run.id)
    except ValueError as exc:  # a stored result edited into something that no longer parses
        reason = exc.errors()[0]["msg"] if isinstance(exc, ValidationError) else str(exc)
        problems.append(
            f"gates_passed cannot be recomputed: a stored result no longer parses ({reason})"
        )
    else:
        problems += claims.gates(manifest, run, plan, policy)
    return problems, notes


def store_differences(store: RunStore, run_id: str, manifest_path: Path) -> list[str]:
    """What the store says now that the manifest at `manifest_path` did not record (its
    header, versions, inputs and results; not the report files or the decision policy): what
    must be empty before that manifest is replaced, or the evidence of an edit goes with it."""
    manifest = read_manifest(manifest_path)
    header = store.run_header(run_id)
    versions, plan, problems = stored_inputs(store, header)
    if manifest.run.id != run_id:
        problems.append(f"{manifest_path} is the manifest of run '{manifest.run.id}'")
    elif versions is not None and plan is not None:
        walk = check_chain(header, store.iter_chain_links(run_id), plan)[3]
        evidence = store_evidence(
            header, versions, plan, walk, cases_entry(store, run_id, plan, versions)
        )
        problems += _compare(manifest, evidence, lambda: store.iter_chain_links(run_id))
    return problems


def verify(store: RunStore, run_id: str, manifest_path: Path | None = None) -> VerifyReport:
    """Recompute a run's hash chain and, given its manifest, compare the store and the report
    files with it. Raises InputError for an unknown run or an unreadable manifest (usage
    errors); everything found in the store or the files is a problem in the report."""
    return verify_chain(store, run_id, manifest_path)[0]


def verify_chain(
    store: RunStore, run_id: str, manifest_path: Path | None = None
) -> tuple[VerifyReport, ChainCheck]:
    """`verify`, and the chain check it made (what a manifest written next records, so a run
    of millions is walked once, not twice)."""
    header = store.run_header(run_id)
    manifest = read_manifest(manifest_path) if manifest_path is not None else None
    if manifest is not None and manifest.run.id != run_id:
        raise InputError.single(
            manifest_path or "",
            f"this manifest is for run '{manifest.run.id}', not '{run_id}'",
            field="run.id",
        )
    versions, plan, problems = stored_inputs(store, header)
    status, chain_problems, notes, walk = check_chain(header, store.iter_chain_links(run_id), plan)
    chain = ChainCheck(status, walk)
    problems += chain_problems
    problems += [
        f"findings of case '{c}', target '{t}', sample {s} remain but their result is gone "
        "(deleted)"
        for c, t, s in store.orphan_findings(run_id)
    ]
    manifest_sha = None
    if manifest is not None and manifest_path is not None:
        manifest_sha = file_sha256(manifest_path)
        if versions is not None and plan is not None:
            cases = cases_entry(store, run_id, plan, versions)
            evidence = store_evidence(header, versions, plan, walk, cases)
            problems += _compare(manifest, evidence, lambda: store.iter_chain_links(run_id))
            found = _recompute(store, manifest, plan)
            problems += found[0]
            notes += found[1]
        found = claims.bookkeeping(manifest, header, status)
        problems += found[0]
        notes += found[1]
        problems += _check_files(manifest, manifest_path.parent)
        notes.append(
            f"checked against {manifest_path} (sha256 {manifest_sha}); compare that hash with "
            "the copy you archived to rule out an edited manifest"
        )
    else:
        notes.append(
            "no manifest: checked the hash chain stored with the run only; an editor who "
            "recomputes the whole chain is caught only against the run's manifest"
        )
    chained = walk.chained
    if problems:
        status = "tampered"
    elif status == "intact":
        notes.insert(
            0,
            f"{chained} result(s) chained from the run header to head "
            f"{short(walk.last) if walk.results else '(no results yet)'}"
            + (
                f"; header, results, versions, policy books, cases, targets, decision policy, "
                f"gates and {len(manifest.files)} report file(s) match the manifest"
                if manifest is not None
                else ""
            ),
        )
    report = VerifyReport(
        run_id=run_id,
        status=status,
        results=walk.results,
        chained=chained,
        manifest=str(manifest_path) if manifest_path is not None else None,
        manifest_sha256=manifest_sha,
        problems=problems,
        notes=notes,
    )
    return report, chain
