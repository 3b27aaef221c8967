"""What the store says about a run, as the compliance manifest records it: the versions and
content hashes of the package, guardrails, policy books, cases, targets and plugins, the run
header and what the chain holds. Recomputed from the store at any time, so `verify` can compare
it with the manifest written when the run ended."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError

from evals.compliance_chain import ChainWalk
from evals.manifest import (
    DISTRIBUTION,
    CasesEntry,
    ChainEntry,
    GuardrailsEntry,
    Package,
    PolicyBookEntry,
    RunEntry,
    TargetEntry,
)
from evals.records import PluginVersion, Record, RunPlan, Versions
from evals.store import RunHeader, RunStore, canonical_json


def sha256_of(data: str | bytes) -> str:
    """The sha256 of a text (as UTF-8) or of bytes, in hex."""
    return hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()


def file_sha256(path: Path) -> str:
    """The sha256 of a file, read a block at a time."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class Evidence(Record):
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


def cases_entry(store: RunStore, run_id: str, plan: RunPlan, versions: Versions) -> CasesEntry:
    """The cases' count and hash: of the plan's cases, or of a scored scan's kept apart (the
    same bytes: canonical JSON of the list, hashed as it streams)."""
    if plan.cases or not store.is_scan(run_id):
        return CasesEntry(
            count=len(plan.cases),
            sha256=sha256_of(canonical_json([c.model_dump(mode="json") for c in plan.cases])),
            version=versions.cases,
        )
    digest = hashlib.sha256(b"[")
    count = 0
    for body in store.scan_case_bodies(run_id):
        digest.update((b"," if count else b"") + canonical_json(json.loads(body)))
        count += 1
    digest.update(b"]")
    return CasesEntry(count=count, sha256=digest.hexdigest(), version=versions.cases)


def store_evidence(
    header: RunHeader, versions: Versions, plan: RunPlan, walk: ChainWalk, cases: CasesEntry
) -> Evidence:
    return Evidence(
        package=Package(name=DISTRIBUTION, version=versions.package),
        guardrails=GuardrailsEntry(
            version=versions.guardrails,
            selected=plan.suite.guardrails,
            versions=versions.guardrail_versions,
        ),
        policy_books={
            book_id: PolicyBookEntry(
                name=book.name, version=book.version, sha256=sha256_of(book.text)
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
                system_prompt_sha256=sha256_of(t.system_prompt),
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


def stored_inputs(
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
