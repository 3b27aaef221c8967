"""The compliance manifest's records: what `evals.compliance` writes beside a run's reports and
`evals verify` reads back. Schema-versioned JSON; every field is checked again by `verify`."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError

from evals.errors import InputError, issues_from_validation
from evals.records import PluginVersion, Record
from evals.store import canonical_json

#: Version of the manifest's JSON; bump on any change an older reader could misread.
#: 2 added the decision policy's content (`decision_policy.policy`), from which `verify`
#: recomputes the gates, and `body_sha256`.
MANIFEST_VERSION = 2
MANIFEST_NAME = "manifest.json"
DISTRIBUTION = "supportgate"

VerifyStatus = Literal["intact", "tampered", "unverifiable"]


class Package(Record):
    name: str
    version: str


class GuardrailsEntry(Record):
    version: str = Field(description="registry version: the guardrails' names and versions")
    selected: list[str] | None = Field(description="the suite's choice; null: every registered")
    versions: dict[str, str] = Field(
        default_factory=dict,
        description="each guardrail that judged the run and its version (a hash of its code)",
    )


class PolicyBookEntry(Record):
    name: str
    version: str
    sha256: str = Field(description="sha256 of the policy text")


class CasesEntry(Record):
    count: int
    sha256: str = Field(description="sha256 of the canonical JSON of the plan's cases")
    version: str = Field(description="the short cases version the run records")


class DecisionPolicyEntry(Record):
    name: str
    version: str
    hash: str = Field(description="content hash, as cited by decisions and scopes")
    source: str
    policy: dict[str, Any] | None = Field(
        default=None,
        description="the policy's fields as decided with (absent in schema 1): `verify` "
        "recomputes its hash and the gates from it",
    )


class TargetEntry(Record):
    model: str
    api_base: str | None
    api_key_env: str | None = Field(description="name of the key's variable; never its value")
    params: dict[str, Any]
    system_prompt_sha256: str


class RunEntry(Record):
    id: str
    suite: str
    status: str
    started: str
    finished: str | None
    config_hash: str
    format_version: int


class ChainEntry(Record):
    header_sha256: str = Field(description="hash of the run header the first result chains to")
    results: int = Field(description="results stored, chained or not")
    chained: int = Field(description="results carrying a chain hash")
    head: str | None = Field(description="chain hash of the last result")


class FileEntry(Record):
    path: str = Field(description="relative to the manifest's folder when inside it")
    sha256: str
    size: int


class Manifest(Record):
    """Everything that produced a run and everything it produced, by content hash."""

    schema_version: int = MANIFEST_VERSION
    written: str
    written_by: Package
    package: Package = Field(description="the version that made the run")
    guardrails: GuardrailsEntry
    policy_books: dict[str, PolicyBookEntry]
    cases: CasesEntry
    decision_policy: DecisionPolicyEntry
    targets: dict[str, TargetEntry]
    judge: dict[str, Any] | None = Field(
        default=None,
        description="the LLM judge: model, parameters, prompt hash, calibration file hash and "
        "figures, and which checks gate (absent when the run had no judge)",
        exclude_if=lambda value: value is None,
    )
    run: RunEntry
    chain: ChainEntry
    plugins: dict[str, PluginVersion] = Field(
        default_factory=dict,
        description="the plugins loaded for the run, by 'GROUP:NAME': distribution and version, "
        "or a module file's path and source hash (absent before plugins were recorded)",
    )
    chain_at_write: VerifyStatus = Field(description="what verifying the chain said when written")
    gates_passed: bool
    files: list[FileEntry]
    body_sha256: str | None = Field(
        default=None,
        description="sha256 of the canonical JSON of every other field (absent in schema 1): "
        "an edit that does not recompute it is named as such",
    )


def body_sha256(manifest: Manifest) -> str:
    """The hash a manifest stores of itself: every field but `body_sha256`, canonical JSON."""
    # A manifest written before plugins were recorded has no `plugins` key: none is no key.
    exclude = {"body_sha256"} if manifest.plugins else {"body_sha256", "plugins"}
    body = manifest.model_dump(mode="json", exclude=exclude)
    return hashlib.sha256(canonical_json(body)).hexdigest()


class VerifyReport(Record):
    run_id: str
    status: VerifyStatus
    results: int
    chained: int
    manifest: str | None
    manifest_sha256: str | None
    problems: list[str] = Field(description="each alteration, deletion or insertion found")
    notes: list[str] = Field(description="what was and was not checked")

    @property
    def intact(self) -> bool:
        return self.status == "intact"

    def render(self) -> str:
        if self.status == "tampered":
            head = f"run {self.run_id}: TAMPERED: {len(self.problems)} problem(s) found"
        elif self.status == "unverifiable":
            head = f"run {self.run_id}: NOT VERIFIED: recorded before hash chaining"
        else:
            head = f"run {self.run_id}: INTACT: every check passed"
        lines = [head, *(f"  - {p}" for p in self.problems)]
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)


def read_manifest(path: Path) -> Manifest:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError.single(path, f"cannot read the manifest: {exc}") from None
    try:
        version = json.loads(text).get("schema_version", 0)
    except (ValueError, AttributeError):
        version = 0  # not a JSON object: validation names the problem
    if isinstance(version, int) and version > MANIFEST_VERSION:
        raise InputError.single(
            path,
            f"manifest schema {version} is newer than this version of supportgate reads "
            f"({MANIFEST_VERSION}); upgrade supportgate",
            field="schema_version",
        )
    try:
        return Manifest.model_validate_json(text)
    except ValidationError as exc:
        raise InputError(issues_from_validation(exc, file=path, record="manifest")) from None
