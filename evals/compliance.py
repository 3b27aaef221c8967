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

import hashlib
import json
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError

import evals
from evals import manifest_claims as claims
from evals.decision_policy import DecisionPolicy, labelled, plan_policy
from evals.errors import InputError
from evals.manifest import (
    DISTRIBUTION,
    MANIFEST_NAME,
    CasesEntry,
    ChainEntry,
    DecisionPolicyEntry,
    FileEntry,
    GuardrailsEntry,
    Manifest,
    Package,
    PolicyBookEntry,
    RunEntry,
    TargetEntry,
    VerifyReport,
    VerifyStatus,
    body_sha256,
    read_manifest,
)
from evals.records import PluginVersion, Record, RunPlan, Versions
from evals.scan import SCAN_MODEL
from evals.scorecard import Scorecard
from evals.store import CLOSED_STATUSES, ChainLink, RunHeader, RunStore, canonical_json

__all__ = [
    "MANIFEST_NAME",
    "Manifest",
    "RunTampered",
    "VerifyReport",
    "read_manifest",
    "store_differences",
    "verify",
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


# --- what the store says -------------------------------------------------------------------


def _sha256(data: str | bytes) -> str:
    return hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _short(value: object) -> str:
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value
    return text if len(text) <= 20 else text[:16] + "…"


class _Evidence(Record):
    """The manifest's sections that can be recomputed from the store at any time."""

    package: Package
    guardrails: GuardrailsEntry
    policy_books: dict[str, PolicyBookEntry]
    cases: CasesEntry
    targets: dict[str, TargetEntry]
    judge: dict[str, Any] | None = Field(default=None, exclude_if=lambda value: value is None)
    run: RunEntry
    chain: ChainEntry
    plugins: dict[str, PluginVersion]


def plugin_entries(versions: Versions) -> dict[str, PluginVersion]:
    """The run's plugins as the manifest lists them, by 'GROUP:NAME' (and ' (VALUE)' when two
    distributions use one entry point name)."""
    names = [f"{p.group}:{p.name}" for p in versions.plugins]
    return {
        name if names.count(name) == 1 else f"{name} ({p.value})": p
        for name, p in zip(names, versions.plugins, strict=True)
    }


@dataclass
class ChainWalk:
    """What one pass over a run's chain counts: results, chained results, the last chained
    link's hash and the last link's hash (streamed: a run of millions is never held whole)."""

    results: int = 0
    chained: int = 0
    head: str | None = None
    last: str | None = None


@dataclass(frozen=True)
class ChainCheck:
    """A run's chain as one pass found it: its status (the chain alone) and what it counted;
    what `write_manifest` records, taken from the check made before publishing."""

    status: VerifyStatus
    walk: ChainWalk


def _cases_entry(store: RunStore, run_id: str, plan: RunPlan, versions: Versions) -> CasesEntry:
    """The cases' count and hash: of the plan's cases, or of a scored scan's kept apart (the
    same bytes: canonical JSON of the list, hashed as it streams)."""
    if plan.cases or not store.is_scan(run_id):
        return CasesEntry(
            count=len(plan.cases),
            sha256=_sha256(canonical_json([c.model_dump(mode="json") for c in plan.cases])),
            version=versions.cases,
        )
    digest = hashlib.sha256(b"[")
    count = 0
    for body in store.scan_case_bodies(run_id):
        digest.update((b"," if count else b"") + canonical_json(json.loads(body)))
        count += 1
    digest.update(b"]")
    return CasesEntry(count=count, sha256=digest.hexdigest(), version=versions.cases)


def _evidence(
    header: RunHeader, versions: Versions, plan: RunPlan, walk: ChainWalk, cases: CasesEntry
) -> _Evidence:
    return _Evidence(
        package=Package(name=DISTRIBUTION, version=versions.package),
        guardrails=GuardrailsEntry(
            version=versions.guardrails,
            selected=plan.suite.guardrails,
            versions=versions.guardrail_versions,
        ),
        policy_books={
            book_id: PolicyBookEntry(
                name=book.name, version=book.version, sha256=_sha256(book.text)
            )
            for book_id, book in sorted(plan.policies.items())
        },
        cases=cases,
        targets={
            t.name: TargetEntry(
                model=t.model,
                api_base=t.api_base,
                api_key_env=t.api_key_env,
                params=t.params.model_dump(mode="json"),
                system_prompt_sha256=_sha256(t.system_prompt),
            )
            for t in plan.suite.targets
        },
        judge=versions.judge,
        run=RunEntry(
            id=header.run_id,
            suite=header.suite,
            status=header.status,
            started=header.started,
            finished=header.finished,
            config_hash=header.config_hash,
            format_version=header.format_version,
        ),
        chain=ChainEntry(
            header_sha256=header.hash,
            results=walk.results,
            chained=walk.chained,
            head=walk.head,
        ),
        plugins=plugin_entries(versions),
    )


def _stored(
    store: RunStore, header: RunHeader
) -> tuple[Versions | None, RunPlan | None, list[str]]:
    """The run's versions and plan, parsed; an edit that broke them is a problem, not a crash."""
    problems = []
    versions = plan = None
    try:
        versions = Versions.model_validate_json(header.versions)
    except ValidationError as exc:
        problems.append(
            f"the run's stored versions no longer parse (edited?): {exc.errors()[0]['msg']}"
        )
    try:
        plan = store.plan(header.run_id, scan_cases=False)
    except ValidationError as exc:
        problems.append(
            f"the run's stored plan no longer parses (edited?): {exc.errors()[0]['msg']}"
        )
    return versions, plan, problems


# --- the manifest --------------------------------------------------------------------------


def _file_entry(path: Path, folder: Path) -> FileEntry:
    if not path.is_file():
        raise InputError.single(path, "report file not found; it cannot be listed in the manifest")
    resolved, base = path.resolve(), folder.resolve()
    shown = (
        resolved.relative_to(base).as_posix() if resolved.is_relative_to(base) else str(resolved)
    )
    return FileEntry(path=shown, sha256=_file_sha256(path), size=path.stat().st_size)


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
    versions, _, problems = _stored(store, header)
    if versions is None:
        raise InputError.single(store.path, "; ".join(problems), record=run_id, field="versions")
    if chain is None:
        found = _check_chain(header, store.iter_chain_links(run_id), plan)
        chain = ChainCheck(found[0], found[3])
    chain_status, walk = chain.status, chain.walk
    evidence = _evidence(header, versions, plan, walk, _cases_entry(store, run_id, plan, versions))
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


# --- verification --------------------------------------------------------------------------


def _check_chain(
    header: RunHeader, links: Iterable[ChainLink], plan: RunPlan | None
) -> tuple[VerifyStatus, list[str], list[str], ChainWalk]:
    """Recompute the chain from the stored rows, in one pass: (status, problems, notes, what
    the pass counted). Holds the problems found, never the links."""
    legacy_problems: list[str] = []
    legacy = 0
    problems: list[str] = []
    notes: list[str] = []
    walk = ChainWalk()
    # The answers the plan expects: only a plan with a grid of cases asks for them.
    expecting = (
        plan is not None
        and header.status == "finished"
        and any(t.model != SCAN_MODEL for t in plan.suite.targets)
    )
    stored: set[tuple[str, str, object]] = set()
    head_at: int | None = None  # where the head the run recorded was met among chained links
    added: list[str] = []  # labels of the first links after it
    final: ChainLink | None = None

    expected_seq = 0
    before: ChainLink | None = None
    for link in links:
        walk.results += 1
        walk.last = link.chain
        if expecting:
            stored.add((link.case_id, link.target, link.sample))
        if link.unchained:
            legacy += 1
            if header.format_version >= 2:
                legacy_problems.append(
                    f"result ({link.label}) carries no chain hash although the run was recorded "
                    "with hash chaining: it was inserted, or its hash removed, outside supportgate"
                )
            continue
        walk.chained += 1
        walk.head = link.chain
        final = link
        if head_at is not None and len(added) < 10:
            added.append(link.label)
        if head_at is None and header.head is not None and link.chain == header.head:
            head_at = walk.chained
        label = f"result #{link.seq} ({link.label})"
        if link.seq is None or link.prev is None or link.chain is None:
            problems.append(f"{label} lacks part of its chain record (edited outside supportgate)")
        elif not link.intact:
            problems.append(
                f"{label} was altered after it was stored: it no longer matches its hash"
            )
        gap = link.seq is not None and link.seq > expected_seq
        taken = link.seq is not None and link.seq < expected_seq
        if gap:
            first, last = expected_seq, (link.seq or 0) - 1
            which = f"result #{first} was" if first == last else f"results #{first} to #{last} were"
            jump = f"jumps from #{first - 1} to" if first else "starts at"
            problems.append(f"{which} deleted: the chain {jump} #{link.seq}")
        elif taken and before is not None:
            problems.append(
                f"{label} was inserted: position #{link.seq} already belongs to result "
                f"#{before.seq} ({before.label})"
            )
        expected_prev = before.chain if before is not None else header.hash
        if link.intact and link.prev != expected_prev and not gap and not taken:
            if before is None:
                problems.append(
                    "the run header (suite, start time, config hash, versions, targets or plan) "
                    "was changed after the run started: the first result is chained to a "
                    "different header"
                )
            else:
                problems.append(
                    f"result #{before.seq} ({before.label}) was replaced after it was stored: "
                    f"the result after it was chained to a different version of it (altered "
                    "and its hash recomputed, or deleted and another inserted)"
                )
        expected_seq = max(expected_seq, (link.seq or 0) + 1)
        before = link
    if legacy and header.format_version < 2:
        notes.append(
            f"{legacy} result(s) were recorded before hash chaining (store format "
            f"{header.format_version}): nothing proves they are unaltered"
        )
    problems = legacy_problems + problems

    if header.head is not None and header.head != walk.head:
        if head_at is not None:
            if header.status in CLOSED_STATUSES:
                problems.append(
                    f"{walk.chained - head_at} result(s) were added after the run was "
                    f"{header.status}: " + "; ".join(added)
                )
        else:
            problems.append(
                f"the chain no longer reaches the head the run recorded when it stopped "
                f"({_short(header.head)}): "
                + (
                    f"the last result #{final.seq} ({final.label}) was altered and its hash "
                    "recomputed, or results after it were deleted"
                    if final is not None
                    else "every chained result was deleted"
                )
            )
    elif header.head is None and header.status in CLOSED_STATUSES and walk.chained:
        problems.append(f"the chain head the run recorded when it was {header.status} was removed")

    if expecting and plan is not None:
        scanned = {t.name for t in plan.suite.targets if t.model == SCAN_MODEL}
        missing = [
            f"case '{c}', target '{t}', sample {s}"
            for c, t, s in plan.expected_answers()
            # A scanned bot answered some conversations, not a grid of cases and samples:
            # its deletions are caught by the chain's positions and head alone.
            if t not in scanned and (c, t, s) not in stored
        ]
        if missing:
            problems.append(
                f"the run finished but {len(missing)} of its result(s) are missing (deleted): "
                + "; ".join(missing[:10])
            )
    if problems:
        return "tampered", problems, notes, walk
    return ("unverifiable" if legacy else "intact"), problems, notes, walk


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
    manifest: Manifest, evidence: _Evidence, links: Callable[[], Iterable[ChainLink]]
) -> list[str]:
    """What changed in the store since the manifest was written, in plain language."""
    problems = []
    recorded, stored = manifest.model_dump(mode="json"), evidence.model_dump(mode="json")
    for section, meaning in _MEANING.items():
        then_now = recorded.get(section), stored.get(section)
        for path, then, now in _differences(section, *then_now):
            problems.append(
                f"{meaning} changed since the manifest was written ({path}: manifest "
                f"{_short(then)}, store {_short(now)})"
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
                f"{_short(then.head)}, the store has {now.results} ({now.chained} chained) "
                f"ending at {_short(now.head)}"
            )
    return problems


def _check_files(manifest: Manifest, folder: Path) -> list[str]:
    problems = []
    for entry in manifest.files:
        path = Path(entry.path)
        path = path if path.is_absolute() else folder / path
        if not path.is_file():
            problems.append(f"report file {entry.path} listed in the manifest is missing")
        elif _file_sha256(path) != entry.sha256:
            problems.append(
                f"report file {entry.path} was changed after the manifest was written "
                f"(sha256 {_short(entry.sha256)} in the manifest, now "
                f"{_short(_file_sha256(path))})"
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
    versions, plan, problems = _stored(store, header)
    if manifest.run.id != run_id:
        problems.append(f"{manifest_path} is the manifest of run '{manifest.run.id}'")
    elif versions is not None and plan is not None:
        walk = _check_chain(header, store.iter_chain_links(run_id), plan)[3]
        evidence = _evidence(
            header, versions, plan, walk, _cases_entry(store, run_id, plan, versions)
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
    versions, plan, problems = _stored(store, header)
    status, chain_problems, notes, walk = _check_chain(header, store.iter_chain_links(run_id), plan)
    chain = ChainCheck(status, walk)
    problems += chain_problems
    problems += [
        f"findings of case '{c}', target '{t}', sample {s} remain but their result is gone "
        "(deleted)"
        for c, t, s in store.orphan_findings(run_id)
    ]
    manifest_sha = None
    if manifest is not None and manifest_path is not None:
        manifest_sha = _file_sha256(manifest_path)
        if versions is not None and plan is not None:
            cases = _cases_entry(store, run_id, plan, versions)
            evidence = _evidence(header, versions, plan, walk, cases)
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
            f"{_short(walk.last) if walk.results else '(no results yet)'}"
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
